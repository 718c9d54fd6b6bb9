//! Admin routes of the Airflow API: variables, connections, pools, eventLogs and config (each
//! in its own file), and the resources Lite does not have — plugins, providers, assets —
//! answered empty (or 404 by id) in Airflow's shapes. Also the pieces those files share:
//! multi-column `order_by`, bulk bodies and their results, secrets errors, 422 helpers.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::params::Params;
use super::runs::path_int;
use super::{ApiError, AppState, config, connections, event_logs, pools, variables};
use crate::secrets::{Cipher, SecretsError};
use crate::store::admin::Order;

/// Every admin route (relative to `/api/v2`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/variables",
            get(variables::list)
                .post(variables::create)
                .patch(variables::bulk),
        )
        .route(
            "/variables/{*variable_key}",
            get(variables::get)
                .patch(variables::patch)
                .delete(variables::delete),
        )
        .route(
            "/connections",
            get(connections::list)
                .post(connections::create)
                .patch(connections::bulk),
        )
        .route("/connections/test", post(connections::test))
        .route("/connections/defaults", post(connections::defaults))
        .route(
            "/connections/{connection_id}",
            get(connections::get)
                .patch(connections::patch)
                .delete(connections::delete),
        )
        .route(
            "/pools",
            get(pools::list).post(pools::create).patch(pools::bulk),
        )
        .route(
            "/pools/{*pool_name}",
            get(pools::get).patch(pools::patch).delete(pools::delete),
        )
        .route("/eventLogs", get(event_logs::list))
        .route("/eventLogs/{event_log_id}", get(event_logs::get))
        .route("/config", get(config::all))
        .route(
            "/config/section/{section}/option/{option}",
            get(config::option),
        )
        .route("/plugins", get(plugins))
        .route("/plugins/importErrors", get(plugin_import_errors))
        .route("/providers", get(providers))
        .route("/assets", get(assets))
        .route("/assets/aliases", get(asset_aliases))
        .route("/assets/aliases/{asset_alias_id}", get(asset_alias))
        .route("/assets/events", get(asset_events).post(create_asset_event))
        .route("/assets/{asset_id}", get(asset))
        .route("/assets/{asset_id}/materialize", post(materialize_asset))
        .route(
            "/assets/{asset_id}/queuedEvents",
            get(asset_queued_events).delete(asset_queued_events),
        )
        .route(
            "/dags/{dag_id}/assets/queuedEvents",
            get(dag_queued_events).delete(delete_dag_queued_events),
        )
        .route(
            "/dags/{dag_id}/assets/{asset_id}/queuedEvents",
            get(dag_asset_queued_event).delete(dag_asset_queued_event),
        )
}

// --- shared helpers --------------------------------------------------------------------

/// `order_by` as Airflow's `SortParam` reads it: repeated (or comma-separated) names, each
/// optionally `-`-prefixed, mapped through `allowed` (API name → SQL column); `default` when
/// absent. 400 for a name not in `allowed`, as Airflow.
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

/// The home's cipher, or a 500 that says what is wrong with the key (never the key).
pub fn cipher(s: &AppState) -> Result<Arc<Cipher>, ApiError> {
    crate::secrets::for_home(&s.config.home).map_err(secrets_error)
}

/// A key or decryption failure: a server-side problem, answered 500 with its explanation
/// (it names the key's source and the value, never secret material) and logged.
pub fn secrets_error(e: SecretsError) -> ApiError {
    tracing::error!(error = %e, "secrets");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// A FastAPI-style 422 for one body field.
pub fn invalid(field: &str, kind: &str, msg: impl Into<String>, input: Value) -> ApiError {
    ApiError::unprocessable(kind, &["body", field], msg, input)
}

/// Rejects a non-null `team_name`: Lite has no multi-team mode (Airflow's message).
pub fn no_team(team_name: &Option<Option<String>>) -> Result<(), ApiError> {
    match team_name {
        Some(Some(t)) => Err(invalid(
            "team_name",
            "value_error",
            "Value error, team_name cannot be set when multi_team mode is disabled. Please contact your administrator.",
            json!(t),
        )),
        _ => Ok(()),
    }
}

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`, a value →
/// `Some(Some(v))`, so PATCH can tell "not sent" from "set to null".
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Which fields a PATCH applies: those sent in the body, narrowed to `update_mask` if given.
pub struct Mask(Option<Vec<String>>);

impl Mask {
    pub fn from_params(p: &Params) -> Mask {
        let m: Vec<String> = p
            .all("update_mask")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Mask((!m.is_empty()).then_some(m))
    }

    pub fn from_list(m: Option<Vec<String>>) -> Mask {
        Mask(m.filter(|m| !m.is_empty()))
    }

    /// Whether `field` is applied, given whether the body sent it.
    pub fn wants(&self, field: &str, sent: bool) -> bool {
        sent && self.0.as_ref().is_none_or(|m| m.iter().any(|f| f == field))
    }
}

/// A set of ids as Python prints one (`{'a', 'b'}`), for Airflow's bulk error messages.
pub fn py_set(ids: &BTreeSet<String>) -> String {
    let items: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
    format!("{{{}}}", items.join(", "))
}

/// Airflow's `action_on_existence` for bulk creates.
#[derive(Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum OnExistence {
    #[default]
    Fail,
    Skip,
    Overwrite,
}

/// Airflow's `action_on_non_existence` for bulk updates and deletes.
#[derive(Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum OnMissing {
    #[default]
    Fail,
    Skip,
}

/// `BulkBody[T]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody<T> {
    pub actions: Vec<BulkAction<T>>,
}

/// One bulk action.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum BulkAction<T> {
    Create {
        entities: Vec<T>,
        #[serde(default)]
        action_on_existence: OnExistence,
    },
    Update {
        entities: Vec<T>,
        #[serde(default)]
        update_mask: Option<Vec<String>>,
        #[serde(default)]
        action_on_non_existence: OnMissing,
    },
    Delete {
        entities: Vec<IdOr<T>>,
        #[serde(default)]
        action_on_non_existence: OnMissing,
    },
}

