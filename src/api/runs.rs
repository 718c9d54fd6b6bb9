//! DAG run routes of the Airflow API: list (`~` for every DAG, and the batch form), get,
//! trigger, mark / note, clear, delete, and the experimental `wait`, in Airflow 3.2's shapes.
//! Mutations go through `ops::runs`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dags::ts;
use super::params::{Filter, MAX_LIMIT, Params};
use super::routes::Group;
use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::ops;
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
        Some(n) => json!([super::dags::version_out(
            &r.dag_version_id,
            n,
            &r.dag_id,
            r.version_created_at.as_deref(),
            (
                r.version_bundle_name.as_deref(),
                r.version_bundle_version.as_deref()
            ),
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
        "bundle_version": r.version_bundle_version,
        "dag_display_name": r.dag_id,
        "partition_key": null,
    })
}

/// The run filters shared by `GET dagRuns` and `POST dagRuns/list`, from query-style pairs.
fn run_filter(p: &Params, dag_id: Option<String>) -> Result<RunFilter, ApiError> {
    let mut f = Filter::default();
    if let Some(d) = dag_id {
        f.eq("dag_id", d);
    }
    p.ranges(
        &mut f,
        &[
            ("run_after", "run_after"),
            ("logical_date", "logical_date"),
            ("start_date", "start_date"),
            ("end_date", "end_date"),
            ("updated_at", "updated_at"),
            ("duration", "duration"),
        ],
    )?;
    p.patterns(
        &mut f,
        &[
            ("run_id", "run_id"),
            ("dag_id", "dag_id"),
            ("triggering_user_name", "triggering_user_name"),
        ],
    );
    p.lists(
        &mut f,
        &[
            ("dag_ids", "dag_id"),
            ("state", "state"),
            ("run_type", "run_type"),
        ],
    );
    p.ints(&mut f, &[("dag_version", "version_number")])?;
    if let Some(c) = p.get("conf_contains").filter(|v| !v.is_empty()) {
        f.push(super::params::Cond::Contains("conf", vec![c.to_string()]));
    }
    for (k, allowed) in [
        ("state", &["queued", "running", "success", "failed"][..]),
        (
            "run_type",
            &[
                "backfill",
                "scheduled",
                "manual",
                "asset_triggered",
                "asset_materialization",
            ][..],
        ),
    ] {
        if let Some(bad) = p
            .all(k)
            .into_iter()
            .find(|v| !allowed.contains(&v.as_str()))
        {
            return Err(ApiError::unprocessable(
                "enum",
                &["query", k],
                format!("Input should be one of {}", allowed.join(", ")),
                json!(bad),
            ));
        }
    }
    let (limit, offset) = p.page()?;
    Ok(RunFilter {
        filter: f,
        order: p.order_by(&[
            ("id", "id"),
            ("run_after", "run_after"),
            ("logical_date", "logical_date"),
            ("start_date", "start_date"),
            ("end_date", "end_date"),
            ("updated_at", "updated_at"),
            ("state", "state"),
            ("dag_run_id", "run_id"),
            ("run_id", "run_id"),
            ("dag_id", "dag_id"),
            ("conf", "conf"),
            ("duration", "duration"),
        ])?,
        limit,
        offset,
    })
}

/// 404 unless `dag_id` is `~` or a known DAG.
pub(super) async fn check_dag(s: &AppState, dag_id: &str) -> Result<(), ApiError> {
    if dag_id == "~" {
        return Ok(());
    }
    let id = dag_id.to_string();
    match s
        .store
        .read(move |c| crate::store::dags::get_dag(c, &id))
        .await?
    {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!(
            "The Dag with ID: `{dag_id}` was not found"
        ))),
    }
}

async fn run_page(s: &AppState, filter: RunFilter) -> Result<Json<Value>, ApiError> {
    let (rows, total) = s.store.read(move |c| q::list(c, &filter)).await?;
    Ok(Json(json!({
        "dag_runs": rows.iter().map(run_json).collect::<Vec<_>>(),
        "total_entries": total,
        "next_cursor": null,
        "previous_cursor": null,
    })))
}

/// `GET /api/v2/dags/{dag_id}/dagRuns` (`~` for every DAG).
pub async fn list(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    check_dag(&s, &dag_id).await?;
    let filter = run_filter(&p, (dag_id != "~").then(|| dag_id.clone()))?;
    run_page(&s, filter).await
}

