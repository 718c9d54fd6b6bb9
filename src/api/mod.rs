//! The HTTP surface: Airflow's REST API under `/api/v2`, liveness and metrics.
//!
//! [`app`] builds the whole `Router` from an [`AppState`] (this file lists every route);
//! [`serve`] runs it on an already-bound listener until a shutdown future resolves. Handlers
//! live in one file per capability and answer errors as [`ApiError`].
//!
//! **Invariant:** only this module knows about HTTP and the API's JSON shapes; it reaches the
//! rest of the system through the handles in `AppState`.

mod actions;
mod admin;
mod auth;
mod backfills;
mod config;
mod connections;
mod dags;
mod error;
mod event_logs;
pub mod identity;
mod meta;
mod middleware;
mod openapi;
mod params;
mod pools;
mod runs;
mod sse;
mod variables;
mod xcom_entries;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use middleware::HostPolicy;

use crate::config::Config;
use crate::events::EventBus;
use crate::health::Heartbeats;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::xcom::XcomStore;

/// Largest request body accepted (413 beyond).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Longest a handler may take to start answering (408 beyond); streams are not cut.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Handles shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub xcom: XcomStore,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Heartbeats>,
    pub events: EventBus,
    /// Parse progress of the DAG processor (for health).
    pub progress: Arc<crate::dag_processor::Progress>,
    /// Wakes the scheduler after a trigger, clear or state change.
    pub scheduler: Option<Arc<crate::scheduler::Scheduler>>,
    /// Sign-in and token checks; `None` (or `config.no_auth`) serves everyone as admin.
    pub auth: Option<Arc<crate::auth::Auth>>,
    /// Turns `true` when the server is stopping (ends SSE streams).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Answers of the hot list reads, valid while the store's write generation holds.
    pub reads: Arc<middleware::ReadCache>,
}

/// A JSON body whose rejection is Airflow's 422 `{"detail": [...]}` instead of axum's text.
pub struct JsonBody<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let bytes = <axum::body::Bytes as axum::extract::FromRequest<S>>::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::unprocessable(
                "json_invalid",
                &["body", &e.column().to_string()],
                format!("JSON decode error: {e}"),
                serde_json::Value::String(
                    String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                ),
            )
        })?;
        let path_to_error = serde_path_to_error::deserialize(value.clone());
        path_to_error.map(JsonBody).map_err(|e| {
            let path = e.path().to_string();
            let loc: Vec<&str> = std::iter::once("body")
                .chain(path.split('.').filter(|s| !s.is_empty() && *s != "?"))
                .collect();
            ApiError::unprocessable("value_error", &loc, e.inner().to_string(), value)
        })
    }
}

/// The complete router: every route, then the cross-cutting layers.
pub fn app(state: AppState) -> Router {
    let hosts = Arc::new(HostPolicy::new(
        state.config.host,
        &state.config.allowed_hosts,
    ));
    let api = Router::new()
        .route("/version", get(meta::version))
        .route("/monitor/health", get(meta::health))
        .route("/dags", get(dags::list))
        .route("/dags/{dag_id}", get(dags::get).patch(dags::patch))
        .route("/dags/{dag_id}/details", get(dags::details))
        .route("/dags/{dag_id}/tasks", get(dags::tasks))
        .route("/dags/{dag_id}/tasks/{task_id}", get(dags::task))
        .route("/dags/{dag_id}/dagVersions", get(dags::versions))
        .route(
            "/dags/{dag_id}/dagVersions/{version_number}",
            get(dags::version),
        )
        .route(
            "/dags/{dag_id}/dagRuns",
            get(runs::list).post(runs::trigger),
        )
        .route(
            "/dags/{dag_id}/dagRuns/{dag_run_id}",
            get(runs::get)
                .patch(actions::patch_run)
                .delete(actions::delete_run),
        )
        .route(
            "/dags/{dag_id}/dagRuns/{dag_run_id}/clear",
            axum::routing::post(actions::clear_run),
        )
        .route(
            "/dags/{dag_id}/clearTaskInstances",
            axum::routing::post(actions::clear_task_instances),
        )
        .route(
            "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/dry_run",
            axum::routing::patch(actions::patch_ti_dry_run),
        )
        .route(
            "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances",
            get(runs::task_instances),
        )
        .route(
            "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}",
            get(runs::task_instance).patch(actions::patch_ti),
        )
        .route(
            "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}",
            get(runs::logs),
        )
        .route("/dagSources/{dag_id}", get(dags::source))
        .route("/importErrors", get(dags::import_errors))
        .route("/importErrors/{import_error_id}", get(dags::import_error))
        .merge(auth::api_routes())
        .merge(admin::routes())
        .merge(runs::routes())
        .merge(dags::routes())
        .merge(xcom_entries::routes())
        .merge(backfills::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::cached_reads,
        ));
    let routes = Router::new()
        .nest("/api/v2", api)
        .route("/ui/events", get(sse::events))
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .route("/static/{*path}", get(meta::static_file))
        .merge(auth::token_routes())
        .merge(openapi::routes())
        .route_layer(axum::middleware::from_fn(openapi::probe));
    openapi::remember(routes.clone().with_state(state.clone()));
    routes
        .fallback(meta::fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::record_metrics,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|m| m.as_str().to_owned());
                    tracing::debug_span!("http", method = %req.method(), uri = %req.uri(), route)
                }))
                .layer(axum::middleware::from_fn_with_state(
                    hosts,
                    middleware::host_guard,
                ))
                .layer(CompressionLayer::new().gzip(true))
                .layer(axum::middleware::from_fn(middleware::json_errors))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                ))
                .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES)),
        )
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then gives in-flight requests up to
/// `grace` to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (fired_tx, mut fired_rx) = tokio::sync::watch::channel(false);
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = fired_tx.send(true);
    });
    let deadline = async move {
        let _ = fired_rx.wait_for(|f| *f).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r,
        _ = deadline => {
            tracing::warn!("in-flight requests did not finish within {grace:?}; closing them");
            Ok(())
        }
    }
}
