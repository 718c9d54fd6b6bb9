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
        Some(n) => json!([super::dags::version_fields(
            &r.dag_version_id,
            n,
            &r.dag_id,
            r.version_created_at.as_deref()
        )]),
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
        json!({"dag_runs": rows.iter().map(run_json).collect::<Vec<_>>(), "total_entries": total, "next_cursor": null, "previous_cursor": null}),
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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    dag_run_id: Option<String>,
    #[serde(default)]
    logical_date: Option<String>,
    data_interval_start: Option<String>,
    data_interval_end: Option<String>,
    run_after: Option<String>,
    #[serde(default)]
    conf: Option<Value>,
    note: Option<String>,
}

/// Airflow's run id timestamp: `2026-11-22T11:15:50.045015+00:00`.
fn run_id_ts(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

fn parse_date(
    field: &str,
    v: &Option<String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    match v.as_deref() {
        None => Ok(None),
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|_| {
                ApiError::unprocessable(
                    "datetime_from_date_parsing",
                    &["body", field],
                    "Input should be a valid datetime with a time zone (RFC 3339)",
                    json!(s),
                )
            }),
    }
}

/// Checks `conf` against the DAG's `params` (JSON-schema `type`, `enum`, `minimum`,
/// `maximum`); returns the first problem.
fn check_conf(
    dag: &crate::dag::Dag,
    conf: &serde_json::Map<String, Value>,
) -> Result<(), ApiError> {
    for (name, p) in &dag.params {
        let value = conf.get(name).or_else(|| p.get("value"));
        let schema = p.get("schema").cloned().unwrap_or(json!({}));
        let Some(v) = value else { continue };
        let bad =
            |why: String| ApiError::bad_request(format!("Invalid input for param {name}: {why}"));
        if v.is_null() {
            let nullable = match schema.get("type") {
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
                Some(Value::String(t)) => t == "null",
                _ => true,
            };
            if !nullable {
                return Err(bad("None is not of the required type".into()));
            }
            continue;
        }
        if let Some(t) = schema.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
                _ => vec![],
            };
            let ok = types.is_empty()
                || types.iter().any(|t| match *t {
                    "string" => v.is_string(),
                    "integer" => v.is_i64() || v.is_u64(),
                    "number" => v.is_number(),
                    "boolean" => v.is_boolean(),
                    "array" => v.is_array(),
                    "object" => v.is_object(),
                    "null" => v.is_null(),
                    _ => true,
                });
            if !ok {
                return Err(bad(format!("{v} is not of type {}", types.join(" or "))));
            }
        }
        if let Some(Value::Array(options)) = schema.get("enum")
            && !options.contains(v)
        {
            return Err(bad(format!(
                "{v} is not one of {}",
                Value::Array(options.clone())
            )));
        }
        if let (Some(min), Some(n)) = (schema.get("minimum").and_then(|m| m.as_f64()), v.as_f64())
            && n < min
        {
            return Err(bad(format!("{n} is less than the minimum of {min}")));
        }
        if let (Some(max), Some(n)) = (schema.get("maximum").and_then(|m| m.as_f64()), v.as_f64())
            && n > max
        {
            return Err(bad(format!("{n} is greater than the maximum of {max}")));
        }
    }
    Ok(())
}

/// `POST /api/v2/dags/{dag_id}/dagRuns`: trigger a run.
pub async fn trigger(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    super::JsonBody(body): super::JsonBody<TriggerBody>,
) -> Result<Json<Value>, ApiError> {
    let id = dag_id.clone();
    let row = s
        .store
        .read(move |c| crate::store::dags::get_dag(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("DAG with dag_id: '{dag_id}' not found")))?;
    let conf = match body.conf {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(ApiError::unprocessable(
                "dict_type",
                &["body", "conf"],
                "Input should be a valid dictionary",
                other,
            ));
        }
    };
    check_conf(&row.dag, &conf)?;
    let logical = parse_date("logical_date", &body.logical_date)?;
    let run_after = parse_date("run_after", &body.run_after)?
        .or(logical)
        .unwrap_or_else(chrono::Utc::now);
    let run_id = body
        .dag_run_id
        .unwrap_or_else(|| format!("manual__{}", run_id_ts(&logical.unwrap_or(run_after))));
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let new = q::NewRun {
        dag_id: dag_id.clone(),
        run_id,
        run_type: "manual".into(),
        logical_date: logical.map(fmt),
        run_after: fmt(run_after),
        data_interval_start: parse_date("data_interval_start", &body.data_interval_start)?
            .or(logical)
            .map(fmt),
        data_interval_end: parse_date("data_interval_end", &body.data_interval_end)?
            .or(logical)
            .map(fmt),
        conf: Value::Object(conf),
        note: body.note,
        triggered_by: "rest_api".into(),
        triggering_user_name: None,
    };
    let run = s
        .store
        .write(move |tx| Ok(q::create(tx, &new)))
        .await?
        .map_err(|e| match e {
            q::CreateRunError::Duplicate { .. } => ApiError::conflict(e.to_string()),
            q::CreateRunError::NoDag(_) => ApiError::not_found(e.to_string()),
            q::CreateRunError::Store(e) => ApiError::internal(e),
        })?;
    s.events.publish(
        "dag_run",
        json!({"dag_id": run.dag_id, "run_id": run.run_id, "state": run.state}),
    );
    if let Some(sched) = &s.scheduler {
        sched.wake();
    }
    Ok(Json(run_json(&run)))
}

