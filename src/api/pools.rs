//! `/api/v2/pools`: list, get, create, patch (`update_mask`), delete and bulk. Slot counts
//! come from the task instances in each pool; `default_pool` cannot be deleted and only its
//! `slots` and `include_deferred` change.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::{self, BulkEntity, Mask, audit_extra, invalid, no_team, present, write_api};
use super::identity::Identity;
use super::params::Params;
use super::{ApiError, AppState, JsonBody};
use crate::audit::{self, Entry, Masking};
use crate::secrets::Cipher;
use crate::store::admin::{self as q, DEFAULT_POOL, PoolRow};
use crate::store::runs::Where;

/// The longest pool name Airflow accepts.
const MAX_NAME: usize = 256;

/// `PoolBody` and `PoolPatchBody` in one: the name is `name` (or `pool`, the patch alias).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolBody {
    #[serde(default, alias = "pool")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    slots: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    include_deferred: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    team_name: Option<Option<String>>,
}

fn missing(field: &str) -> ApiError {
    invalid(field, "missing", "Field required", Value::Null)
}

impl PoolBody {
    fn validate(&self, creating: bool) -> Result<(), ApiError> {
        match &self.name {
            None if creating => return Err(missing("name")),
            Some(n) if n.is_empty() || n.chars().count() > MAX_NAME => {
                return Err(invalid(
                    "name",
                    "string_too_long",
                    format!("The pool name must be 1 to {MAX_NAME} characters long"),
                    json!(n),
                ));
            }
            _ => {}
        }
        match self.slots {
            None if creating => return Err(missing("slots")),
            Some(None) if creating => {
                return Err(invalid(
                    "slots",
                    "int_type",
                    "Input should be a valid integer",
                    Value::Null,
                ));
            }
            Some(Some(n)) if n < -1 => {
                return Err(invalid(
                    "slots",
                    "greater_than_equal",
                    "Input should be greater than or equal to -1 (-1 means unlimited slots)",
                    json!(n),
                ));
            }
            _ => {}
        }
        no_team(&self.team_name)
    }

    fn id(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// A new pool from a create body (validated).
    fn new_row(&self) -> PoolRow {
        PoolRow {
            pool: self.id().to_string(),
            slots: self.slots.flatten().unwrap_or(0),
            description: self.description.clone().flatten(),
            include_deferred: self.include_deferred.flatten().unwrap_or(false),
            running: 0,
            queued: 0,
            scheduled: 0,
            deferred: 0,
        }
    }

    /// `old` with the body applied through `mask`; `default_pool` keeps its description.
    fn apply(&self, old: &PoolRow, mask: &Mask) -> Result<PoolRow, ApiError> {
        let mut row = old.clone();
        if mask.wants("slots", self.slots.is_some()) {
            row.slots = self.slots.flatten().ok_or_else(|| {
                invalid(
                    "slots",
                    "int_type",
                    "Input should be a valid integer",
                    Value::Null,
                )
            })?;
        }
        if mask.wants("include_deferred", self.include_deferred.is_some()) {
            row.include_deferred = self.include_deferred.flatten().unwrap_or(false);
        }
        if mask.wants("description", self.description.is_some()) {
            row.description = self.description.clone().flatten();
        }
        if old.pool == DEFAULT_POOL && row.description != old.description {
            return Err(ApiError::bad_request(
                "Only slots and included_deferred can be modified on Default Pool",
            ));
        }
        Ok(row)
    }
}

/// The `PoolResponse` shape.
fn pool_json(p: &PoolRow) -> Value {
    let occupied = p.running + p.queued + if p.include_deferred { p.deferred } else { 0 };
    json!({
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
    })
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("The Pool with name: `{name}` was not found"))
}

fn undeletable() -> ApiError {
    ApiError::bad_request("Default Pool can't be deleted")
}

async fn load(s: &AppState, name: &str) -> Result<PoolRow, ApiError> {
    let n = name.to_string();
    s.store
        .read(move |c| q::get_pool(c, &n))
        .await?
        .ok_or_else(|| not_found(name))
}

fn record_extra(method: &str, raw: Option<&Value>, name: &str) -> Value {
    audit_extra(
        method,
        raw,
        json!({ "pool_name": name }),
        Masking::Sensitive,
    )
}

/// `GET /pools`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let page = p.page()?;
    let order = admin::order_by(
        &p,
        &[("id", "p.rowid"), ("pool", "p.pool"), ("name", "p.pool")],
        vec![("p.rowid", false)],
    )?;
    let mut wh = Where::default();
    p.patterns(&mut wh, &[("pool_name", "p.pool")]);
    let (rows, total) = s
        .store
        .read(move |c| q::list_pools(c, &wh, &order, page))
        .await?;
    let pools: Vec<Value> = rows.iter().map(pool_json).collect();
    Ok(Json(json!({"pools": pools, "total_entries": total})))
}

