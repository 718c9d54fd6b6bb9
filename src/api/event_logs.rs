//! `/api/v2/eventLogs`: the audit log (`audit`), with Airflow's filters (exact, `IN`/`NOT IN`
//! events, `before`/`after`, `*_pattern`, `*_prefix_pattern`), paging and `order_by`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::admin;
use super::dags::ts;
use super::params::{Params, bad_ts, parse_ts};
use super::{ApiError, AppState};
use crate::store::admin::{self as q, LogRow};
use crate::store::runs::Where;

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
    let mut wh = Where::default();
    for (name, col) in [
        ("dag_id", "dag_id"),
        ("task_id", "task_id"),
        ("run_id", "run_id"),
        ("owner", "owner"),
        ("event", "event"),
    ] {
        if let Some(v) = p.get(name).filter(|v| !v.is_empty()) {
            wh.eq(col, v.to_string());
        }
    }
    p.ints(
        &mut wh,
        &[("map_index", "map_index"), ("try_number", "try_number")],
    )?;
    p.lists(&mut wh, &[("included_events", "event")]);
    let excluded: Vec<String> = p
        .all("excluded_events")
        .into_iter()
        .filter(|v| !v.is_empty())
        .collect();
    if !excluded.is_empty() {
        let list: Vec<String> = excluded.into_iter().map(|v| wh.arg(v)).collect();
        wh.raw(format!("event NOT IN ({})", list.join(",")));
    }
    for (name, op) in [("before", "<"), ("after", ">")] {
        if let Some(v) = p.get(name).filter(|v| !v.is_empty()) {
            let t = parse_ts(v).ok_or_else(|| bad_ts(&["query", name], v))?;
            let ph = wh.arg(t);
            wh.raw(format!("dttm {op} {ph}"));
        }
    }
    p.patterns(
        &mut wh,
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
        .read(move |c| q::list_logs(c, &wh, &order, page))
        .await?;
    let logs: Vec<Value> = rows.iter().map(log_json).collect();
    Ok(Json(json!({"event_logs": logs, "total_entries": total})))
}

/// `GET /eventLogs/{event_log_id}`.
pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let n = super::runs::path_int("event_log_id", &id)?;
    let row = s
        .store
        .read(move |c| q::get_log(c, n))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("The Event Log with id: `{n}` not found")))?;
    Ok(Json(log_json(&row)))
}
