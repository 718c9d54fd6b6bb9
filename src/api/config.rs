//! `/api/v2/config` and `/config/section/{section}/option/{option}`: Lite's effective settings
//! mapped onto Airflow's sections (`core.dags_folder`, `api.port`...) plus a `leoflow` section,
//! as JSON or as `text/plain` INI. Read-only; secrets (`secret_key`, the encryption key, the
//! database URL) are always `< hidden >`, never their value.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::params::Params;
use super::{ApiError, AppState};
use crate::config::{Config, LogFormat};

/// What Airflow shows instead of a sensitive setting.
const HIDDEN: &str = "< hidden >";

type Sections = Vec<(&'static str, Vec<(&'static str, String)>)>;

fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.into()
}

/// The effective configuration in Airflow's sections; secrets are `< hidden >` here already.
fn sections(c: &Config) -> Sections {
    let home = |p: &str| c.home.join(p).display().to_string();
    vec![
        (
            "core",
            vec![
                ("dags_folder", c.dags_folder.display().to_string()),
                ("default_timezone", "utc".into()),
                ("executor", c.executor.as_str().into()),
                ("parallelism", c.parallelism.to_string()),
                ("max_active_tasks_per_dag", "16".into()),
                (
                    "dags_are_paused_at_creation",
                    py_bool(c.dags_paused_at_creation),
                ),
                ("max_active_runs_per_dag", "16".into()),
                ("load_examples", "False".into()),
                ("fernet_key", HIDDEN.into()),
                (
                    "dagbag_import_timeout",
                    format!("{:.1}", c.parse_timeout as f64),
                ),
                ("hide_sensitive_var_conn_fields", "True".into()),
                ("default_pool_task_slot_count", "128".into()),
                ("test_connection", "Enabled".into()),
                ("multi_team", "False".into()),
            ],
        ),
        ("database", vec![("sql_alchemy_conn", HIDDEN.into())]),
        (
            "logging",
            vec![
                ("base_log_folder", home("logs")),
                ("logging_level", c.log_level.to_ascii_uppercase()),
            ],
        ),
        (
            "api",
            vec![
                ("base_url", format!("http://{}:{}", c.host, c.port)),
                ("host", c.host.to_string()),
                ("port", c.port.to_string()),
                ("secret_key", HIDDEN.into()),
                ("expose_config", "True".into()),
                ("maximum_page_limit", "100".into()),
                ("fallback_page_limit", "50".into()),
            ],
        ),
        (
            "dag_processor",
            vec![
                ("dag_file_processor_timeout", c.parse_timeout.to_string()),
                ("parsing_processes", c.parse_workers.to_string()),
                ("refresh_interval", "30".into()),
            ],
        ),
        (
            "leoflow",
            vec![
                ("home", c.home.display().to_string()),
                ("python", c.python.display().to_string()),
                (
                    "log_format",
                    match c.log_format {
                        LogFormat::Text => "text",
                        LogFormat::Json => "json",
                    }
                    .into(),
                ),
                (
                    "watcher",
                    if c.watcher_poll { "poll" } else { "auto" }.into(),
                ),
                ("allowed_hosts", c.allowed_hosts.join(",")),
                ("no_auth", py_bool(c.no_auth)),
                ("xcom_max_bytes", c.xcom_max_bytes.to_string()),
                ("encryption_key", HIDDEN.into()),
            ],
        ),
    ]
}

/// Whether the client wants text (Airflow's `Accept` rule: JSON for `*/*` and JSON, text for
/// `text/plain`, 406 otherwise).
fn wants_text(h: &HeaderMap) -> Result<bool, ApiError> {
    let accept = h
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    if accept.starts_with("*/*") || accept.starts_with("application/json") {
        Ok(false)
    } else if accept.starts_with("text/plain") {
        Ok(true)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            format!("Only application/json or text/plain is supported, not Accept: {accept}"),
        ))
    }
}

fn answer(s: Sections, text: bool) -> Response {
    if text {
        let body: Vec<String> = s
            .iter()
            .map(|(name, opts)| {
                let lines: String = opts.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
                format!("[{name}]\n{lines}")
            })
            .collect();
        return (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body.join("\n"),
        )
            .into_response();
    }
    let sections: Vec<_> = s
        .iter()
        .map(|(name, opts)| {
            json!({
                "name": name,
                "options": opts.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "sections": sections })).into_response()
}

/// `GET /config` (optionally `?section=`).
pub async fn all(State(s): State<AppState>, p: Params, h: HeaderMap) -> Result<Response, ApiError> {
    let text = wants_text(&h)?;
    let mut all = sections(&s.config);
    if let Some(section) = p.get("section").filter(|v| !v.is_empty()) {
        all.retain(|(name, _)| *name == section);
        if all.is_empty() {
            return Err(ApiError::not_found(format!("Section {section} not found.")));
        }
    }
    Ok(answer(all, text))
}

/// `GET /config/section/{section}/option/{option}`.
pub async fn option(
    State(s): State<AppState>,
    Path((section, option)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    let text = wants_text(&h)?;
    let found = sections(&s.config)
        .into_iter()
        .find(|(name, _)| *name == section)
        .and_then(|(name, opts)| {
            opts.into_iter()
                .find(|(k, _)| *k == option)
                .map(|o| (name, vec![o]))
        })
        .ok_or_else(|| ApiError::not_found(format!("Option [{section}/{option}] not found.")))?;
    Ok(answer(vec![found], text))
}
