//! DAG run routes of the Airflow API (reads): `dags/{dag_id}/dagRuns` (with `~` for every
//! DAG) and `dags/{dag_id}/dagRuns/{run_id}`, in Airflow 3.2's shapes.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::dags::{Ts, ts};
use super::params::{MAX_LIMIT, Params, Where};
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

/// SQL for a run's duration in seconds (over `dag_run r`).
const RUN_DURATION: &str = "((julianday(r.end_date) - julianday(r.start_date)) * 86400.0)";
/// SQL for when a run last changed (over `dag_run r`).
const RUN_UPDATED: &str = "COALESCE(r.end_date, r.start_date, r.queued_at)";

/// The run filters shared by `GET dagRuns` and `POST dagRuns/list`, from query-style pairs.
fn run_filter(p: &Params, dag_id: Option<String>) -> Result<RunFilter, ApiError> {
    let mut extra = Where::default();
    p.ranges(
        &mut extra,
        &[
            ("run_after", "r.run_after"),
            ("logical_date", "r.logical_date"),
            ("start_date", "r.start_date"),
            ("end_date", "r.end_date"),
            ("updated_at", RUN_UPDATED),
            ("duration", RUN_DURATION),
        ],
    )?;
    p.patterns(
        &mut extra,
        &[
            ("run_id", "r.run_id"),
            ("dag_id", "r.dag_id"),
            ("triggering_user_name", "r.triggering_user_name"),
        ],
    );
    p.lists(&mut extra, &[("dag_ids", "r.dag_id")]);
    p.ints(&mut extra, &[("dag_version", "v.version_number")])?;
    if let Some(c) = p.get("conf_contains").filter(|v| !v.is_empty()) {
        let a = extra.arg(format!("%{c}%"));
        extra.raw(format!("r.conf LIKE {a}"));
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
        dag_id,
        states: p.all("state"),
        run_types: p.all("run_type"),
        ranges: Vec::new(),
        order_by: p.order_by(&[
            ("id", "r.id"),
            ("run_after", "r.run_after"),
            ("logical_date", "r.logical_date"),
            ("start_date", "r.start_date"),
            ("end_date", "r.end_date"),
            ("updated_at", RUN_UPDATED),
            ("state", "r.state"),
            ("dag_run_id", "r.run_id"),
            ("run_id", "r.run_id"),
            ("dag_id", "r.dag_id"),
            ("conf", "r.conf"),
            ("duration", RUN_DURATION),
        ])?,
        limit,
        offset,
        extra,
    })
}

