//! Backfill routes of the Airflow API: create (and dry-run) a backfill over a date range,
//! list, get, pause, unpause, cancel, in Airflow 3.2's shapes. Mutations (and the date
//! computation) are `ops::backfills`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dags::ts;
use super::params::Params;
use super::routes::Group;
use super::task_instances::path_int;
use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::ops;
use crate::store::backfills::{self as q, BackfillRow};

/// The `BackfillResponse` shape.
fn backfill_json(b: &BackfillRow) -> Value {
    json!({
        "id": b.id,
        "dag_id": b.dag_id,
        "from_date": ts(Some(&b.from_date)),
        "to_date": ts(Some(&b.to_date)),
        "dag_run_conf": b.dag_run_conf,
        "is_paused": b.is_paused,
        "reprocess_behavior": b.reprocess_behavior,
        "max_active_runs": b.max_active_runs,
        "created_at": ts(Some(&b.created_at)),
        "completed_at": ts(b.completed_at.as_deref()),
        "updated_at": ts(Some(&b.updated_at)),
        "dag_display_name": b.dag_id,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostBody {
    dag_id: String,
    from_date: String,
    to_date: String,
    #[serde(default)]
    run_backwards: bool,
    #[serde(default)]
    dag_run_conf: Option<Value>,
    #[serde(default = "none")]
    reprocess_behavior: String,
    #[serde(default = "ten")]
    max_active_runs: i64,
    #[serde(default = "yes")]
    run_on_latest_version: bool,
}

fn none() -> String {
    "none".into()
}
fn ten() -> i64 {
    10
}
fn yes() -> bool {
    true
}

impl From<PostBody> for ops::backfills::Request {
    fn from(b: PostBody) -> Self {
        let _ = b.run_on_latest_version;
        ops::backfills::Request {
            dag_id: b.dag_id,
            from_date: b.from_date,
            to_date: b.to_date,
            run_backwards: b.run_backwards,
            dag_run_conf: b.dag_run_conf,
            reprocess_behavior: b.reprocess_behavior,
            max_active_runs: b.max_active_runs,
        }
    }
}

/// `POST /api/v2/backfills`: creates the backfill and queues its runs.
pub async fn create(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(body): JsonBody<PostBody>,
) -> Result<Json<Value>, ApiError> {
    let b = ops::backfills::create(&s.ops, &identity, body.into()).await?;
    Ok(Json(backfill_json(&b)))
}

/// `POST /api/v2/backfills/dry_run`: the logical dates a backfill would run, nothing written.
pub async fn dry_run(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<PostBody>,
) -> Result<Json<Value>, ApiError> {
    let dates = ops::backfills::dry_run(&s.ops, body.into()).await?;
    let list: Vec<Value> = dates
        .iter()
        .map(
            |d| json!({"logical_date": ts(Some(d)), "partition_key": null, "partition_date": null}),
        )
        .collect();
    Ok(Json(
        json!({"total_entries": list.len(), "backfills": list}),
    ))
}

/// `GET /api/v2/backfills?dag_id=`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let order = p.order_by(&[
        ("id", "id"),
        ("dag_id", "dag_id"),
        ("from_date", "from_date"),
        ("to_date", "to_date"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("completed_at", "completed_at"),
        ("is_paused", "is_paused"),
        ("max_active_runs", "max_active_runs"),
    ])?;
    let dag_id = p.get("dag_id").filter(|v| !v.is_empty()).map(String::from);
    let (rows, total) = s
        .store
        .read(move |c| q::list(c, dag_id.as_deref(), order, limit, offset))
        .await?;
    Ok(Json(json!({
        "backfills": rows.iter().map(backfill_json).collect::<Vec<_>>(),
        "total_entries": total,
    })))
}

async fn load(s: &AppState, id: &str) -> Result<BackfillRow, ApiError> {
    let n = path_int("backfill_id", id)?;
    s.store
        .read(move |c| q::get(c, n))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Could not find backfill with id {n}")))
}

/// `GET /api/v2/backfills/{backfill_id}`.
pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(backfill_json(&load(&s, &id).await?)))
}

/// `PUT /api/v2/backfills/{backfill_id}/pause`: its queued runs stay queued.
pub async fn pause(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let n = path_int("backfill_id", &id)?;
    let b = ops::backfills::set_paused(&s.ops, &identity, n, true).await?;
    Ok(Json(backfill_json(&b)))
}

/// `PUT /api/v2/backfills/{backfill_id}/unpause`.
pub async fn unpause(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let n = path_int("backfill_id", &id)?;
    let b = ops::backfills::set_paused(&s.ops, &identity, n, false).await?;
    Ok(Json(backfill_json(&b)))
}

/// `PUT /api/v2/backfills/{backfill_id}/cancel`: paused, queued runs failed, completed now.
pub async fn cancel(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let n = path_int("backfill_id", &id)?;
    let b = ops::backfills::cancel(&s.ops, &identity, n).await?;
    Ok(Json(backfill_json(&b)))
}

/// The backfill routes that read (relative to `/api/v2`).
pub fn reads(g: Group) -> Group {
    g.get("/backfills", list)
        .get("/backfills/{backfill_id}", get)
}

/// The backfill routes that create or change backfills (admins, Airflow's `OP` rights).
pub fn writes(g: Group) -> Group {
    g.post("/backfills", create)
        .post("/backfills/dry_run", dry_run)
        .put("/backfills/{backfill_id}/pause", pause)
        .put("/backfills/{backfill_id}/unpause", unpause)
        .put("/backfills/{backfill_id}/cancel", cancel)
}
