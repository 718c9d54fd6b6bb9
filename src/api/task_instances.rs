//! Task-instance routes of the Airflow API: lists (one run, `~` for every DAG or run, the
//! batch form, a task's mapped instances), one instance (by map index too), its tries,
//! `clearTaskInstances`, mark / note (with dry runs) and delete, in Airflow 3.2's shapes.
//! Mutations go through `ops::tis`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dags::{Ts, ts};
use super::params::{Cond, Filter, Params, Val};
use super::routes::Group;
use super::runs::{batch_params, check_dag};
use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::ops;
use crate::store::filter::Cmp;
use crate::store::runs::{self as rq, RunRow};
use crate::store::tis::{self as q, TiFilter};

pub fn ti_json(t: &q::TiRow, run: Option<&RunRow>) -> Value {
    let version = match run {
        Some(r) if t.dag_version_id.as_deref() == Some(r.dag_version_id.as_str()) => {
            r.version_number.map(|n| {
                super::dags::version_out(
                    &r.dag_version_id,
                    n,
                    &r.dag_id,
                    r.version_created_at.as_deref(),
                    (
                        r.version_bundle_name.as_deref(),
                        r.version_bundle_version.as_deref(),
                    ),
                )
            })
        }
        _ => None,
    };
    serde_json::to_value(ti_fields(
        t,
        run.and_then(|r| r.logical_date.as_deref()),
        run.map(|r| r.run_after.as_str()),
        version,
    ))
    .expect("a task instance serialises")
}

/// The `TaskInstanceResponse` shape of a listed row.
pub fn ti_list_out(r: &q::TiListRow) -> TiOut<'_> {
    let version = match (&r.ti.dag_version_id, r.version_number) {
        (Some(id), Some(n)) => Some(super::dags::version_out(
            id,
            n,
            &r.ti.dag_id,
            r.version_created_at.as_deref(),
            (
                r.version_bundle_name.as_deref(),
                r.version_bundle_version.as_deref(),
            ),
        )),
        _ => None,
    };
    ti_fields(
        &r.ti,
        r.logical_date.as_deref(),
        Some(r.run_after.as_str()),
        version,
    )
}

/// The `TaskInstanceResponse` shape, in Airflow's field order, serialised without an
/// intermediate map (task-instance lists are hot).
#[derive(serde::Serialize)]
pub struct TiOut<'a> {
    id: &'a str,
    task_id: &'a str,
    dag_id: &'a str,
    dag_run_id: &'a str,
    map_index: i64,
    logical_date: Ts<'a>,
    run_after: Ts<'a>,
    start_date: Ts<'a>,
    end_date: Ts<'a>,
    duration: Option<f64>,
    state: &'a Option<String>,
    try_number: i64,
    max_tries: i64,
    task_display_name: &'a str,
    dag_display_name: &'a str,
    hostname: &'static str,
    unixname: &'static str,
    pool: &'a str,
    pool_slots: i64,
    queue: &'static str,
    priority_weight: i64,
    operator: &'a Option<String>,
    operator_name: &'a Option<String>,
    queued_when: Ts<'a>,
    scheduled_when: Ts<'a>,
    pid: Option<i64>,
    executor: Option<()>,
    executor_config: &'static str,
    note: &'a Option<String>,
    rendered_map_index: Option<String>,
    rendered_fields: &'a Value,
    trigger: Option<()>,
    triggerer_job: Option<()>,
    dag_version: Option<super::dags::VersionOut<'a>>,
}