/// 404 unless `dag_id` is `~` or a known DAG.
async fn check_dag(s: &AppState, dag_id: &str) -> Result<(), ApiError> {
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
fn body_params(body: Value, renames: &[(&str, &str)]) -> Result<Params, ApiError> {
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
fn batch_params(body: Value, known: &[&str], renames: &[(&str, &str)]) -> Result<Params, ApiError> {
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

/// Checks `conf` against the DAG's `params` (400 with the first problem, as Airflow).
pub fn check_conf(
    dag: &crate::dag::Dag,
    conf: &serde_json::Map<String, Value>,
) -> Result<(), ApiError> {
    crate::dag::params::check_conf(dag, conf).map_err(ApiError::bad_request)
}

/// `POST /api/v2/dags/{dag_id}/dagRuns`: trigger a run.
pub async fn trigger(
    State(s): State<AppState>,
    identity: super::identity::Identity,
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
    let entry = crate::audit::Entry::new("trigger_dag_run")
        .dag(&run.dag_id)
        .run(&run.run_id);
    let conf = crate::secrets::redact(&run.conf, None);
    let extra = json!({"logical_date": run.logical_date, "conf": conf, "method": "POST"});
    crate::audit::record(&s.store, &identity, entry.extra(extra)).await;
    Ok(Json(run_json(&run)))
}

/// The `TaskInstanceResponse` shape.
pub fn ti_json(t: &q::TiRow, run: Option<&RunRow>) -> Value {
    let version = match run {
        Some(r) if t.dag_version_id.as_deref() == Some(r.dag_version_id.as_str()) => {
            r.version_number.map(|n| {
                super::dags::version_out(
                    &r.dag_version_id,
                    n,
                    &r.dag_id,
                    r.version_created_at.as_deref(),
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
fn ti_filter(p: &Params, wh: &mut Where) -> Result<(), ApiError> {
    p.ranges(
        wh,
        &[
            ("run_after", "r.run_after"),
            ("logical_date", "r.logical_date"),
            ("start_date", "t.start_date"),
            ("end_date", "t.end_date"),
            (
                "updated_at",
                "COALESCE(t.end_date, t.start_date, t.queued_dttm)",
            ),
            ("duration", "t.duration"),
        ],
    )?;
    p.patterns(
        wh,
        &[
            ("task_display_name", "t.task_id"),
            ("task_id", "t.task_id"),
            ("dag_id", "t.dag_id"),
            ("run_id", "t.run_id"),
            ("pool_name", "t.pool"),
            ("queue_name", "t.queue"),
            ("operator_name", "t.operator"),
            ("rendered_map_index", "CAST(t.map_index AS TEXT)"),
        ],
    );
    if let Some(g) = p.get("task_group_id").filter(|v| !v.is_empty()) {
        let a = wh.arg(format!("{g}.%"));
        let b = wh.arg(g.to_string());
        wh.raw(format!("(t.task_id LIKE {a} OR t.task_id = {b})"));
    }
    p.lists(
        wh,
        &[
            ("task_id", "t.task_id"),
            ("task_ids", "t.task_id"),
            ("dag_ids", "t.dag_id"),
            ("dag_run_ids", "t.run_id"),
            ("state", "t.state"),
            ("pool", "t.pool"),
            ("queue", "t.queue"),
            ("operator", "t.operator"),
        ],
    );
    if !p.all("executor").is_empty() {
        // Lite runs every task on its one executor, which Airflow reports as null.
        wh.raw("0 = 1");
    }
    p.ints(
        wh,
        &[
            ("version_number", "v.version_number"),
            ("try_number", "t.try_number"),
            ("map_index", "t.map_index"),
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
    ("id", "t.id"),
    ("task_id", "t.task_id"),
    ("state", "t.state"),
    ("duration", "t.duration"),
    ("start_date", "t.start_date"),
    ("end_date", "t.end_date"),
    ("map_index", "t.map_index"),
    ("try_number", "t.try_number"),
    ("logical_date", "r.logical_date"),
    ("run_after", "r.run_after"),
    ("data_interval_start", "r.data_interval_start"),
    ("data_interval_end", "r.data_interval_end"),
    ("rendered_map_index", "t.map_index"),
    ("operator", "t.operator"),
    ("pool", "t.pool"),
    ("queue", "t.queue"),
    ("priority_weight", "t.priority_weight"),
    ("dag_id", "t.dag_id"),
    ("dag_run_id", "t.run_id"),
    ("run_id", "t.run_id"),
];

async fn ti_page(
    s: &AppState,
    p: &Params,
    wh: Where,
    one_run: bool,
) -> Result<axum::response::Response, ApiError> {
    let (limit, offset) = p.page()?;
    let order = p.order_by(TI_ORDER)?;
    let (rows, total) = s
        .store
        .read(move |c| q::list_tis(c, &wh, order, one_run, limit, offset))
        .await?;
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
        .read(move |c| {
            Ok(if d == "~" {
                c.query_row(
                    "SELECT EXISTS(SELECT 1 FROM dag_run WHERE run_id = ?1)",
                    [&r],
                    |x| x.get::<_, bool>(0),
                )
                .map_err(crate::store::sql)?
            } else {
                q::get(c, &d, &r)?.is_some()
            })
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

fn scope(dag_id: &str, run_id: &str) -> Where {
    let mut wh = Where::default();
    if dag_id != "~" {
        wh.eq("t.dag_id", dag_id.to_string());
    }
    if run_id != "~" {
        wh.eq("t.run_id", run_id.to_string());
    }
    wh
}

/// `GET /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances` (`~` for every DAG or run).
pub async fn task_instances(
    State(s): State<AppState>,
    Path((dag_id, run_id)): Path<(String, String)>,
    p: Params,
) -> Result<axum::response::Response, ApiError> {
    check_run(&s, &dag_id, &run_id).await?;
    let mut wh = scope(&dag_id, &run_id);
    ti_filter(&p, &mut wh)?;
    ti_page(&s, &p, wh, dag_id != "~" && run_id != "~").await
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
    let mut wh = Where::default();
    ti_filter(&p, &mut wh)?;
    ti_page(&s, &p, wh, false).await
}

/// `GET .../taskInstances/{task_id}/listMapped`: the mapped instances of one task.
pub async fn list_mapped(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
) -> Result<axum::response::Response, ApiError> {
    check_run(&s, &dag_id, &run_id).await?;
    let mut wh = scope(&dag_id, &run_id);
    wh.eq("t.task_id", task_id.clone());
    let (d, r, t) = (dag_id.clone(), run_id.clone(), task_id.clone());
    let exists = s
        .store
        .read(move |c| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM task_instance WHERE (?1 = '~' OR dag_id = ?1) AND (?2 = '~' OR run_id = ?2) AND task_id = ?3)",
                [&d, &r, &t],
                |x| x.get::<_, bool>(0),
            )
            .map_err(crate::store::sql)
        })
        .await?;
    if !exists {
        return Err(ApiError::not_found(format!(
            "Task id {task_id} not found in dag {dag_id} run {run_id}"
        )));
    }
    wh.raw("t.map_index >= 0");
    ti_filter(&p, &mut wh)?;
    ti_page(&s, &p, wh, dag_id != "~" && run_id != "~").await
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
fn try_json(ti: &q::TiRow, run: &RunRow, t: &q::TryRow) -> Value {
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
    let mut tries = s.store.read(move |c| q::tries(c, &id)).await?;
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
pub async fn delete_task_instance(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let map_index = p.int("map_index", -1, -1)?;
    let (ti, _) = load_ti(&s, &dag_id, &run_id, &task_id, map_index).await?;
    if matches!(ti.state.as_deref(), Some("running") | Some("queued"))
        && let Some(sched) = &s.scheduler
    {
        sched.kill(&ti.id);
    }
    let id = ti.id.clone();
    s.store.write(move |tx| q::delete_ti(tx, &id)).await?;
    s.xcom
        .delete_task(&dag_id, &run_id, &task_id, Some(map_index))?;
    s.events.publish(
        "task_instance",
        json!({"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index, "deleted": true}),
    );
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("delete_task_instance")
            .dag(&dag_id)
            .run(&run_id)
            .task(&task_id)
            .map_index(map_index)
            .extra(json!({"method": "DELETE"})),
    )
    .await;
    Ok(Json(Value::Null))
}

/// What each log event carries besides the line itself.
#[derive(Clone)]
struct LogCtx {
    try_number: i64,
    map_index: i64,
    dag_id: String,
    run_id: String,
    task_id: String,
    ti_id: String,
}

/// One stored log line (`{"timestamp", "stream", "level", "line"}`) as Airflow's log event.
fn log_event(line: &str, c: &LogCtx) -> Option<Value> {
    let rec: Value = serde_json::from_str(line).ok()?;
    let stream = rec["stream"].as_str().unwrap_or("stdout");
    let level = rec["level"].as_str().unwrap_or(if stream == "stderr" {
        "warning"
    } else {
        "info"
    });
    Some(json!({
        "timestamp": rec["timestamp"],
        "event": rec["line"],
        "level": level,
        "logger": if stream == "leoflow" { "task".to_string() } else { format!("task.{stream}") },
        "try_number": c.try_number,
        "map_index": c.map_index,
        "dag_id": c.dag_id,
        "run_id": c.run_id,
        "task_id": c.task_id,
        "ti_id": c.ti_id,
    }))
}

/// The complete lines of `bytes` (up to the last newline) and how many bytes they span.
fn complete_lines(bytes: &[u8]) -> (Vec<String>, usize) {
    let end = bytes
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let lines = String::from_utf8_lossy(&bytes[..end])
        .lines()
        .map(String::from)
        .collect();
    (lines, end)
}

/// Log lines appended after the first `pos` bytes of `path`: (events, new position).
async fn read_from(path: &std::path::Path, pos: usize, c: &LogCtx) -> (Vec<Value>, usize) {
    let Ok(bytes) = tokio::fs::read(path).await else {
        return (Vec::new(), pos);
    };
    if bytes.len() <= pos {
        return (Vec::new(), pos);
    }
    let (lines, used) = complete_lines(&bytes[pos..]);
    (
        lines.iter().filter_map(|l| log_event(l, c)).collect(),
        pos + used,
    )
}

/// The continuation token of a read that consumed `n` log records (opaque to clients).
fn log_token(n: usize) -> String {
    format!("lite:{n}")
}

/// `GET .../taskInstances/{task_id}/logs/{try_number}`: JSON `{"content": [...],
/// "continuation_token"}` (a `token` from an earlier answer returns only newer lines unless
/// `full_content`), NDJSON (`Accept: application/x-ndjson`; a running try's log is followed
/// until the try ends) or plain text (`Accept: text/plain`), as Airflow serves them.
pub async fn logs(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, try_number)): Path<(String, String, String, String)>,
    p: Params,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let try_number = path_int("try_number", &try_number)?;
    let map_index = p.int("map_index", -1, -1)?;
    let full = p.bool("full_content")?.unwrap_or(false);
    let skip = match p.get("token").filter(|t| !t.is_empty() && !full) {
        None => 0,
        Some(t) => t
            .strip_prefix("lite:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid continuation token {t:?}: pass the continuation_token of an earlier answer, or full_content=true"
                ))
            })?,
    };
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
    let ctx = LogCtx {
        try_number,
        map_index,
        dag_id: dag_id.clone(),
        run_id: run_id.clone(),
        task_id: task_id.clone(),
        ti_id: ti.id.clone(),
    };
    let mut events = Vec::new();
    if skip == 0 {
        events.extend([
            json!({"timestamp": null, "event": "::group::Log message source details"}),
            json!({"timestamp": null, "event": path.display().to_string()}),
            json!({"timestamp": null, "event": "::endgroup::"}),
        ]);
    }
    let (records, pos) = match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let (lines, used) = complete_lines(&bytes);
            let all: Vec<Value> = lines.iter().filter_map(|l| log_event(l, &ctx)).collect();
            (all, used)
        }
        Err(_) if try_number > ti.try_number || ti.try_number == 0 => {
            events.push(json!({"timestamp": null, "event": format!("No log yet: try {try_number} has not started (the task is in state {}).", ti.state.as_deref().unwrap_or("none"))}));
            (Vec::new(), 0)
        }
        Err(e) => {
            events.push(json!({"timestamp": null, "event": format!("Could not read {}: {e}", path.display()), "level": "error"}));
            (Vec::new(), 0)
        }
    };
    let token = log_token(records.len());
    events.extend(records.into_iter().skip(skip));
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/x-ndjson") {
        let head: String = events.iter().map(|e| format!("{e}\n")).collect();
        let live = try_number == ti.try_number
            && matches!(ti.state.as_deref(), Some("running") | Some("queued"));
        if !live {
            return Ok((
                [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
                head,
            )
                .into_response());
        }
        let stream = follow(s.clone(), path, pos, ctx, head);
        return Ok((
            [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
            // Fused: the gzip layer polls again after the end; `unfold` would panic.
            axum::body::Body::from_stream(futures_util::StreamExt::fuse(stream)),
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
    Ok(Json(json!({"content": events, "continuation_token": token})).into_response())
}

/// The NDJSON body of a running try: `head`, then new lines as they are written, until the
/// try ends (its state changes or a later try starts), the server stops, or an hour passes.
fn follow(
    s: AppState,
    path: std::path::PathBuf,
    pos: usize,
    ctx: LogCtx,
    head: String,
) -> impl futures_util::Stream<Item = Result<String, std::convert::Infallible>> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
    let state = (Some(head), pos, false);
    futures_util::stream::unfold(state, move |(head, pos, done)| {
        let (s, path, ctx) = (s.clone(), path.clone(), ctx.clone());
        async move {
            if let Some(h) = head {
                return Some((Ok(h), (None, pos, false)));
            }
            if done {
                return None;
            }
            let mut shutdown = s.shutdown.clone();
            let mut pos = pos;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                    _ = shutdown.wait_for(|x| *x) => return None,
                }
                let id = ctx.ti_id.clone();
                let finished = s
                    .store
                    .read(move |c| Ok(q::tis_where(c, "id = ?1", &[&id])?.into_iter().next()))
                    .await
                    .map(|t| {
                        t.is_none_or(|t| {
                            t.try_number != ctx.try_number
                                || !matches!(t.state.as_deref(), Some("running") | Some("queued"))
                        })
                    })
                    .unwrap_or(true);
                let (events, next) = read_from(&path, pos, &ctx).await;
                pos = next;
                let over = finished || tokio::time::Instant::now() > deadline;
                if !events.is_empty() || over {
                    let chunk: String = events.iter().map(|e| format!("{e}\n")).collect();
                    return Some((Ok(chunk), (None, pos, over)));
                }
            }
        }
    })
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

/// Routes of this module not listed in `api::app` (batch lists, mapped instances, tries).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, patch, post};
    const TI: &str = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances";
    axum::Router::new()
        .route("/dags/{dag_id}/dagRuns/list", post(list_batch))
        .route("/dags/{dag_id}/dagRuns/{dag_run_id}/wait", get(wait))
        .route(&format!("{TI}/list"), post(task_instances_batch))
        .route(
            &format!("{TI}/{{task_id}}"),
            axum::routing::delete(delete_task_instance),
        )
        .route(&format!("{TI}/{{task_id}}/listMapped"), get(list_mapped))
        .route(
            &format!("{TI}/{{task_id}}/{{map_index}}"),
            get(task_instance_mapped).patch(super::actions::patch_ti_mapped),
        )
        .route(
            &format!("{TI}/{{task_id}}/{{map_index}}/dry_run"),
            patch(super::actions::patch_ti_mapped_dry_run),
        )
        .route(&format!("{TI}/{{task_id}}/tries"), get(tries))
        .route(
            &format!("{TI}/{{task_id}}/tries/{{task_try_number}}"),
            get(try_detail),
        )
        .route(
            &format!("{TI}/{{task_id}}/{{map_index}}/tries"),
            get(tries_mapped),
        )
        .route(
            &format!("{TI}/{{task_id}}/{{map_index}}/tries/{{task_try_number}}"),
            get(try_detail_mapped),
        )
}
