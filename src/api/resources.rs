//! The admin resources' routes — `/variables`, `/connections`, `/pools` — as one set of
//! generic handlers (list, get, create, patch, delete, bulk) over `ops::resources::Resource`,
//! plus each kind's JSON shape ([`Shape`]): secrets masked as Airflow 3.2 answers them
//! (a sensitive variable's value and any password as `***`, sensitive keys inside JSON masked).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::admin::order_by;
use super::params::{Filter, Params};
use super::routes::Group;
use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::ops::resources::{
    self as res, BulkResults, Connections, Mask, Pools, Resource, Variables,
};
use crate::secrets::{Cipher, MASK, is_sensitive, python_json, redact};
use crate::store::admin::{ConnectionRow, PoolRow, VariableRow};

/// How a resource kind is listed and shown.
pub trait Shape: Resource {
    /// The list's key in the collection answer (`variables`...).
    const LIST: &'static str;
    /// `order_by` names → the store's fields, and the default order's field.
    const ORDER: &'static [(&'static str, &'static str)];
    const DEFAULT_ORDER: &'static str;
    /// The `*_pattern` parameter's name and the field it matches.
    const PATTERN: (&'static str, &'static str);
    fn json(row: &Self::Row, c: &Cipher) -> Result<Value, ApiError>;
}

fn cipher(s: &AppState) -> Result<std::sync::Arc<Cipher>, ApiError> {
    Ok(res::cipher(&s.ops)?)
}

/// `GET /{resources}`: paged, `order_by`, the id pattern.
pub async fn list<R: Shape>(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let page = p.page()?;
    let order = order_by(&p, R::ORDER, vec![(R::DEFAULT_ORDER, false)])?;
    let mut f = Filter::default();
    p.patterns(&mut f, &[R::PATTERN]);
    let (rows, total) = s
        .store
        .read(move |db| R::list(db, &f, &order, page))
        .await?;
    let c = cipher(&s)?;
    let items = rows
        .iter()
        .map(|r| R::json(r, &c))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({R::LIST: items, "total_entries": total})))
}

/// `GET /{resources}/{id}`.
pub async fn get<R: Shape>(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let i = id.clone();
    let row = s
        .store
        .read(move |db| R::get(db, &i))
        .await?
        .ok_or_else(|| R::not_found(&id))?;
    Ok(Json(R::json(&row, &*cipher(&s)?)?))
}

