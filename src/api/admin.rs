//! Admin routes of the Airflow API: variables, connections and pools (the generic resource
//! routes of `api::resources`), connection `test` and `defaults`, eventLogs, config and assets
//! (each in its own file), and the resources Lite does not have — plugins, providers —
//! answered empty in Airflow's shapes. Also the multi-column `order_by` those lists share.

use axum::Json;
use serde_json::{Value, json};

use super::params::Params;
use super::resources;
use super::routes::Group;
use super::{ApiError, config, connections, event_logs};
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

/// `GET /plugins`: Lite loads no Airflow plugins.
async fn plugins(p: Params) -> Result<Json<Value>, ApiError> {
    empty("plugins", &p)
}

/// `GET /plugins/importErrors`.
async fn plugin_import_errors() -> Json<Value> {
    Json(json!({"import_errors": [], "total_entries": 0}))
}

/// `GET /providers`: operators come from Lite's built-in shim, not installed providers.
async fn providers(p: Params) -> Result<Json<Value>, ApiError> {
    empty("providers", &p)
}
