//! Server metadata routes: `/api/v2/version`, `/api/v2/monitor/health`, `/healthz`, `/metrics`,
//! and the JSON 404 for unknown routes.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::SecondsFormat;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

use super::{ApiError, AppState};
use crate::health::Component;

/// `GET /api/v2/version`: Airflow's shape. `version` is the Airflow API version Lite speaks
/// (clients compare it); `git_version` names the Leoflow build.
pub async fn version() -> Json<Value> {
    Json(json!({
        "version": crate::AIRFLOW_COMPAT_VERSION,
        "git_version": format!("leoflow-lite-{}", crate::VERSION),
    }))
}

/// `GET /api/v2/monitor/health`: Airflow's shape, one entry per component.
pub async fn health(State(state): State<AppState>) -> Json<Value> {
    let store = state.store.clone();
    let db_ok = tokio::task::spawn_blocking(move || store.ping().is_ok())
        .await
        .unwrap_or(false);
    let beat = |c: Component, field: &str| {
        let mut v = json!({ "status": state.health.status(c) });
        v[field] = json!(
            state
                .health
                .last(c)
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, false))
        );
        v
    };
    let mut processor = beat(Component::DagProcessor, "latest_dag_processor_heartbeat");
    let p = &state.progress;
    processor["parse_progress"] = json!({
        "files": p.files.load(Ordering::Relaxed),
        "parsed": p.parsed.load(Ordering::Relaxed),
        "initial_scan_done": p.initial_scan_done.load(Ordering::Relaxed),
        "parses": p.parses_total.load(Ordering::Relaxed),
    });
    Json(json!({
        "metadatabase": { "status": if db_ok { "healthy" } else { "unhealthy" } },
        "scheduler": beat(Component::Scheduler, "latest_scheduler_heartbeat"),
        "triggerer": beat(Component::Triggerer, "latest_triggerer_heartbeat"),
        "dag_processor": processor,
    }))
}

/// `GET /healthz`: liveness only; answers while the process serves HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// Fallback: UI page URLs get the UI's `index.html`; anything else a FastAPI-style 404.
pub async fn fallback(
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if method == axum::http::Method::GET
        && crate::ui::is_page(uri.path())
        && let Some(r) = crate::ui::asset("index.html", &headers)
    {
        return r;
    }
    ApiError::new(StatusCode::NOT_FOUND, "Not Found").into_response()
}

/// `GET /static/{*path}`: an embedded UI file.
pub async fn static_file(
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    crate::ui::asset(&path, &headers)
        .unwrap_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Not Found").into_response())
}