/// `POST /{resources}`: 201, or 409 when the id exists.
pub async fn create<R: Shape>(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let row = res::create::<R>(&s.ops, &identity, raw).await?;
    let out = R::json(&row, &*cipher(&s)?)?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `PATCH /{resources}/{id}`: the fields sent, narrowed by `update_mask`.
pub async fn patch<R: Shape>(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
    p: Params,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let mask: Vec<String> = p
        .all("update_mask")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let row = res::patch::<R>(&s.ops, &identity, &id, raw, Mask::new(mask)).await?;
    Ok(Json(R::json(&row, &*cipher(&s)?)?))
}

/// `DELETE /{resources}/{id}`: 204, or 404.
pub async fn delete<R: Shape>(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    res::delete::<R>(&s.ops, &identity, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PATCH /{resources}`: bulk create, update and delete, as Airflow's `BulkResponse`.
pub async fn bulk<R: Shape>(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let results = res::bulk::<R>(&s.ops, &identity, raw).await?;
    Ok(bulk_json(results))
}

/// The `BulkResponse`: a key per action kind (`null` for kinds not requested), each with the
/// ids that succeeded and the errors with their status codes.
pub(super) fn bulk_json(results: BulkResults) -> Json<Value> {
    let [c, u, d] = results.map(|r| {
        r.map(|r| {
            let errors: Vec<Value> = r
                .errors
                .into_iter()
                .map(|e| {
                    let e = ApiError::from(e);
                    let detail = match &e.detail {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    json!({"error": detail, "status_code": e.status.as_u16()})
                })
                .collect();
            json!({"success": r.success, "errors": errors})
        })
        .unwrap_or(Value::Null)
    });
    Json(json!({"create": c, "update": u, "delete": d}))
}

/// The read routes of a resource kind at `base` (`/variables`...; `id` names the path
/// parameter).
pub fn reads<R: Shape>(g: Group, base: &str, id: &str) -> Group {
    g.get(base, list::<R>)
        .get(&format!("{base}/{id}"), get::<R>)
}

/// The write routes of a resource kind at `base`.
pub fn writes<R: Shape>(g: Group, base: &str, id: &str) -> Group {
    let one = format!("{base}/{id}");
    g.post(base, create::<R>)
        .patch(base, bulk::<R>)
        .patch(&one, patch::<R>)
        .delete(&one, delete::<R>)
}

/// A variable's value as the API shows it: `***` for a sensitive key, sensitive keys of a
/// JSON object masked (then printed as Python does), otherwise unchanged.
fn shown(key: &str, plain: &str) -> String {
    if is_sensitive(key) {
        return MASK.into();
    }
    match serde_json::from_str::<Value>(plain) {
        Ok(v) => {
            let r = redact(&v, None);
            if r == v {
                plain.into()
            } else {
                python_json(&r)
            }
        }
        Err(_) => plain.into(),
    }
}

/// A key or decryption failure: a server-side problem, answered 500 with its explanation
/// (it names the key's source and the value, never secret material) and logged.
fn secrets_error(e: crate::secrets::SecretsError) -> ApiError {
    tracing::error!(error = %e, "secrets");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

impl Shape for Variables {
    const LIST: &'static str = "variables";
    const ORDER: &'static [(&'static str, &'static str)] = &[
        ("key", "key"),
        ("id", "id"),
        ("_val", "val"),
        ("description", "description"),
        ("is_encrypted", "is_encrypted"),
    ];
    const DEFAULT_ORDER: &'static str = "id";
    const PATTERN: (&'static str, &'static str) = ("variable_key", "key");

    /// The `VariableResponse` shape.
    fn json(row: &VariableRow, c: &Cipher) -> Result<Value, ApiError> {
        let plain = c.variable(row).map_err(secrets_error)?;
        Ok(json!({
            "key": row.key,
            "value": shown(&row.key, &plain),
            "description": row.description,
            "is_encrypted": true,
            "team_name": null,
        }))
    }
}

impl Shape for Connections {
    const LIST: &'static str = "connections";
    const ORDER: &'static [(&'static str, &'static str)] = &[
        ("conn_id", "conn_id"),
        ("connection_id", "conn_id"),
        ("conn_type", "conn_type"),
        ("description", "description"),
        ("host", "host"),
        ("port", "port"),
        ("id", "id"),
    ];
    const DEFAULT_ORDER: &'static str = "id";
    const PATTERN: (&'static str, &'static str) = ("connection_id", "conn_id");

    /// The `ConnectionResponse` shape.
    fn json(row: &ConnectionRow, c: &Cipher) -> Result<Value, ApiError> {
        let (password, extra) = c.connection(row).map_err(secrets_error)?;
        let extra = extra.map(|e| match serde_json::from_str::<Value>(&e) {
            Ok(v) => python_json(&redact(&v, None)),
            Err(_) => e,
        });
        Ok(json!({
            "connection_id": row.conn_id,
            "conn_type": row.conn_type,
            "description": row.description,
            "host": row.host,
            "login": row.login,
            "schema": row.schema,
            "port": row.port,
            "password": password.map(|_| MASK),
            "extra": extra,
            "team_name": null,
        }))
    }
}

impl Shape for Pools {
    const LIST: &'static str = "pools";
    const ORDER: &'static [(&'static str, &'static str)] =
        &[("id", "id"), ("pool", "pool"), ("name", "pool")];
    const DEFAULT_ORDER: &'static str = "id";
    const PATTERN: (&'static str, &'static str) = ("pool_name", "pool");

    /// The `PoolResponse` shape.
    fn json(p: &PoolRow, _: &Cipher) -> Result<Value, ApiError> {
        let occupied = p.running + p.queued + if p.include_deferred { p.deferred } else { 0 };
        Ok(json!({
            "name": p.pool,
            "slots": p.slots,
            "description": p.description,
            "include_deferred": p.include_deferred,
            "occupied_slots": occupied,
            "running_slots": p.running,
            "queued_slots": p.queued,
            "scheduled_slots": p.scheduled,
            "open_slots": if p.slots == -1 { -1 } else { p.slots - occupied },
            "deferred_slots": p.deferred,
            "team_name": null,
        }))
    }
}