/// `GET /pools/{pool_name}`.
pub async fn get(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(pool_json(&load(&s, &name).await?)))
}

/// `POST /pools`: 201, or 409 when the name exists.
pub async fn create(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let body: PoolBody = admin::typed(&raw)?;
    body.validate(true)?;
    let row = body.new_row();
    let r = row.clone();
    write_api(&s, move |tx| {
        if q::get_pool(tx, &r.pool)?.is_some() {
            return Err(ApiError::conflict(format!(
                "The Pool with name: `{}` already exists",
                r.pool
            )));
        }
        Ok(q::put_pool(
            tx,
            &r.pool,
            r.slots,
            r.description.as_deref(),
            r.include_deferred,
        )?)
    })
    .await?;
    audit::record(
        &s.store,
        &identity,
        Entry::new("post_pool").extra(record_extra("POST", Some(&raw), &row.pool)),
    )
    .await;
    wake(&s);
    let created = load(&s, &row.pool).await?;
    Ok((StatusCode::CREATED, Json(pool_json(&created))).into_response())
}

/// `PATCH /pools/{pool_name}`.
pub async fn patch(
    State(s): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
    p: Params,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let body: PoolBody = admin::typed(&raw)?;
    if body.name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(format!(
            "Invalid body, pool name from request body ({:?}) doesn't match uri parameter ({name:?})",
            body.id()
        )));
    }
    body.validate(false)?;
    let mask = Mask::from_params(&p);
    let n = name.clone();
    write_api(&s, move |tx| {
        let old = q::get_pool(tx, &n)?.ok_or_else(|| not_found(&n))?;
        let r = body.apply(&old, &mask)?;
        Ok(q::put_pool(
            tx,
            &r.pool,
            r.slots,
            r.description.as_deref(),
            r.include_deferred,
        )?)
    })
    .await?;
    audit::record(
        &s.store,
        &identity,
        Entry::new("patch_pool").extra(record_extra("PATCH", Some(&raw), &name)),
    )
    .await;
    wake(&s);
    Ok(Json(pool_json(&load(&s, &name).await?)))
}

/// `DELETE /pools/{pool_name}`: 204; 400 for `default_pool`; 404.
pub async fn delete(
    State(s): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if name == DEFAULT_POOL {
        return Err(undeletable());
    }
    let n = name.clone();
    if !s.store.write(move |tx| q::delete_pool(tx, &n)).await? {
        return Err(not_found(&name));
    }
    audit::record(
        &s.store,
        &identity,
        Entry::new("delete_pool").extra(record_extra("DELETE", None, &name)),
    )
    .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// More (or fewer) slots may let queued work start.
fn wake(s: &AppState) {
    if let Some(sched) = &s.scheduler {
        sched.wake();
    }
}

impl BulkEntity for PoolBody {
    const WHAT: &'static str = "pools with these pool names:";

    fn id(&self) -> &str {
        PoolBody::id(self)
    }

    fn exists(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<bool, ApiError> {
        Ok(q::get_pool(tx, id)?.is_some())
    }

    fn create(&self, tx: &rusqlite::Transaction<'_>, _: &Cipher) -> Result<(), ApiError> {
        self.validate(true)?;
        let r = match q::get_pool(tx, self.id())? {
            // Overwrite: the default pool keeps its description.
            Some(old) => self.apply(&old, &Mask::from_list(None))?,
            None => self.new_row(),
        };
        Ok(q::put_pool(
            tx,
            &r.pool,
            r.slots,
            r.description.as_deref(),
            r.include_deferred,
        )?)
    }

    fn update(
        &self,
        tx: &rusqlite::Transaction<'_>,
        _: &Cipher,
        mask: &Mask,
    ) -> Result<(), ApiError> {
        self.validate(false)?;
        let old = q::get_pool(tx, self.id())?.ok_or_else(|| not_found(self.id()))?;
        let r = self.apply(&old, mask)?;
        Ok(q::put_pool(
            tx,
            &r.pool,
            r.slots,
            r.description.as_deref(),
            r.include_deferred,
        )?)
    }

    fn delete(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<(), ApiError> {
        if id == DEFAULT_POOL {
            return Err(undeletable());
        }
        q::delete_pool(tx, id)?;
        Ok(())
    }
}

/// `PATCH /pools`: bulk create, update and delete.
pub async fn bulk(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let out = admin::bulk::<PoolBody>(&s, &identity, raw, "bulk_pools", Masking::Sensitive).await?;
    wake(&s);
    Ok(out)
}