fn ti_fields<'a>(
    t: &'a q::TiRow,
    logical_date: Option<&'a str>,
    run_after: Option<&'a str>,
    dag_version: Option<super::dags::VersionOut<'a>>,
) -> TiOut<'a> {
    TiOut {
        id: &t.id,
        task_id: &t.task_id,
        dag_id: &t.dag_id,
        dag_run_id: &t.run_id,
        map_index: t.map_index,
        logical_date: Ts(logical_date),
        run_after: Ts(run_after),
        start_date: Ts(t.start_date.as_deref()),
        end_date: Ts(t.end_date.as_deref()),
        duration: t.duration,
        state: &t.state,
        try_number: t.try_number,
        max_tries: t.max_tries,
        task_display_name: &t.task_id,
        dag_display_name: &t.dag_id,
        hostname: "",
        unixname: "",
        pool: &t.pool,
        pool_slots: t.pool_slots,
        queue: "default",
        priority_weight: t.priority_weight,
        operator: &t.operator,
        operator_name: &t.operator,
        queued_when: Ts(t.queued_dttm.as_deref()),
        scheduled_when: Ts(t.scheduled_dttm.as_deref()),
        pid: t.pid,
        executor: None,
        executor_config: "{}",
        note: &t.note,
        rendered_map_index: (t.map_index >= 0).then(|| t.map_index.to_string()),
        rendered_fields: &t.rendered_fields,
        trigger: None,
        triggerer_job: None,
        dag_version,
    }
}

/// Task-instance filters shared by the list, batch and mapped routes.
fn ti_filter(p: &Params, f: &mut Filter) -> Result<(), ApiError> {
    p.ranges(
        f,
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
        f,
        &[
            ("task_display_name", "task_id"),
            ("task_id", "task_id"),
            ("dag_id", "dag_id"),
            ("run_id", "run_id"),
            ("pool_name", "pool"),
            ("queue_name", "queue"),
            ("operator_name", "operator"),
            ("rendered_map_index", "map_index_text"),
        ],
    );
    if let Some(g) = p.get("task_group_id").filter(|v| !v.is_empty()) {
        // The group's tasks (`group.task`), or a task of that id.
        f.push(Cond::Or(vec![
            Cond::StartsWith("task_id", vec![format!("{g}.")]),
            Cond::Eq("task_id", Val::Text(g.to_string())),
        ]));
    }
    p.lists(
        f,
        &[
            ("task_id", "task_id"),
            ("task_ids", "task_id"),
            ("dag_ids", "dag_id"),
            ("dag_run_ids", "run_id"),
            ("state", "state"),
            ("pool", "pool"),
            ("queue", "queue"),
            ("operator", "operator"),
        ],
    );
    if !p.all("executor").is_empty() {
        // Lite runs every task on its one executor, which Airflow reports as null.
        f.never();
    }
    p.ints(
        f,
        &[
            ("version_number", "version_number"),
            ("try_number", "try_number"),
            ("map_index", "map_index"),
        ],
    )?;
    let allowed = [
        "removed",
        "scheduled",
        "queued",
        "running",
        "success",
        "restarting",
        "failed",
        "up_for_retry",
        "up_for_reschedule",
        "upstream_failed",
        "skipped",
        "deferred",
        "none",
        "no_status",
    ];
    if let Some(bad) = p
        .all("state")
        .into_iter()
        .find(|v| !allowed.contains(&v.as_str()))
    {
        return Err(ApiError::unprocessable(
            "enum",
            &["query", "state"],
            format!("Input should be one of {}", allowed.join(", ")),
            json!(bad),
        ));
    }
    Ok(())
}

const TI_ORDER: &[(&str, &str)] = &[
    ("id", "id"),
    ("task_id", "task_id"),
    ("state", "state"),
    ("duration", "duration"),
    ("start_date", "start_date"),
    ("end_date", "end_date"),
    ("map_index", "map_index"),
    ("try_number", "try_number"),
    ("logical_date", "logical_date"),
    ("run_after", "run_after"),
    ("data_interval_start", "data_interval_start"),
    ("data_interval_end", "data_interval_end"),
    ("rendered_map_index", "map_index"),
    ("operator", "operator"),
    ("pool", "pool"),
    ("queue", "queue"),
    ("priority_weight", "priority_weight"),
    ("dag_id", "dag_id"),
    ("dag_run_id", "run_id"),
    ("run_id", "run_id"),
];