/// The `TaskInstanceResponse` shape.
pub fn ti_json(t: &q::TiRow, run: Option<&RunRow>) -> Value {
    json!({
        "id": t.id,
        "task_id": t.task_id,
        "dag_id": t.dag_id,
        "dag_run_id": t.run_id,
        "map_index": t.map_index,
        "logical_date": ts(run.and_then(|r| r.logical_date.as_deref())),
        "run_after": ts(run.map(|r| r.run_after.as_str())),
        "start_date": ts(t.start_date.as_deref()),
        "end_date": ts(t.end_date.as_deref()),
        "duration": t.duration,
        "state": t.state,
        "try_number": t.try_number,
        "max_tries": t.max_tries,
        "task_display_name": t.task_id,
        "dag_display_name": t.dag_id,
        "hostname": "",
        "unixname": "",
        "pool": t.pool,
        "pool_slots": t.pool_slots,
        "queue": "default",
        "priority_weight": t.priority_weight,
        "operator": t.operator,
        "operator_name": t.operator,
        "queued_when": ts(t.queued_dttm.as_deref()),
        "scheduled_when": ts(t.scheduled_dttm.as_deref()),
        "pid": t.pid,
        "executor": null,
        "executor_config": "{}",
        "note": t.note,
        "rendered_map_index": null,
        "rendered_fields": t.rendered_fields,
        "trigger": null,
        "triggerer_job": null,
        "dag_version": null,
    })
}

/// `GET /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances` (`~` for every DAG or run).
pub async fn task_instances(
    State(s): State<AppState>,
    Path((dag_id, run_id)): Path<(String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let (d, r) = (dag_id.clone(), run_id.clone());
    let (runs, tis) = s
        .store
        .read(move |c| {
            let filter = q::RunFilter {
                dag_id: (d != "~").then(|| d.clone()),
                limit: i64::MAX,
                ..Default::default()
            };
            let runs: Vec<RunRow> = q::list(c, &filter)?
                .0
                .into_iter()
                .filter(|x| r == "~" || x.run_id == r)
                .collect();
            let mut tis = Vec::new();
            for run in &runs {
                tis.extend(q::tis_of_run(c, &run.dag_id, &run.run_id)?);
            }
            Ok((runs, tis))
        })
        .await?;
    if run_id != "~" && runs.is_empty() {
        return Err(ApiError::not_found(format!(
            "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
        )));
    }
    let run_after_gte = p
        .get("run_after_gte")
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok());
    let by_run: std::collections::HashMap<(&str, &str), &RunRow> = runs
        .iter()
        .map(|r| ((r.dag_id.as_str(), r.run_id.as_str()), r))
        .collect();
    let states = p.all("state");
    let task_ids = p.all("task_id");
    let list: Vec<(&q::TiRow, &RunRow)> = tis
        .iter()
        .filter_map(|t| {
            by_run
                .get(&(t.dag_id.as_str(), t.run_id.as_str()))
                .map(|r| (t, *r))
        })
        .filter(|(t, _)| {
            states.is_empty()
                || states
                    .iter()
                    .any(|s| Some(s.as_str()) == t.state.as_deref())
        })
        .filter(|(t, _)| task_ids.is_empty() || task_ids.contains(&t.task_id))
        .filter(|(_, r)| {
            run_after_gte.is_none_or(|g| {
                chrono::DateTime::parse_from_rfc3339(&r.run_after).is_ok_and(|ra| ra >= g)
            })
        })
        .collect();
    let total = list.len();
    let page: Vec<Value> = list
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|(t, r)| ti_json(t, Some(r)))
        .collect();
    Ok(Json(
        json!({"task_instances": page, "total_entries": total, "next_cursor": null, "previous_cursor": null}),
    ))
}

