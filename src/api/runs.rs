//! DAG run routes of the Airflow API (reads): `dags/{dag_id}/dagRuns` (with `~` for every
//! DAG) and `dags/{dag_id}/dagRuns/{run_id}`, in Airflow 3.2's shapes.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::dags::ts;
use super::params::Params;
use super::{ApiError, AppState};
use crate::store::runs::{self as q, RunFilter, RunRow};

/// The `DAGRunResponse` shape.
pub fn run_json(r: &RunRow) -> Value {
    let duration = match (
        r.start_date
            .as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()),
        r.end_date
            .as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()),
    ) {
        (Some(a), Some(b)) => json!((b - a).num_microseconds().unwrap_or(0) as f64 / 1e6),
        _ => Value::Null,
    };
    let versions = match r.version_number {
        Some(n) => json!([{
            "id": r.dag_version_id,
            "version_number": n,
            "dag_id": r.dag_id,
            "bundle_name": "dags-folder",
            "bundle_version": null,
            "created_at": ts(r.version_created_at.as_deref()),
            "dag_display_name": r.dag_id,
            "bundle_url": null,
        }]),
        None => json!([]),
    };
    json!({
        "dag_run_id": r.run_id,
        "dag_id": r.dag_id,
        "logical_date": ts(r.logical_date.as_deref()),
        "queued_at": ts(r.queued_at.as_deref()),
        "start_date": ts(r.start_date.as_deref()),
        "end_date": ts(r.end_date.as_deref()),
        "duration": duration,
        "data_interval_start": ts(r.data_interval_start.as_deref()),
        "data_interval_end": ts(r.data_interval_end.as_deref()),
        "run_after": ts(Some(&r.run_after)),
        "last_scheduling_decision": ts(r.last_scheduling_decision.as_deref()),
        "run_type": r.run_type,
        "state": r.state,
        "triggered_by": r.triggered_by,
        "triggering_user_name": r.triggering_user_name,
        "conf": r.conf,
        "note": r.note,
        "dag_versions": versions,
        "bundle_version": null,
        "dag_display_name": r.dag_id,
        "partition_key": null,
    })
}

/// `GET /api/v2/dags/{dag_id}/dagRuns`.
pub async fn list(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let mut ranges = Vec::new();
    for (param, col, op) in [
        ("run_after_gte", "r.run_after", ">="),
        ("run_after_lte", "r.run_after", "<="),
        ("logical_date_gte", "r.logical_date", ">="),
        ("logical_date_lte", "r.logical_date", "<="),
        ("start_date_gte", "r.start_date", ">="),
        ("start_date_lte", "r.start_date", "<="),
        ("end_date_gte", "r.end_date", ">="),
        ("end_date_lte", "r.end_date", "<="),
    ] {
        if let Some(v) = p.get(param).filter(|v| !v.is_empty()) {
            let t = chrono::DateTime::parse_from_rfc3339(v).map_err(|_| {
                ApiError::unprocessable(
                    "datetime_from_date_parsing",
                    &["query", param],
                    "Input should be a valid datetime or date, invalid character in year",
                    json!(v),
                )
            })?;
            ranges.push((
                col,
                op,
                t.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            ));
        }
    }
    let dag_filter = (dag_id != "~").then(|| dag_id.clone());
    if let Some(d) = &dag_filter {
        let id = d.clone();
        if s.store
            .read(move |c| crate::store::dags::get_dag(c, &id))
            .await?
            .is_none()
        {
            return Err(ApiError::not_found(format!(
                "The Dag with ID: `{dag_id}` was not found"
            )));
        }
    }
    let filter = RunFilter {
        dag_id: dag_filter,
        states: p.all("state"),
        run_types: p.all("run_type"),
        ranges,
        order_by: p.order_by(&[
            ("id", "r.id"),
            ("run_after", "r.run_after"),
            ("logical_date", "r.logical_date"),
            ("start_date", "r.start_date"),
            ("end_date", "r.end_date"),
            ("state", "r.state"),
            ("dag_run_id", "r.run_id"),
            ("run_id", "r.run_id"),
            ("dag_id", "r.dag_id"),
        ])?,
        limit,
        offset,
    };
    let (rows, total) = s.store.read(move |c| q::list(c, &filter)).await?;
    Ok(Json(
        json!({"dag_runs": rows.iter().map(run_json).collect::<Vec<_>>(), "total_entries": total}),
    ))
}

/// `GET /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}`.
pub async fn get(
    State(s): State<AppState>,
    Path((dag_id, run_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (d, r) = (dag_id.clone(), run_id.clone());
    s.store
        .read(move |c| q::get(c, &d, &r))
        .await?
        .map(|r| Json(run_json(&r)))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
            ))
        })
}