/// Turns a batch body (`POST .../list`) into query-style pairs so the batch and GET routes
/// share one filter: arrays become repeated keys, `renames` maps body names to query names.
pub(super) fn body_params(body: Value, renames: &[(&str, &str)]) -> Result<Params, ApiError> {
    let Value::Object(m) = body else {
        return Err(ApiError::unprocessable(
            "model_attributes_type",
            &["body"],
            "Input should be a valid dictionary or object to extract fields from",
            body,
        ));
    };
    let mut out = Vec::new();
    for (k, v) in m {
        let name = renames
            .iter()
            .find(|(from, _)| *from == k)
            .map(|(_, to)| to.to_string())
            .unwrap_or(k.clone());
        let items = match v {
            Value::Null => continue,
            Value::Array(a) => a,
            other => vec![other],
        };
        for item in items {
            let text = match item {
                Value::String(s) => s,
                Value::Null => "none".into(),
                other => other.to_string(),
            };
            out.push((name.clone(), text));
        }
    }
    Ok(Params(out))
}

/// `POST /api/v2/dags/{dag_id}/dagRuns/list`: the run list with filters in the body.
pub async fn list_batch(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    super::JsonBody(body): super::JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    if dag_id != "~" {
        return Err(ApiError::bad_request(
            "The dag_id in the path must be `~` for the batch run list: name DAGs in `dag_ids`",
        ));
    }
    let p = batch_params(
        body,
        &[
            "order_by",
            "page_offset",
            "page_limit",
            "dag_ids",
            "states",
            "conf_contains",
        ],
        &[("states", "state")],
    )?;
    let filter = run_filter(&p, None)?;
    run_page(&s, filter).await
}

/// A batch body as query-style pairs: fields checked against `known` (and the date ranges),
/// `page_offset`/`page_limit` as `offset`/`limit` (default limit 100), `renames` applied.
pub(super) fn batch_params(
    body: Value,
    known: &[&str],
    renames: &[(&str, &str)],
) -> Result<Params, ApiError> {
    check_fields(
        &body,
        known,
        &[
            "run_after",
            "logical_date",
            "start_date",
            "end_date",
            "duration",
        ],
    )?;
    let mut all = vec![("page_offset", "offset"), ("page_limit", "limit")];
    all.extend_from_slice(renames);
    let mut p = body_params(body, &all)?;
    if p.get("limit").is_none() {
        p.0.push(("limit".into(), MAX_LIMIT.to_string()));
    }
    Ok(p)
}