async fn ti_page(
    s: &AppState,
    p: &Params,
    filter: Filter,
    one_run: bool,
) -> Result<axum::response::Response, ApiError> {
    let (limit, offset) = p.page()?;
    let f = TiFilter {
        filter,
        order: p.order_by(TI_ORDER)?,
        one_run,
        limit,
        offset,
    };
    let (rows, total) = s.store.read(move |db| q::list(db, &f)).await?;
    #[derive(serde::Serialize)]
    struct Page<'a> {
        task_instances: Vec<TiOut<'a>>,
        total_entries: i64,
        next_cursor: Option<()>,
        previous_cursor: Option<()>,
    }
    use axum::response::IntoResponse;
    Ok(Json(Page {
        task_instances: rows.iter().map(ti_list_out).collect(),
        total_entries: total,
        next_cursor: None,
        previous_cursor: None,
    })
    .into_response())
}

/// 404 unless the run exists (or `dag_id`/`run_id` is `~`).
async fn check_run(s: &AppState, dag_id: &str, run_id: &str) -> Result<(), ApiError> {
    if run_id == "~" {
        return check_dag(s, dag_id).await;
    }
    let (d, r) = (dag_id.to_string(), run_id.to_string());
    let found = s
        .store
        .read(move |db| {
            if d == "~" {
                rq::exists_with_id(db, &r)
            } else {
                Ok(rq::get(db, &d, &r)?.is_some())
            }
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
        )))
    }
}

fn scope(dag_id: &str, run_id: &str) -> Filter {
    let mut f = Filter::default();
    if dag_id != "~" {
        f.eq("dag_id", dag_id.to_string());
    }
    if run_id != "~" {
        f.eq("run_id", run_id.to_string());
    }
    f
}

/// `GET /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances` (`~` for every DAG or run).
pub async fn task_instances(
    State(s): State<AppState>,
    Path((dag_id, run_id)): Path<(String, String)>,
    p: Params,
) -> Result<axum::response::Response, ApiError> {
    check_run(&s, &dag_id, &run_id).await?;
    let mut f = scope(&dag_id, &run_id);
    ti_filter(&p, &mut f)?;
    ti_page(&s, &p, f, dag_id != "~" && run_id != "~").await
}

/// `POST /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/list`: the list with its
/// filters in the body (Airflow requires `~` for both path ids).
pub async fn task_instances_batch(
    State(s): State<AppState>,
    Path((dag_id, run_id)): Path<(String, String)>,
    super::JsonBody(body): super::JsonBody<Value>,
) -> Result<axum::response::Response, ApiError> {
    if dag_id != "~" || run_id != "~" {
        return Err(ApiError::bad_request(
            "The batch task-instance list takes `~` for dag_id and dag_run_id in the path: name them in `dag_ids` and `dag_run_ids`",
        ));
    }
    let p = batch_params(
        body,
        &[
            "dag_ids",
            "dag_run_ids",
            "task_ids",
            "state",
            "pool",
            "queue",
            "executor",
            "page_offset",
            "page_limit",
            "order_by",
        ],
        &[],
    )?;
    let mut f = Filter::default();
    ti_filter(&p, &mut f)?;
    ti_page(&s, &p, f, false).await
}

/// `GET .../taskInstances/{task_id}/listMapped`: the mapped instances of one task.
pub async fn list_mapped(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
) -> Result<axum::response::Response, ApiError> {
    check_run(&s, &dag_id, &run_id).await?;
    let mut f = scope(&dag_id, &run_id);
    f.eq("task_id", task_id.clone());
    let (d, r, t) = (dag_id.clone(), run_id.clone(), task_id.clone());
    let exists = s
        .store
        .read(move |db| q::task_exists(db, &d, &r, &t))
        .await?;
    if !exists {
        return Err(ApiError::not_found(format!(
            "Task id {task_id} not found in dag {dag_id} run {run_id}"
        )));
    }
    f.push(Cond::Range("map_index", Cmp::Gte, Val::Int(0)));
    ti_filter(&p, &mut f)?;
    ti_page(&s, &p, f, dag_id != "~" && run_id != "~").await
}