async fn load_ti(
    s: &AppState,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: i64,
) -> Result<(q::TiRow, RunRow), ApiError> {
    let (d, r, t) = (dag_id.to_string(), run_id.to_string(), task_id.to_string());
    let found = s
        .store
        .read(move |c| {
            let run = q::get(c, &d, &r)?;
            let ti = q::tis_where(
                c,
                "dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_index = ?4",
                &[&d, &r, &t, &map_index],
            )?;
            Ok((run, ti.into_iter().next()))
        })
        .await?;
    match found {
        (Some(run), Some(ti)) => Ok((ti, run)),
        _ => Err(ApiError::not_found(format!(
            "The Task Instance with dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: `{task_id}` and map_index: `{map_index}` was not found"
        ))),
    }
}

/// `GET .../taskInstances/{task_id}`.
pub async fn task_instance(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (ti, run) = load_ti(&s, &dag_id, &run_id, &task_id, -1).await?;
    Ok(Json(ti_json(&ti, Some(&run))))
}

/// `GET .../taskInstances/{task_id}/logs/{try_number}`: JSON `{"content": [...]}`, NDJSON
/// (`Accept: application/x-ndjson`) or plain text (`Accept: text/plain`), as Airflow serves them.
pub async fn logs(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, try_number)): Path<(String, String, String, String)>,
    p: Params,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let try_number: i64 = try_number.parse().map_err(|_| {
        ApiError::unprocessable(
            "int_parsing",
            &["path", "try_number"],
            "Input should be a valid integer, unable to parse string as an integer",
            json!(try_number),
        )
    })?;
    let map_index = p.int("map_index", -1, -1)?;
    let (ti, _) = load_ti(&s, &dag_id, &run_id, &task_id, map_index).await?;
    let mut path = s
        .config
        .home
        .join("logs")
        .join(format!("dag_id={dag_id}"))
        .join(format!("run_id={run_id}"))
        .join(format!("task_id={task_id}"));
    if map_index >= 0 {
        path = path.join(format!("map_index={map_index}"));
    }
    let path = path.join(format!("attempt={try_number}.log"));
    let mut events = vec![
        json!({"timestamp": null, "event": "::group::Log message source details"}),
        json!({"timestamp": null, "event": path.display().to_string()}),
        json!({"timestamp": null, "event": "::endgroup::"}),
    ];
    match tokio::fs::read_to_string(&path).await {
        Ok(text) => {
            for line in text.lines() {
                let Ok(rec) = serde_json::from_str::<Value>(line) else { continue };
                let stream = rec["stream"].as_str().unwrap_or("stdout");
                let level = rec["level"].as_str().unwrap_or(if stream == "stderr" { "warning" } else { "info" });
                events.push(json!({
                    "timestamp": rec["timestamp"],
                    "event": rec["line"],
                    "level": level,
                    "logger": if stream == "leoflow" { "task".to_string() } else { format!("task.{stream}") },
                    "try_number": try_number,
                    "map_index": map_index,
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "task_id": task_id,
                    "ti_id": ti.id,
                }));
            }
        }
        Err(_) if try_number > ti.try_number || ti.try_number == 0 => {
            events.push(json!({"timestamp": null, "event": format!("No log yet: try {try_number} has not started (the task is in state {}).", ti.state.as_deref().unwrap_or("none"))}));
        }
        Err(e) => events.push(json!({"timestamp": null, "event": format!("Could not read {}: {e}", path.display()), "level": "error"})),
    }
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/x-ndjson") {
        let body: String = events.iter().map(|e| format!("{e}\n")).collect();
        return Ok((
            [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
            body,
        )
            .into_response());
    }
    if accept.starts_with("text/plain") {
        let body: String = events
            .iter()
            .map(|e| {
                format!(
                    "[{}] {} - {}\n",
                    e["timestamp"].as_str().unwrap_or(""),
                    e["level"].as_str().unwrap_or("info").to_uppercase(),
                    e["event"].as_str().unwrap_or("")
                )
            })
            .collect();
        return Ok((
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            body,
        )
            .into_response());
    }
    Ok(Json(json!({"content": events, "continuation_token": null})).into_response())
}
