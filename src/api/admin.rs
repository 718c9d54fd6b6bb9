//! Admin routes of the Airflow API: variables, connections and pools (the generic resource
//! routes of `api::resources`), connection `test` and `defaults`, eventLogs, config and assets
//! (each in its own file), and the resources Lite does not have — plugins, providers —
//! answered empty in Airflow's shapes. Also the multi-column `order_by` those lists share.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::params::Params;
use super::resources;
use super::routes::Group;
use super::{ApiError, AppState, config, connections, event_logs};
use crate::ops::resources::{Connections, Pools, Variables};
use crate::store::filter::Order;

/// The admin routes (relative to `/api/v2`): variables, connections and config need admin
/// rights even to read, as Airflow's `OP` rights; pools and assets are changed by admins.
pub fn admin(g: Group) -> Group {
    let g = resources::reads::<Variables>(g, "/variables", "{*variable_key}");
    let g = resources::writes::<Variables>(g, "/variables", "{*variable_key}");
    let g = resources::reads::<Connections>(g, "/connections", "{connection_id}");
    let g = resources::writes::<Connections>(g, "/connections", "{connection_id}");
    let g = resources::writes::<Pools>(g, "/pools", "{*pool_name}");
    g.post("/connections/test", connections::test)
        .post("/connections/defaults", connections::defaults)
        .get("/config", config::all)
        .get("/config/section/{section}/option/{option}", config::option)
        .with(super::assets::writes)
}

/// The admin-area routes any signed-in user may read: pools, the audit log, assets, and the
/// resources Lite does not have.
pub fn reads(g: Group) -> Group {
    resources::reads::<Pools>(g, "/pools", "{*pool_name}")
        .get("/eventLogs", event_logs::list)
        .get("/eventLogs/{event_log_id}", event_logs::get)
        .get("/plugins", plugins)
        .get("/plugins/importErrors", plugin_import_errors)
        .get("/providers", providers)
        .with(super::assets::reads)
}

/// `order_by` as Airflow's `SortParam` reads it: repeated (or comma-separated) names, each
/// optionally `-`-prefixed, mapped through `allowed` (API name → the store's field); `default`
/// when absent. 400 for a name not in `allowed`, as Airflow.
pub fn order_by(
    p: &Params,
    allowed: &[(&str, &'static str)],
    default: Order,
) -> Result<Order, ApiError> {
    let names: Vec<String> = p
        .all("order_by")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(default);
    }
    names
        .iter()
        .map(|v| {
            let (name, desc) = match v.strip_prefix('-') {
                Some(n) => (n, true),
                None => (v.as_str(), false),
            };
            allowed
                .iter()
                .find(|(api, _)| *api == name)
                .map(|(_, col)| (*col, desc))
                .ok_or_else(|| {
                    let names: Vec<&str> = allowed.iter().map(|(a, _)| *a).collect();
                    ApiError::bad_request(format!(
                        "Ordering with '{name}' is disallowed or the attribute does not exist on the model; use one of: {}",
                        names.join(", ")
                    ))
                })
        })
        .collect()
}

// --- resources Lite does not have --------------------------------------------------------

fn empty(list: &str, p: &Params) -> Result<Json<Value>, ApiError> {
    p.page()?;
    Ok(Json(json!({ list: [], "total_entries": 0 })))
}

/// The plugins of the DAG folder's `plugins/` folder (`dag::plugins`), loaded on the blocking
/// pool; listeners are logged as ignored.
async fn load_plugins(s: &AppState) -> Result<crate::dag::plugins::Report, ApiError> {
    let (python, home, dags) = (
        s.config.python.clone(),
        s.config.home.clone(),
        s.config.dags_folder.clone(),
    );
    let report = tokio::task::spawn_blocking(move || {
        let path = std::env::var("PATH").ok();
        let py = crate::python::resolve(&python, path.as_deref()).map_err(|e| e.to_string())?;
        let runtime = crate::dag::runtime::ensure(&home).map_err(|e| e.to_string())?;
        crate::dag::plugins::load(
            &py.executable,
            &runtime,
            &dags,
            std::time::Duration::from_secs(30),
        )
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(ApiError::internal)?;
    for w in &report.warnings {
        tracing::warn!("{w}");
    }
    Ok(report)
}

/// `GET /plugins`: the plugins of `plugins/` next to the DAG folder, in Airflow's
/// `PluginResponse` shape, sorted by name.
async fn plugins(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let report = load_plugins(&s).await?;
    let total = report.plugins.len();
    let plugins: Vec<Value> = report
        .plugins
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.max(0) as usize)
        .map(|mut v| {
            if let Some(m) = v.as_object_mut() {
                m.remove("priority_weight_strategies");
            }
            v
        })
        .collect();
    Ok(Json(json!({"plugins": plugins, "total_entries": total})))
}

/// `GET /plugins/importErrors`: the plugin files that failed to import (`source`, `error`).
async fn plugin_import_errors(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let report = load_plugins(&s).await?;
    let total = report.import_errors.len();
    Ok(Json(
        json!({"import_errors": report.import_errors, "total_entries": total}),
    ))
}

/// `GET /providers`: operators come from Lite's built-in shim, not installed providers.
async fn providers(p: Params) -> Result<Json<Value>, ApiError> {
    empty("providers", &p)
}
