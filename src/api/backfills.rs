//! Backfill routes of the Airflow API: create (and dry-run) a backfill over a date range,
//! list, get, pause, unpause, cancel, in Airflow 3.2's shapes.
//!
//! The logical dates come from the DAG's timetable (`scheduler::timetable`); each becomes a
//! `queued` run with `run_type = 'backfill'` that the scheduler starts oldest first within
//! `max_active_runs`. Existing runs are skipped or re-queued by `reprocess_behavior`.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dags::ts;
use super::params::{Params, parse_ts};
use super::{ApiError, AppState, JsonBody};
use crate::dag::Dag;
use crate::dag::model::Schedule;
use crate::scheduler::timetable;
use crate::store::backfills::{self as q, BackfillRow, CreateError, NewBackfill, Step};

/// At most this many runs per backfill (a typo in a date should not queue a million runs).
const MAX_RUNS: usize = 10_000;

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

/// The logical dates of `dag`'s timetable within `[from, to]` (and not after `now` or before
/// the DAG's `start_date`), oldest first; 409 for a DAG without a time-based schedule.
fn logical_dates(
    dag: &Dag,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, ApiError> {
    let start = dag
        .start_date
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc));
    let from = start.map_or(from, |s| from.max(s));
    let to = to.min(now);
    let first = match &dag.schedule {
        Some(Schedule::Cron { .. }) => {
            timetable::next_tick(dag, Some(from - Duration::microseconds(1)))
        }
        // A timedelta timetable is not aligned: its ticks run from the range's start.
        Some(Schedule::Delta { .. }) => Some(from),
        Some(Schedule::Once) => timetable::next_tick(dag, None),
        _ => {
            return Err(ApiError::conflict(format!(
                "{} has no schedule",
                dag.dag_id
            )));
        }
    };
    let mut out = Vec::new();
    let mut cursor = first;
    while let Some(t) = cursor {
        if t > to || out.len() > MAX_RUNS {
            break;
        }
        if t >= from {
            out.push(t);
        }
        cursor = timetable::next_tick(dag, Some(t)).filter(|n| *n > t);
    }
    if out.len() > MAX_RUNS {
        return Err(ApiError::bad_request(format!(
            "The range {} .. {} holds more than {MAX_RUNS} runs of {}; backfill a shorter range",
            from.to_rfc3339(),
            to.to_rfc3339(),
            dag.dag_id
        )));
    }
    Ok(out)
}