pub(super) async fn load_ti(
    s: &AppState,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: i64,
) -> Result<(q::TiRow, RunRow), ApiError> {
    let (d, r, t) = (dag_id.to_string(), run_id.to_string(), task_id.to_string());
    let found = s
        .store
        .read(move |db| {
            Ok::<_, crate::store::StoreError>((
                rq::get(db, &d, &r)?,
                q::get(db, &d, &r, &t, map_index)?,
            ))
        })
        .await?;
    match found {
        (Some(run), Some(ti)) => Ok((ti, run)),
        _ => Err(ops::tis::no_ti(dag_id, run_id, task_id, map_index).into()),
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

/// A path segment that must be an integer (422 otherwise, in FastAPI's shape).
pub fn path_int(name: &str, v: &str) -> Result<i64, ApiError> {
    v.parse().map_err(|_| {
        ApiError::unprocessable(
            "int_parsing",
            &["path", name],
            "Input should be a valid integer, unable to parse string as an integer",
            json!(v),
        )
    })
}

/// `GET .../taskInstances/{task_id}/{map_index}`.
pub async fn task_instance_mapped(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, map_index)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let map_index = path_int("map_index", &map_index)?;
    let (ti, run) = load_ti(&s, &dag_id, &run_id, &task_id, map_index).await?;
    Ok(Json(ti_json(&ti, Some(&run))))
}

/// The `TaskInstanceHistoryResponse` shape: the instance's fields with one try's outcome.
pub(super) fn try_json(ti: &q::TiRow, run: &RunRow, t: &q::TryRow) -> Value {
    let mut v = ti_json(ti, Some(run));
    let o = v.as_object_mut().expect("object");
    for k in [
        "id",
        "logical_date",
        "run_after",
        "note",
        "rendered_map_index",
        "rendered_fields",
        "trigger",
        "triggerer_job",
    ] {
        o.remove(k);
    }
    o.insert("try_number".into(), json!(t.try_number));
    o.insert("state".into(), json!(t.state));
    o.insert("start_date".into(), ts(t.start_date.as_deref()));
    o.insert("end_date".into(), ts(t.end_date.as_deref()));
    o.insert("duration".into(), json!(t.duration));
    o.insert("pid".into(), json!(t.pid));
    v
}

/// Every try of a task instance: the recorded ones, then the current one if it has started.
async fn load_tries(
    s: &AppState,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: i64,
) -> Result<Vec<Value>, ApiError> {
    let (ti, run) = load_ti(s, dag_id, run_id, task_id, map_index).await?;
    let id = ti.id.clone();
    let mut tries = s.store.read(move |db| q::tries(db, &id)).await?;
    if ti.try_number > 0 && !tries.iter().any(|t| t.try_number == ti.try_number) {
        tries.push(q::TryRow {
            try_number: ti.try_number,
            state: ti.state.clone(),
            start_date: ti.start_date.clone(),
            end_date: ti.end_date.clone(),
            duration: ti.duration,
            pid: ti.pid,
        });
    }
    Ok(tries.iter().map(|t| try_json(&ti, &run, t)).collect())
}

fn tries_page(tries: Vec<Value>) -> Json<Value> {
    Json(json!({"total_entries": tries.len(), "task_instances": tries}))
}

/// `GET .../taskInstances/{task_id}/tries` (`map_index` query, default -1).
pub async fn tries(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let map_index = p.int("map_index", -1, -1)?;
    Ok(tries_page(
        load_tries(&s, &dag_id, &run_id, &task_id, map_index).await?,
    ))
}

/// `GET .../taskInstances/{task_id}/{map_index}/tries`.
pub async fn tries_mapped(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, map_index)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let map_index = path_int("map_index", &map_index)?;
    Ok(tries_page(
        load_tries(&s, &dag_id, &run_id, &task_id, map_index).await?,
    ))
}

