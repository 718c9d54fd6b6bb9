//! `/api/v2/eventLogs`: the audit log (`audit`), with Airflow's filters (exact, `IN`/`NOT IN`
//! events, `before`/`after`, `*_pattern`, `*_prefix_pattern`), paging and `order_by`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::admin;
use super::dags::ts;
use super::params::{Cmp, Cond, Filter, Params, Val, bad_ts, parse_ts};
use super::{ApiError, AppState};
use crate::store::audit::{self as q, LogRow};

/// The `EventLogResponse` shape.
fn log_json(l: &LogRow) -> Value {
    json!({
        "event_log_id": l.id,
        "when": ts(Some(&l.dttm)),
        "dag_id": l.dag_id,
        "task_id": l.task_id,
        "run_id": l.run_id,
        "map_index": l.map_index,
        "try_number": l.try_number,
        "event": l.event,
        "logical_date": null,
        "owner": l.owner,
        "extra": l.extra,
        "dag_display_name": l.dag_id,
        "task_display_name": l.task_id,
    })
}

/// `GET /eventLogs`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let page = p.page()?;
    let order = admin::order_by(
        &p,
        &[
            ("id", "id"),
            ("event_log_id", "id"),
            ("dttm", "dttm"),
            ("when", "dttm"),
            ("dag_id", "dag_id"),
            ("task_id", "task_id"),
            ("run_id", "run_id"),
            ("event", "event"),
            ("owner", "owner"),
            ("extra", "extra"),
        ],
        vec![("id", false)],
    )?;
    let mut f = Filter::default();
    for name in ["dag_id", "task_id", "run_id", "owner", "event"] {
        if let Some(v) = p.get(name).filter(|v| !v.is_empty()) {
            f.eq(name, v.to_string());
        }
    }
    p.ints(
        &mut f,
        &[("map_index", "map_index"), ("try_number", "try_number")],
    )?;
    p.lists(&mut f, &[("included_events", "event")]);
    let excluded: Vec<Val> = p
        .all("excluded_events")
        .into_iter()
        .filter(|v| !v.is_empty())
        .map(Val::Text)
        .collect();
    if !excluded.is_empty() {
        f.push(Cond::NotIn("event", excluded));
    }
    for (name, op) in [("before", Cmp::Lt), ("after", Cmp::Gt)] {
        if let Some(v) = p.get(name).filter(|v| !v.is_empty()) {
            let t = parse_ts(v).ok_or_else(|| bad_ts(&["query", name], v))?;
            f.push(Cond::Range("dttm", op, Val::Text(t)));
        }
    }
    p.patterns(
        &mut f,
        &[
            ("dag_id", "dag_id"),
            ("task_id", "task_id"),
            ("run_id", "run_id"),
            ("owner", "owner"),
            ("event", "event"),
        ],
    );
    let (rows, total) = s
        .store
        .read(move |db| q::list(db, &f, &order, page))
        .await?;
    let logs: Vec<Value> = rows.iter().map(log_json).collect();
    Ok(Json(json!({"event_logs": logs, "total_entries": total})))
}

/// `GET /eventLogs/{event_log_id}`.
pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let n = super::task_instances::path_int("event_log_id", &id)?;
    let row = s
        .store
        .read(move |db| q::get(db, n))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("The Event Log with id: `{n}` not found")))?;
    Ok(Json(log_json(&row)))
}