/// A bulk delete names an entity by id or by the whole body.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum IdOr<T> {
    Id(String),
    Entity(T),
}

/// One action's result: `{"success": [...], "errors": [...]}`.
#[derive(Default)]
pub struct BulkResult {
    pub success: Vec<String>,
    pub errors: Vec<Value>,
}

impl BulkResult {
    pub fn error(&mut self, e: &ApiError) {
        let detail = match &e.detail {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.errors
            .push(json!({"error": detail, "status_code": e.status.as_u16()}));
    }
}

/// The `BulkResponse`: a key per action kind, `null` for kinds not requested.
pub fn bulk_json(results: [Option<BulkResult>; 3]) -> Json<Value> {
    let [c, u, d] = results.map(|r| {
        r.map(|r| json!({"success": r.success, "errors": r.errors}))
            .unwrap_or(Value::Null)
    });
    Json(json!({"create": c, "update": u, "delete": d}))
}

/// How an entity type takes part in a bulk request; all calls run inside one transaction.
pub trait BulkEntity: Sized {
    /// The id of an entity body.
    fn id(&self) -> &str;
    /// Airflow's plural phrase for error messages, e.g. "variables with these keys".
    const WHAT: &'static str;
    fn exists(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<bool, ApiError>;
    fn create(&self, tx: &rusqlite::Transaction<'_>, c: &Cipher) -> Result<(), ApiError>;
    fn update(
        &self,
        tx: &rusqlite::Transaction<'_>,
        c: &Cipher,
        mask: &Mask,
    ) -> Result<(), ApiError>;
    fn delete(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<(), ApiError>;
}

/// Runs a bulk body in one transaction: per action, Airflow's existence rules, then each
/// entity; an action's failure is reported in its result and does not stop the others.
pub fn run_bulk<T: BulkEntity>(
    tx: &rusqlite::Transaction<'_>,
    cipher: &Cipher,
    body: BulkBody<T>,
) -> Result<[Option<BulkResult>; 3], ApiError> {
    let mut out: [Option<BulkResult>; 3] = [None, None, None];
    for action in body.actions {
        let (slot, ids): (usize, Vec<String>) = match &action {
            BulkAction::Create { entities, .. } => {
                (0, entities.iter().map(|e| e.id().to_string()).collect())
            }
            BulkAction::Update { entities, .. } => {
                (1, entities.iter().map(|e| e.id().to_string()).collect())
            }
            BulkAction::Delete { entities, .. } => (
                2,
                entities
                    .iter()
                    .map(|e| match e {
                        IdOr::Id(s) => s.clone(),
                        IdOr::Entity(e) => e.id().to_string(),
                    })
                    .collect(),
            ),
        };
        let mut existing = BTreeSet::new();
        let mut missing = BTreeSet::new();
        for id in &ids {
            if T::exists(tx, id)? {
                existing.insert(id.clone());
            } else {
                missing.insert(id.clone());
            }
        }
        let r = out[slot].get_or_insert_with(BulkResult::default);
        match action {
            BulkAction::Create {
                entities,
                action_on_existence,
            } => {
                if action_on_existence == OnExistence::Fail && !existing.is_empty() {
                    r.error(&ApiError::conflict(format!(
                        "The {} {} already exist.",
                        T::WHAT,
                        py_set(&existing)
                    )));
                    continue;
                }
                for e in entities {
                    if action_on_existence == OnExistence::Skip && existing.contains(e.id()) {
                        continue;
                    }
                    match e.create(tx, cipher) {
                        Ok(()) => r.success.push(e.id().to_string()),
                        Err(err) => r.error(&err),
                    }
                }
            }
            BulkAction::Update {
                entities,
                update_mask,
                action_on_non_existence,
            } => {
                if action_on_non_existence == OnMissing::Fail && !missing.is_empty() {
                    r.error(&ApiError::not_found(format!(
                        "The {} {} were not found.",
                        T::WHAT,
                        py_set(&missing)
                    )));
                    continue;
                }
                let mask = Mask::from_list(update_mask);
                for e in entities.iter().filter(|e| existing.contains(e.id())) {
                    match e.update(tx, cipher, &mask) {
                        Ok(()) => r.success.push(e.id().to_string()),
                        Err(err) => r.error(&err),
                    }
                }
            }
            BulkAction::Delete {
                action_on_non_existence,
                ..
            } => {
                if action_on_non_existence == OnMissing::Fail && !missing.is_empty() {
                    r.error(&ApiError::not_found(format!(
                        "The {} {} were not found.",
                        T::WHAT,
                        py_set(&missing)
                    )));
                    continue;
                }
                for id in ids.iter().filter(|i| existing.contains(*i)) {
                    match T::delete(tx, id) {
                        Ok(()) => r.success.push(id.clone()),
                        Err(err) => r.error(&err),
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A bulk `PATCH` of `T`: parse, run in one transaction, record `event` in the audit log
/// (the body masked `how`), answer the `BulkResponse`.
pub async fn bulk<T>(
    s: &AppState,
    identity: &super::identity::Identity,
    raw: Value,
    event: &str,
    how: crate::audit::Masking,
) -> Result<Json<Value>, ApiError>
where
    T: BulkEntity + serde::de::DeserializeOwned + Send + 'static,
{
    let body: BulkBody<T> = typed(&raw)?;
    let c = cipher(s)?;
    let results = write_api(s, move |tx| run_bulk(tx, &c, body)).await?;
    let extra = audit_extra("PATCH", Some(&raw), json!({}), how);
    crate::audit::record(
        &s.store,
        identity,
        crate::audit::Entry::new(event).extra(extra),
    )
    .await;
    Ok(bulk_json(results))
}

/// Runs `f` in one write transaction and carries its `ApiError` out. The transaction commits
/// whatever `f` wrote, so `f` validates before it writes (bulk requests keep the entities that
/// succeeded, as Airflow does).
pub async fn write_api<T: Send + 'static>(
    s: &AppState,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    s.store.write(move |tx| Ok(f(tx))).await?
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

/// `GET /assets`: Lite has no assets yet.
async fn assets(p: Params) -> Result<Json<Value>, ApiError> {
    empty("assets", &p)
}

async fn asset_aliases(p: Params) -> Result<Json<Value>, ApiError> {
    empty("asset_aliases", &p)
}

async fn asset_events(p: Params) -> Result<Json<Value>, ApiError> {
    empty("asset_events", &p)
}

async fn asset_alias(Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = path_int("asset_alias_id", &id)?;
    Err(ApiError::not_found(format!(
        "The Asset Alias with ID: `{id}` was not found"
    )))
}

async fn asset(Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = path_int("asset_id", &id)?;
    Err(ApiError::not_found(format!(
        "The Asset with ID: `{id}` was not found"
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateAssetEvent {
    asset_id: i64,
    #[serde(default)]
    #[allow(dead_code)]
    partition_key: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    extra: Option<serde_json::Map<String, Value>>,
}

async fn create_asset_event(
    super::JsonBody(body): super::JsonBody<CreateAssetEvent>,
) -> Result<Json<Value>, ApiError> {
    Err(ApiError::not_found(format!(
        "Asset with ID: `{}` was not found",
        body.asset_id
    )))
}

async fn materialize_asset(Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = path_int("asset_id", &id)?;
    Err(ApiError::not_found(format!(
        "Asset with ID: `{id}` was not found"
    )))
}

async fn asset_queued_events(Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = path_int("asset_id", &id)?;
    Err(ApiError::not_found(format!(
        "Queue event with asset_id: `{id}` was not found"
    )))
}

/// `GET /dags/{dag_id}/assets/queuedEvents`: no assets, so nothing is queued.
async fn dag_queued_events() -> Json<Value> {
    Json(json!({"queued_events": [], "total_entries": 0}))
}

async fn delete_dag_queued_events(Path(dag_id): Path<String>) -> Result<Json<Value>, ApiError> {
    Err(ApiError::not_found(format!(
        "Queue event with dag_id: `{dag_id}` was not found"
    )))
}

async fn dag_asset_queued_event(
    Path((dag_id, asset_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let asset_id = path_int("asset_id", &asset_id)?;
    Err(ApiError::not_found(format!(
        "Queued event with dag_id: `{dag_id}` and asset_id: `{asset_id}` was not found"
    )))
}

/// A JSON value as `T`, with `JsonBody`'s 422 on failure (for handlers that also need the raw
/// body, e.g. to record it masked in the audit log).
pub fn typed<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let path = e.path().to_string();
        let loc: Vec<&str> = std::iter::once("body")
            .chain(path.split('.').filter(|s| !s.is_empty() && *s != "?"))
            .collect();
        ApiError::unprocessable("value_error", &loc, e.inner().to_string(), v.clone())
    })
}

/// The audit `extra` Airflow records for an admin action: the masked body when there is
/// one, else the path parameters, and the HTTP method.
pub fn audit_extra(
    method: &str,
    body: Option<&Value>,
    path: Value,
    how: crate::audit::Masking,
) -> Value {
    let mut extra = match body {
        Some(b) => crate::audit::masked_body(b, how),
        None => path,
    };
    if let Value::Object(m) = &mut extra {
        m.insert("method".into(), json!(method));
    }
    extra
}