async fn one_try(
    s: &AppState,
    (dag_id, run_id, task_id): (&str, &str, &str),
    map_index: i64,
    n: &str,
) -> Result<Json<Value>, ApiError> {
    let n = path_int("task_try_number", n)?;
    load_tries(s, dag_id, run_id, task_id, map_index)
        .await?
        .into_iter()
        .find(|t| t["try_number"] == json!(n))
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The Task Instance with dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: `{task_id}`, try_number: `{n}` and map_index: `{map_index}` was not found"
            ))
        })
}

/// `GET .../taskInstances/{task_id}/tries/{task_try_number}`.
pub async fn try_detail(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, n)): Path<(String, String, String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let map_index = p.int("map_index", -1, -1)?;
    one_try(&s, (&dag_id, &run_id, &task_id), map_index, &n).await
}

/// `GET .../taskInstances/{task_id}/{map_index}/tries/{task_try_number}`.
pub async fn try_detail_mapped(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, map_index, n)): Path<(String, String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let map_index = path_int("map_index", &map_index)?;
    one_try(&s, (&dag_id, &run_id, &task_id), map_index, &n).await
}

/// `DELETE .../taskInstances/{task_id}` (`map_index` query): the instance and its XCom.
pub async fn delete(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let map_index = p.int("map_index", -1, -1)?;
    ops::tis::delete(&s.ops, &identity, (&dag_id, &run_id, &task_id), map_index).await?;
    Ok(Json(Value::Null))
}

