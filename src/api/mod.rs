//! The HTTP surface: Airflow's REST API under `/api/v2`, liveness and metrics.
//!
//! [`app`] builds the whole `Router` from an [`AppState`]: [`groups`] lists every route by
//! the access it needs (each capability module adds its reads and its writes to a group);
//! [`serve`] runs it on an already-bound listener until a shutdown future resolves. Handlers
//! parse, call `ops` (mutations) or the store (reads), and shape; they answer errors as
//! [`ApiError`].
//!
//! **Invariant:** only this module knows about HTTP and the API's JSON shapes; it reaches the
//! rest of the system through the handles in `AppState`. Every route belongs to a
//! [`routes::Group`] with an access policy; protected groups check it in a route layer.

mod admin;
mod assets;
mod auth;
mod backfills;
mod config;
mod connections;
mod dags;
mod error;
mod event_logs;
mod hitl;
pub mod identity;
mod jobs;
mod logs;
mod meta;
mod middleware;
mod openapi;
mod params;
#[cfg(test)]
mod policy_tests;
mod resources;
pub mod routes;
mod runs;
mod sse;
mod task_instances;
mod xcom_entries;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use middleware::HostPolicy;

use crate::auth::{Access, Role};
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
    /// Every mutation goes through here.
    pub ops: crate::ops::Ops,
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
        JsonBody::<T>::parse(value).map(JsonBody)
    }
}

impl<T: serde::de::DeserializeOwned> JsonBody<T> {
    /// A JSON value as `T`, or Airflow's 422 naming where it does not fit.
    pub fn parse(value: serde_json::Value) -> Result<T, ApiError> {
        serde_path_to_error::deserialize(value.clone()).map_err(|e| {
            let path = e.path().to_string();
            let loc: Vec<&str> = std::iter::once("body")
                .chain(path.split('.').filter(|s| !s.is_empty() && *s != "?"))
                .collect();
            ApiError::unprocessable("value_error", &loc, e.inner().to_string(), value)
        })
    }
}

/// Where a group of routes is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// Under `/api/v2`.
    Api,
    /// At the root (`/healthz`, `/auth/token`, `/ui/events`...).
    Root,
}

/// Every route of the server, in groups by the access they need and where they are mounted.
pub fn groups() -> Vec<(Mount, routes::Group)> {
    use routes::Group;
    vec![
        (
            Mount::Api,
            Group::public()
                .get("/version", meta::version)
                .get("/monitor/health", meta::health)
                .with(auth::api_routes),
        ),
        (
            Mount::Api,
            Group::role(Role::Viewer)
                .with(dags::reads)
                .with(runs::reads)
                .with(task_instances::reads)
                .with(logs::reads)
                .with(xcom_entries::reads)
                .with(backfills::reads)
                .with(hitl::reads)
                .with(jobs::reads)
                .with(admin::reads),
        ),
        (
            Mount::Api,
            Group::role(Role::User)
                .with(dags::writes)
                .with(runs::writes)
                .with(task_instances::writes)
                .with(xcom_entries::writes)
                .with(hitl::writes),
        ),
        (
            Mount::Api,
            Group::role(Role::Admin)
                .with(admin::admin)
                .with(backfills::writes)
                .with(dags::registrations),
        ),
        (
            Mount::Root,
            Group::public()
                .get("/healthz", meta::healthz)
                .get("/static/{*path}", meta::static_file)
                .with(auth::token_routes)
                .with(openapi::routes),
        ),
        (
            Mount::Root,
            Group::role(Role::Viewer)
                .get("/ui/events", sse::events)
                .get("/metrics", meta::metrics),
        ),
    ]
}

/// Every route with its full path and the access it needs.
pub fn route_table() -> Vec<routes::Route> {
    groups()
        .into_iter()
        .flat_map(|(mount, g)| {
            let prefix = if mount == Mount::Api { "/api/v2" } else { "" };
            g.table()
                .iter()
                .map(|r| routes::Route {
                    path: format!("{prefix}{}", r.path),
                    ..r.clone()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A group's router with its access check (and, for protected reads, the answer cache,
/// consulted only after the check).
fn mount(state: &AppState, g: routes::Group) -> Router<AppState> {
    let access = g.access();
    let (router, _) = g.into_parts();
    match access {
        Access::Public => router,
        Access::Role(min) => router
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                middleware::cached_reads,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), min),
                auth::require,
            )),
    }
}

/// The complete router: every route, then the cross-cutting layers.
pub fn app(state: AppState) -> Router {
    let hosts = Arc::new(HostPolicy::new(
        state.config.host,
        &state.config.allowed_hosts,
    ));
    let mut api = Router::new();
    let mut routes = Router::new();
    for (at, g) in groups() {
        let r = mount(&state, g);
        match at {
            Mount::Api => api = api.merge(r),
            Mount::Root => routes = routes.merge(r),
        }
    }
    let routes = routes
        .nest("/api/v2", api)
        .route_layer(axum::middleware::from_fn(openapi::probe));
    openapi::remember(routes.clone().with_state(state.clone()));
    routes
        .fallback(meta::fallback)
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