/// Checks a request and computes its dates: (the backfill to create, its logical dates).
async fn prepare(
    s: &AppState,
    body: PostBody,
    user: Option<String>,
) -> Result<(NewBackfill, Vec<String>, std::sync::Arc<Dag>), ApiError> {
    let _ = body.run_on_latest_version;
    if !["none", "failed", "completed"].contains(&body.reprocess_behavior.as_str()) {
        return Err(ApiError::unprocessable(
            "enum",
            &["body", "reprocess_behavior"],
            "Input should be 'failed', 'completed' or 'none'",
            json!(body.reprocess_behavior),
        ));
    }
    if body.max_active_runs < 1 {
        return Err(ApiError::unprocessable(
            "greater_than_equal",
            &["body", "max_active_runs"],
            "Input should be greater than or equal to 1",
            json!(body.max_active_runs),
        ));
    }
    let date = |field: &str, v: &str| -> Result<String, ApiError> {
        parse_ts(v).ok_or_else(|| super::params::bad_ts(&["body", field], v))
    };
    let (from, to) = (
        date("from_date", &body.from_date)?,
        date("to_date", &body.to_date)?,
    );
    if from > to {
        return Err(ApiError::unprocessable(
            "value_error",
            &["body", "to_date"],
            format!("to_date ({to}) must not be before from_date ({from})"),
            json!(body.to_date),
        ));
    }
    let conf = match body.dag_run_conf {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(ApiError::unprocessable(
                "dict_type",
                &["body", "dag_run_conf"],
                "Input should be a valid dictionary",
                other,
            ));
        }
    };
    let id = body.dag_id.clone();
    let row = s
        .store
        .read(move |c| crate::store::dags::get_dag(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Could not find dag {}", body.dag_id)))?;
    super::runs::check_conf(&row.dag, &conf)?;
    if body.run_backwards
        && let Some(t) = row.dag.tasks.iter().find(|t| {
            t.extra
                .get("depends_on_past")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
    {
        return Err(ApiError::unprocessable(
            "value_error",
            &["body", "run_backwards"],
            format!(
                "Backfill cannot be run in reverse when the DAG has tasks where depends_on_past=True (task {})",
                t.task_id
            ),
            json!(true),
        ));
    }
    let parse = |v: &str| {
        DateTime::parse_from_rfc3339(v)
            .expect("normalised above")
            .with_timezone(&Utc)
    };
    let dates: Vec<String> = logical_dates(&row.dag, parse(&from), parse(&to), Utc::now())?
        .iter()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .collect();
    let new = NewBackfill {
        dag_id: body.dag_id,
        from_date: from,
        to_date: to,
        dag_run_conf: Value::Object(conf),
        reprocess_behavior: body.reprocess_behavior,
        max_active_runs: body.max_active_runs,
        run_backwards: body.run_backwards,
        triggering_user_name: user,
    };
    Ok((new, dates, row.dag))
}

/// `POST /api/v2/backfills`: creates the backfill and queues its runs.
pub async fn create(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    JsonBody(body): JsonBody<PostBody>,
) -> Result<Json<Value>, ApiError> {
    let (new, dates, dag) = prepare(&s, body, Some(identity.username.clone())).await?;
    let retries = move |t: &crate::store::runs::TiRow| {
        dag.task(&t.task_id).map(|x| x.retries as i64).unwrap_or(0)
    };
    let b = s
        .store
        .write(move |tx| Ok(q::create(tx, &new, &dates, &retries)))
        .await?
        .map_err(|e| match e {
            CreateError::AlreadyRunning(_) => ApiError::conflict(e.to_string()),
            CreateError::Run(crate::store::runs::CreateRunError::Duplicate { .. }) => {
                ApiError::conflict(e.to_string())
            }
            CreateError::Run(crate::store::runs::CreateRunError::NoDag(d)) => {
                ApiError::not_found(format!("Could not find dag {d}"))
            }
            CreateError::Run(crate::store::runs::CreateRunError::Store(e)) => ApiError::internal(e),
        })?;
    s.events.publish(
        "backfill",
        json!({"id": b.id, "dag_id": b.dag_id, "state": "created"}),
    );
    if let Some(sched) = &s.scheduler {
        sched.wake();
    }
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("create_backfill")
            .dag(&b.dag_id)
            .extra(json!({"method": "POST", "backfill_id": b.id})),
    )
    .await;
    Ok(Json(backfill_json(&b)))
}

/// `POST /api/v2/backfills/dry_run`: the logical dates a backfill would run, nothing written.
pub async fn dry_run(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<PostBody>,
) -> Result<Json<Value>, ApiError> {
    let (new, dates, _) = prepare(&s, body, None).await?;
    let steps = s
        .store
        .read(move |c| q::plan(c, &new.dag_id, &dates, &new.reprocess_behavior))
        .await?;
    let list: Vec<Value> = steps
        .iter()
        .filter(|(_, step)| !matches!(step, Step::Skip(_)))
        .map(|(d, _)| json!({"logical_date": ts(Some(d)), "partition_key": null, "partition_date": null}))
        .collect();
    Ok(Json(
        json!({"total_entries": list.len(), "backfills": list}),
    ))
}

/// `GET /api/v2/backfills?dag_id=`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let order = p.order_by(&[
        ("id", "b.id"),
        ("dag_id", "b.dag_id"),
        ("from_date", "b.from_date"),
        ("to_date", "b.to_date"),
        ("created_at", "b.created_at"),
        ("updated_at", "b.updated_at"),
        ("completed_at", "b.completed_at"),
        ("is_paused", "b.is_paused"),
        ("max_active_runs", "b.max_active_runs"),
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
    let n = super::runs::path_int("backfill_id", id)?;
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

async fn set_paused(s: &AppState, id: &str, paused: bool) -> Result<Json<Value>, ApiError> {
    let b = load(s, id).await?;
    if b.completed_at.is_some() {
        return Err(ApiError::conflict("Backfill is already completed."));
    }
    let n = b.id;
    s.store
        .write(move |tx| q::set_paused(tx, n, paused))
        .await?;
    s.events.publish(
        "backfill",
        json!({"id": n, "dag_id": b.dag_id, "is_paused": paused}),
    );
    if let Some(sched) = &s.scheduler {
        sched.wake();
    }
    Ok(Json(backfill_json(&load(s, id).await?)))
}

/// `PUT /api/v2/backfills/{backfill_id}/pause`: its queued runs stay queued.
pub async fn pause(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let out = set_paused(&s, &id, true).await?;
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("pause_backfill")
            .extra(json!({"method": "PUT", "backfill_id": id})),
    )
    .await;
    Ok(out)
}

/// `PUT /api/v2/backfills/{backfill_id}/unpause`.
pub async fn unpause(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let out = set_paused(&s, &id, false).await?;
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("unpause_backfill")
            .extra(json!({"method": "PUT", "backfill_id": id})),
    )
    .await;
    Ok(out)
}

/// `PUT /api/v2/backfills/{backfill_id}/cancel`: paused, queued runs failed, completed now.
pub async fn cancel(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let b = load(&s, &id).await?;
    if b.completed_at.is_some() {
        return Err(ApiError::conflict("Backfill is already completed."));
    }
    let n = b.id;
    let failed = s.store.write(move |tx| q::cancel(tx, n)).await?;
    for (dag_id, run_id) in failed {
        s.events.publish(
            "dag_run",
            json!({"dag_id": dag_id, "run_id": run_id, "state": "failed"}),
        );
    }
    s.events.publish(
        "backfill",
        json!({"id": n, "dag_id": b.dag_id, "state": "cancelled"}),
    );
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("cancel_backfill")
            .dag(&b.dag_id)
            .extra(json!({"method": "PUT", "backfill_id": n})),
    )
    .await;
    Ok(Json(backfill_json(&load(&s, &id).await?)))
}

/// The backfill routes.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get as g, post, put};
    axum::Router::new()
        .route("/backfills", g(list).post(create))
        .route("/backfills/dry_run", post(dry_run))
        .route("/backfills/{backfill_id}", g(get))
        .route("/backfills/{backfill_id}/pause", put(pause))
        .route("/backfills/{backfill_id}/unpause", put(unpause))
        .route("/backfills/{backfill_id}/cancel", put(cancel))
}