/// A list of task instances in Airflow's collection shape.
pub fn ti_list(tis: &[q::TiRow], run: &RunRow) -> Json<Value> {
    Json(
        json!({"task_instances": tis.iter().map(|t| ti_json(t, Some(run))).collect::<Vec<_>>(), "total_entries": tis.len(), "next_cursor": null, "previous_cursor": null}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearTis {
    #[serde(default = "super::runs::yes")]
    dry_run: bool,
    start_date: Option<String>,
    end_date: Option<String>,
    dag_run_id: Option<String>,
    task_ids: Option<Vec<Value>>,
    #[serde(default = "super::runs::yes")]
    only_failed: bool,
    #[serde(default)]
    only_running: bool,
    #[serde(default)]
    include_upstream: bool,
    #[serde(default)]
    include_downstream: bool,
    #[serde(default)]
    include_future: bool,
    #[serde(default)]
    include_past: bool,
    #[serde(default = "super::runs::yes")]
    reset_dag_runs: bool,
    #[serde(default)]
    #[allow(dead_code)]
    run_on_latest_version: bool,
    #[serde(default)]
    prevent_running_task: bool,
}

/// `task_ids` entries: a task id (every map index) or `[task_id, map_index]`.
fn task_selection(ids: &[Value]) -> Result<Vec<(String, Option<i64>)>, ApiError> {
    ids.iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(t) => Ok((t.clone(), None)),
            Value::Array(a) if a.len() == 2 && a[0].is_string() && a[1].is_i64() => {
                Ok((a[0].as_str().unwrap_or_default().to_string(), a[1].as_i64()))
            }
            other => Err(ApiError::unprocessable(
                "value_error",
                &["body", "task_ids", &i.to_string()],
                "Input should be a task id or a [task_id, map_index] pair",
                other.clone(),
            )),
        })
        .collect()
}

/// `POST /api/v2/dags/{dag_id}/clearTaskInstances`.
pub async fn clear(
    State(s): State<AppState>,
    identity: Identity,
    Path(dag_id): Path<String>,
    JsonBody(body): JsonBody<ClearTis>,
) -> Result<Json<Value>, ApiError> {
    let date = |field: &str, v: &Option<String>| -> Result<Option<String>, ApiError> {
        v.as_deref()
            .map(|x| {
                super::params::parse_ts(x).ok_or_else(|| super::params::bad_ts(&["body", field], x))
            })
            .transpose()
    };
    let r = ops::tis::ClearRequest {
        dry_run: body.dry_run,
        start_date: date("start_date", &body.start_date)?,
        end_date: date("end_date", &body.end_date)?,
        dag_run_id: body.dag_run_id,
        task_ids: body.task_ids.as_deref().map(task_selection).transpose()?,
        only_failed: body.only_failed,
        only_running: body.only_running,
        include_upstream: body.include_upstream,
        include_downstream: body.include_downstream,
        include_future: body.include_future,
        include_past: body.include_past,
        reset_dag_runs: body.reset_dag_runs,
        prevent_running_task: body.prevent_running_task,
        task_ids_raw: body.task_ids,
    };
    let out = ops::tis::clear(&s.ops, &identity, &dag_id, r).await?;
    let list: Vec<Value> = out.iter().map(|(t, r)| ti_json(t, Some(r))).collect();
    Ok(Json(
        json!({"task_instances": list, "total_entries": list.len(), "next_cursor": null, "previous_cursor": null}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTi {
    new_state: Option<String>,
    note: Option<String>,
    #[serde(default)]
    include_upstream: bool,
    #[serde(default)]
    include_downstream: bool,
    #[serde(default)]
    #[allow(dead_code)]
    include_future: bool,
    #[serde(default)]
    #[allow(dead_code)]
    include_past: bool,
}

/// A patch body as the operation takes it, `update_mask` applied (400 for an unknown field).
fn patch_request(
    p: &Params,
    body: PatchTi,
    by_map_index: bool,
) -> Result<ops::tis::PatchRequest, ApiError> {
    let mask = p.all("update_mask");
    if let Some(bad) = mask.iter().find(|m| *m != "new_state" && *m != "note") {
        return Err(ApiError::bad_request(format!(
            "Invalid field `{bad}` in update_mask: only `new_state` and `note` can be updated"
        )));
    }
    let wants = |f: &str| mask.is_empty() || mask.iter().any(|m| m == f);
    Ok(ops::tis::PatchRequest {
        new_state: body.new_state.filter(|_| wants("new_state")),
        note: body.note.filter(|_| wants("note")),
        include_upstream: body.include_upstream,
        include_downstream: body.include_downstream,
        by_map_index,
    })
}

fn map_index_query(p: &Params) -> Result<Option<i64>, ApiError> {
    match p.get("map_index") {
        None | Some("") => Ok(None),
        Some(_) => Ok(Some(p.int("map_index", -1, -1)?)),
    }
}

/// Patches (or previews, `dry_run`) the instances of a task, one map index when given.
async fn patch_any(
    s: &AppState,
    identity: Option<&Identity>,
    key: (&str, &str, &str),
    map_index: Option<i64>,
    r: ops::tis::PatchRequest,
) -> Result<Json<Value>, ApiError> {
    let (run, tis) = match identity {
        Some(who) => ops::tis::patch(&s.ops, who, key, map_index, r).await?,
        None => ops::tis::patch_preview(&s.ops, key, map_index, r).await?,
    };
    Ok(ti_list(&tis, &run))
}

/// `PATCH .../taskInstances/{task_id}`: `new_state` and `note`, with relatives (`map_index`
/// query: one mapped instance; without it, every instance of the task).
pub async fn patch(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchTi>,
) -> Result<Json<Value>, ApiError> {
    let m = map_index_query(&p)?;
    let r = patch_request(&p, body, false)?;
    patch_any(&s, Some(&identity), (&dag_id, &run_id, &task_id), m, r).await
}

/// `PATCH .../taskInstances/{task_id}/dry_run`.
pub async fn patch_dry_run(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchTi>,
) -> Result<Json<Value>, ApiError> {
    let m = map_index_query(&p)?;
    let r = patch_request(&p, body, false)?;
    patch_any(&s, None, (&dag_id, &run_id, &task_id), m, r).await
}

/// `PATCH .../taskInstances/{task_id}/{map_index}`.
pub async fn patch_mapped(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id, task_id, m)): Path<(String, String, String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchTi>,
) -> Result<Json<Value>, ApiError> {
    let m = path_int("map_index", &m)?;
    let r = patch_request(&p, body, true)?;
    patch_any(
        &s,
        Some(&identity),
        (&dag_id, &run_id, &task_id),
        Some(m),
        r,
    )
    .await
}

/// `PATCH .../taskInstances/{task_id}/{map_index}/dry_run`.
pub async fn patch_mapped_dry_run(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, m)): Path<(String, String, String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchTi>,
) -> Result<Json<Value>, ApiError> {
    let m = path_int("map_index", &m)?;
    let r = patch_request(&p, body, true)?;
    patch_any(&s, None, (&dag_id, &run_id, &task_id), Some(m), r).await
}

/// `PATCH .../taskInstances`: Airflow's bulk task-instance body (create refused, update,
/// delete), answered as its `BulkResponse`.
pub async fn bulk(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id)): Path<(String, String)>,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let body: ops::resources::BulkBody<ops::tis::BulkTi> =
        super::JsonBody::<ops::resources::BulkBody<ops::tis::BulkTi>>::parse(raw.clone())?;
    let results = ops::tis::bulk(&s.ops, &identity, (&dag_id, &run_id), body, raw).await?;
    Ok(super::resources::bulk_json(results))
}

/// Why a task instance is not running: Airflow's `{"dependencies": [{name, reason}]}`.
async fn dependencies_of(
    s: &AppState,
    (dag_id, run_id, task_id): (&str, &str, &str),
    map_index: i64,
) -> Result<Json<Value>, ApiError> {
    let (d, r, t) = (dag_id.to_string(), run_id.to_string(), task_id.to_string());
    let deps = s
        .store
        .read(move |db| {
            let (Some(ti), Some(run)) = (q::get(db, &d, &r, &t, map_index)?, rq::get(db, &d, &r)?)
            else {
                return Ok(None);
            };
            let dag = crate::store::dags::version_model(db, &run.dag_version_id)?;
            let deps = match dag {
                Some(dag) => crate::scheduler::deps::blocking(db, &ti, &run, &dag)?,
                None => Vec::new(),
            };
            Ok::<_, crate::store::StoreError>(Some(deps))
        })
        .await?
        .ok_or_else(|| {
            // Airflow's detail here is a one-element list (a tuple in its source).
            ApiError {
                status: axum::http::StatusCode::NOT_FOUND,
                detail: json!([format!(
                    "The Task Instance with dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: `{task_id}` and map_index: `{map_index}` was not found"
                )]),
            }
        })?;
    let list: Vec<Value> = deps
        .into_iter()
        .map(|d| json!({"name": d.name, "reason": d.reason}))
        .collect();
    Ok(Json(json!({ "dependencies": list })))
}

/// `GET .../taskInstances/{task_id}/dependencies` (`map_index` query, default -1).
pub async fn dependencies(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let map_index = p.int("map_index", -1, -1)?;
    dependencies_of(&s, (&dag_id, &run_id, &task_id), map_index).await
}

/// `GET .../taskInstances/{task_id}/{map_index}/dependencies`.
pub async fn dependencies_mapped(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, m)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let m = path_int("map_index", &m)?;
    dependencies_of(&s, (&dag_id, &run_id, &task_id), m).await
}