/// 422 for a body field that is neither in `known` nor a `{range}_{gte,gt,lte,lt}` filter.
fn check_fields(body: &Value, known: &[&str], ranges: &[&str]) -> Result<(), ApiError> {
    let Some(m) = body.as_object() else {
        return Ok(());
    };
    for k in m.keys() {
        let ranged = ranges.iter().any(|r| {
            ["gte", "gt", "lte", "lt"]
                .iter()
                .any(|s| *k == format!("{r}_{s}"))
        });
        if !ranged && !known.contains(&k.as_str()) {
            return Err(ApiError::unprocessable(
                "extra_forbidden",
                &["body", k],
                "Extra inputs are not permitted",
                m[k].clone(),
            ));
        }
    }
    Ok(())
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

#[derive(Deserialize)]
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

pub(super) fn parse_date(
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

/// `POST /api/v2/dags/{dag_id}/dagRuns`: trigger a run.
pub async fn trigger(
    State(s): State<AppState>,
    identity: Identity,
    Path(dag_id): Path<String>,
    JsonBody(body): JsonBody<TriggerBody>,
) -> Result<Json<Value>, ApiError> {
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
    let t = ops::runs::Trigger {
        dag_id,
        run_id: body.dag_run_id,
        logical_date: parse_date("logical_date", &body.logical_date)?,
        run_after: parse_date("run_after", &body.run_after)?,
        data_interval_start: parse_date("data_interval_start", &body.data_interval_start)?,
        data_interval_end: parse_date("data_interval_end", &body.data_interval_end)?,
        conf,
        note: body.note,
        triggered_by: "rest_api",
        event: "trigger_dag_run",
        method: "POST",
        only_task: None,
    };
    let run = ops::runs::trigger(&s.ops, &identity, t).await?;
    Ok(Json(run_json(&run)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRun {
    state: Option<String>,
    note: Option<String>,
}

/// `PATCH /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}`: `state` (success, failed, queued) and
/// `note`.
pub async fn patch(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id)): Path<(String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchRun>,
) -> Result<Json<Value>, ApiError> {
    let mask: Vec<String> = p.all("update_mask");
    let wants = |f: &str| mask.is_empty() || mask.iter().any(|m| m == f);
    let state = body.state.filter(|_| wants("state"));
    let note = body.note.filter(|_| wants("note"));
    let run = ops::runs::patch(&s.ops, &identity, &dag_id, &run_id, state, note, mask).await?;
    Ok(Json(run_json(&run)))
}

/// `DELETE /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}`: the run, its task instances and XCom.
pub async fn delete(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    ops::runs::delete(&s.ops, &identity, &dag_id, &run_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearRun {
    #[serde(default = "yes")]
    dry_run: bool,
    #[serde(default)]
    only_failed: bool,
    #[serde(default)]
    #[allow(dead_code)]
    only_new: bool,
}

pub(super) fn yes() -> bool {
    true
}

/// `POST /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/clear`.
pub async fn clear(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<ClearRun>,
) -> Result<Json<Value>, ApiError> {
    if body.dry_run {
        let (run, tis) =
            ops::runs::clear_preview(&s.ops, &dag_id, &run_id, body.only_failed).await?;
        // Airflow's run clear preview is a collection without the cursor fields.
        let Json(mut v) = super::task_instances::ti_list(&tis, &run);
        if let Some(o) = v.as_object_mut() {
            o.remove("next_cursor");
            o.remove("previous_cursor");
        }
        return Ok(Json(v));
    }
    let run = ops::runs::clear(&s.ops, &identity, &dag_id, &run_id, body.only_failed).await?;
    Ok(Json(run_json(&run)))
}

/// `GET /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/wait?interval=S[&result=task_id...]`
/// (experimental in Airflow): NDJSON, one `{"state": ...}` line per check every `interval`
/// seconds until the run finishes; the last line adds `results` (the `return_value` XCom of
/// each `result` task).
pub async fn wait(
    State(s): State<AppState>,
    Path((dag_id, run_id)): Path<(String, String)>,
    p: Params,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let interval = match p.get("interval") {
        None | Some("") => {
            return Err(ApiError::unprocessable(
                "missing",
                &["query", "interval"],
                "Field required",
                Value::Null,
            ));
        }
        Some(v) => match v.trim().parse::<f64>() {
            Ok(n) if n > 0.0 && n.is_finite() => n.min(3600.0),
            _ => {
                return Err(ApiError::unprocessable(
                    "greater_than",
                    &["query", "interval"],
                    "Input should be a number of seconds greater than 0",
                    json!(v),
                ));
            }
        },
    };
    let results = p.all("result");
    let (d, r) = (dag_id.clone(), run_id.clone());
    if s.store.read(move |c| q::get(c, &d, &r)).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
        )));
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(24 * 3600);
    let stream = futures_util::stream::unfold((true, false), move |(first, done)| {
        let (s, dag_id, run_id, results) =
            (s.clone(), dag_id.clone(), run_id.clone(), results.clone());
        async move {
            if done {
                return None;
            }
            if !first {
                let mut shutdown = s.shutdown.clone();
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs_f64(interval)) => {}
                    _ = shutdown.wait_for(|x| *x) => return None,
                }
            }
            let (d, r) = (dag_id.clone(), run_id.clone());
            let run = s
                .store
                .read(move |c| q::get(c, &d, &r))
                .await
                .ok()
                .flatten();
            let Some(run) = run else {
                return Some((
                    Ok::<_, std::convert::Infallible>(format!("{}\n", json!({"state": null}))),
                    (false, true),
                ));
            };
            let finished = matches!(run.state.as_str(), "success" | "failed");
            let mut line = json!({"state": run.state});
            if finished && !results.is_empty() {
                let mut out = serde_json::Map::new();
                for t in &results {
                    let key = crate::xcom::XcomKey {
                        dag_id: dag_id.clone(),
                        run_id: run_id.clone(),
                        task_id: t.clone(),
                        map_index: -1,
                        key: crate::xcom::RETURN_VALUE.into(),
                    };
                    if let Ok(Some(v)) = s.xcom.get(&key) {
                        out.insert(t.clone(), v);
                    }
                }
                line["results"] = Value::Object(out);
            }
            let over = finished || tokio::time::Instant::now() > deadline;
            Some((Ok(format!("{line}\n")), (false, over)))
        }
    });
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        axum::body::Body::from_stream(futures_util::StreamExt::fuse(stream)),
    )
        .into_response())
}

const RUN: &str = "/dags/{dag_id}/dagRuns/{dag_run_id}";

/// The run routes that read (relative to `/api/v2`).
pub fn reads(g: Group) -> Group {
    g.get("/dags/{dag_id}/dagRuns", list)
        .get(RUN, get)
        .get(&format!("{RUN}/wait"), wait)
        // A read in bulk: Airflow lets viewers call it.
        .post("/dags/{dag_id}/dagRuns/list", list_batch)
}

/// The run routes that change runs.
pub fn writes(g: Group) -> Group {
    g.post("/dags/{dag_id}/dagRuns", trigger)
        .patch(RUN, patch)
        .delete(RUN, delete)
        .post(&format!("{RUN}/clear"), clear)
}