/// `GET .../taskInstances/{task_id}/links` (`map_index`, `try_number`): the operator's extra
/// links by name. Lite computes no link URLs (the operator's `get_link` runs in Airflow's API
/// server), so every link the operator declares is `null`, as Airflow shows a link without a
/// URL.
pub async fn links(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let map_index = p.int("map_index", -1, -1)?;
    let try_number = match p.get("try_number").filter(|v| !v.is_empty()) {
        Some(_) => Some(p.int("try_number", 0, i64::MIN)?),
        None => None,
    };
    let (d, r, t) = (dag_id.clone(), run_id.clone(), task_id.clone());
    let found = s
        .store
        .read(move |db| {
            let Some(ti) = q::get(db, &d, &r, &t, map_index)? else {
                return Ok(None);
            };
            let run = rq::get(db, &d, &r)?;
            let dag = match &run {
                Some(run) => crate::store::dags::version_model(db, &run.dag_version_id)?,
                None => None,
            };
            let tries = q::tries(db, &ti.id)?;
            Ok::<_, crate::store::StoreError>(Some((ti, dag, tries)))
        })
        .await?;
    let Some((ti, dag, tries)) = found else {
        return Err(ApiError::not_found("TaskInstance not found"));
    };
    let task = dag
        .as_ref()
        .and_then(|d| d.task(&task_id))
        .ok_or_else(|| ApiError::not_found(format!("Task with ID = {task_id} not found")))?;
    if let Some(n) = try_number.filter(|n| *n != ti.try_number)
        && !tries.iter().any(|t| t.try_number == n)
    {
        return Err(ApiError::not_found(format!(
            "TaskInstanceHistory not found for try_number={n}"
        )));
    }
    let links: serde_json::Map<String, Value> = task
        .extra
        .get("extra_links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(|n| (n.to_string(), Value::Null)))
        .collect();
    let total = links.len();
    Ok(Json(json!({"extra_links": links, "total_entries": total})))
}

/// `GET .../taskInstances/{task_id}/externalLogUrl/{try_number}`: Lite keeps logs itself and
/// has no external log handler, so it answers Airflow's 400 for that case.
pub async fn external_log_url(
    Path((_dag_id, _run_id, _task_id, n)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let n = path_int("try_number", &n)?;
    if n < 1 {
        return Err(ApiError::unprocessable(
            "greater_than",
            &["path", "try_number"],
            "Input should be greater than 0",
            json!(n.to_string()),
        ));
    }
    Err(ApiError::bad_request(
        "Task log handler does not support external logs.",
    ))
}

const TI: &str = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances";

/// The task-instance routes that read (relative to `/api/v2`).
pub fn reads(g: Group) -> Group {
    let p = |tail: &str| format!("{TI}{tail}");
    g.get(TI, task_instances)
        .get(&p("/{task_id}"), task_instance)
        .get(&p("/{task_id}/listMapped"), list_mapped)
        .get(&p("/{task_id}/{map_index}"), task_instance_mapped)
        .get(&p("/{task_id}/tries"), tries)
        .get(&p("/{task_id}/tries/{task_try_number}"), try_detail)
        .get(&p("/{task_id}/{map_index}/tries"), tries_mapped)
        .get(
            &p("/{task_id}/{map_index}/tries/{task_try_number}"),
            try_detail_mapped,
        )
        .get(&p("/{task_id}/dependencies"), dependencies)
        .get(
            &p("/{task_id}/{map_index}/dependencies"),
            dependencies_mapped,
        )
        .get(&p("/{task_id}/links"), links)
        .get(
            &p("/{task_id}/externalLogUrl/{try_number}"),
            external_log_url,
        )
        // A read in bulk: Airflow lets viewers call it.
        .post(&p("/list"), task_instances_batch)
}

/// The task-instance routes that change them.
pub fn writes(g: Group) -> Group {
    let p = |tail: &str| format!("{TI}{tail}");
    g.post("/dags/{dag_id}/clearTaskInstances", clear)
        .patch(TI, bulk)
        .patch(&p("/{task_id}"), patch)
        .delete(&p("/{task_id}"), delete)
        .patch(&p("/{task_id}/{map_index}"), patch_mapped)
        // Previews of a change need the right to make it, as in Airflow.
        .patch(&p("/{task_id}/dry_run"), patch_dry_run)
        .patch(&p("/{task_id}/{map_index}/dry_run"), patch_mapped_dry_run)
}
