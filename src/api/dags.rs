//! DAG routes of the Airflow API: `dags`, `dags/{id}`, `details`, `tasks`, `dagVersions`,
//! `dagSources`, `importErrors`, with Airflow 3.2's field names and shapes.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::{Params, Where};
use super::{ApiError, AppState};
use crate::dag::{Dag, Task};
use crate::store::dags::{self as q, DagRow, VersionRow};

/// A UTC time as Airflow's API prints it: microseconds when there are any (all six digits,
/// as pydantic does), none on a whole second, `Z`.
pub fn airflow_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    let format = if t.nanosecond() == 0 {
        chrono::SecondsFormat::Secs
    } else {
        chrono::SecondsFormat::Micros
    };
    t.to_rfc3339_opts(format, true)
}

/// An RFC 3339 timestamp as Airflow prints it (`...Z`), or null.
pub fn ts(s: Option<&str>) -> Value {
    match s.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) {
        Some(t) => json!(airflow_ts(t.with_timezone(&chrono::Utc))),
        None => Value::Null,
    }
}

/// Airflow's serialised `timedelta`.
fn timedelta(seconds: Option<f64>) -> Value {
    match seconds {
        None => Value::Null,
        Some(s) => {
            let whole = s.floor();
            json!({
                "__type": "TimeDelta",
                "days": (whole / 86400.0).floor() as i64,
                "seconds": (whole as i64).rem_euclid(86400),
                "microseconds": ((s - whole) * 1e6).round() as i64,
            })
        }
    }
}

fn not_found(dag_id: &str) -> ApiError {
    ApiError::not_found(format!("The Dag with ID: `{dag_id}` was not found"))
}

/// A stored timestamp serialised as Airflow prints it (see [`ts`]).
pub struct Ts<'a>(pub Option<&'a str>);

impl serde::Serialize for Ts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self
            .0
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
        {
            Some(t) => s.serialize_str(&airflow_ts(t.with_timezone(&chrono::Utc))),
            None => s.serialize_none(),
        }
    }
}

#[derive(serde::Serialize)]
struct TagOut<'a> {
    name: &'a str,
    dag_id: &'a str,
    dag_display_name: &'a str,
}

/// The `DAGResponse` shape, in Airflow's field order, serialised without an intermediate map
/// (the DAG list is the hottest read).
#[derive(serde::Serialize)]
pub struct DagOut<'a> {
    dag_id: &'a str,
    dag_display_name: Value,
    is_paused: bool,
    is_stale: bool,
    last_parsed_time: Ts<'a>,
    last_parse_duration: Option<f64>,
    last_expired: Option<()>,
    bundle_name: &'static str,
    bundle_version: Option<()>,
    relative_fileloc: &'a str,
    fileloc: &'a str,
    description: &'a Option<String>,
    timetable_summary: &'a Option<String>,
    timetable_description: Value,
    timetable_partitioned: bool,
    tags: Vec<TagOut<'a>>,
    max_active_tasks: i64,
    max_active_runs: i64,
    max_consecutive_failed_dag_runs: i64,
    has_task_concurrency_limits: bool,
    has_import_errors: bool,
    next_dagrun_logical_date: Ts<'a>,
    next_dagrun_data_interval_start: Ts<'a>,
    next_dagrun_data_interval_end: Ts<'a>,
    next_dagrun_run_after: Ts<'a>,
    allowed_run_types: Option<()>,
    owners: Vec<&'a str>,
    file_token: &'a str,
}

/// The `DAGResponse` of a row.
pub fn dag_out(row: &DagRow) -> DagOut<'_> {
    let d = &row.dag;
    DagOut {
        dag_id: &row.dag_id,
        dag_display_name: d
            .extra
            .get("dag_display_name")
            .cloned()
            .unwrap_or_else(|| json!(row.dag_id)),
        is_paused: row.is_paused,
        is_stale: row.is_stale,
        last_parsed_time: Ts(row.last_parsed_time.as_deref()),
        last_parse_duration: row.last_parse_duration,
        last_expired: None,
        bundle_name: "dags-folder",
        bundle_version: None,
        relative_fileloc: &row.relative_fileloc,
        fileloc: &row.fileloc,
        description: &d.description,
        timetable_summary: &d.timetable_summary,
        timetable_description: timetable_description(d),
        timetable_partitioned: false,
        tags: d
            .tags
            .iter()
            .map(|t| TagOut {
                name: t,
                dag_id: &row.dag_id,
                dag_display_name: &row.dag_id,
            })
            .collect(),
        max_active_tasks: d.max_active_tasks as i64,
        max_active_runs: d.max_active_runs as i64,
        max_consecutive_failed_dag_runs: d.max_consecutive_failed_dag_runs as i64,
        has_task_concurrency_limits: d.tasks.iter().any(|t| {
            t.extra
                .get("max_active_tis_per_dag")
                .is_some_and(|v| !v.is_null())
        }),
        has_import_errors: row.has_import_errors,
        next_dagrun_logical_date: Ts(row.next_dagrun_logical_date.as_deref()),
        next_dagrun_data_interval_start: Ts(row.next_dagrun_data_interval_start.as_deref()),
        next_dagrun_data_interval_end: Ts(row.next_dagrun_data_interval_end.as_deref()),
        next_dagrun_run_after: Ts(row.next_dagrun_run_after.as_deref()),
        allowed_run_types: None,
        owners: d
            .owner
            .split(',')
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect(),
        file_token: &row.relative_fileloc,
    }
}

/// The `DAGResponse` shape as a JSON value (for routes that add fields).
pub fn dag_json(row: &DagRow) -> Value {
    serde_json::to_value(dag_out(row)).expect("a DAG response serialises")
}

fn timetable_description(d: &Dag) -> Value {
    use crate::dag::model::Schedule;
    match &d.schedule {
        None => json!("Never, external triggers only"),
        Some(Schedule::Once) => json!("Once, as soon as possible"),
        Some(Schedule::Continuous) => {
            json!("As frequently as possible, but only one run at a time.")
        }
        Some(Schedule::Delta { .. }) => json!(""),
        Some(Schedule::Assets { .. }) => json!("Triggered by assets"),
        Some(Schedule::Cron { expr, .. }) => crate::dag::validate::check_cron(expr)
            .map(|c| json!(c.describe()))
            .unwrap_or(Value::Null),
    }
}

/// The `DagVersionResponse` shape.
pub fn version_json(v: &VersionRow) -> Value {
    version_fields(&v.id, v.version_number, &v.dag_id, Some(&v.created_at))
}

/// The `DagVersionResponse` shape from its parts.
pub fn version_fields(id: &str, number: i64, dag_id: &str, created_at: Option<&str>) -> Value {
    serde_json::to_value(version_out(id, number, dag_id, created_at)).expect("a version serialises")
}

/// The `DagVersionResponse` shape, in Airflow's field order.
#[derive(serde::Serialize)]
pub struct VersionOut<'a> {
    id: &'a str,
    version_number: i64,
    dag_id: &'a str,
    bundle_name: &'static str,
    bundle_version: Option<()>,
    created_at: Ts<'a>,
    dag_display_name: &'a str,
    bundle_url: Option<()>,
}

/// The `DagVersionResponse` from its parts.
pub fn version_out<'a>(
    id: &'a str,
    number: i64,
    dag_id: &'a str,
    created_at: Option<&'a str>,
) -> VersionOut<'a> {
    VersionOut {
        id,
        version_number: number,
        dag_id,
        bundle_name: "dags-folder",
        bundle_version: None,
        created_at: Ts(created_at),
        dag_display_name: dag_id,
        bundle_url: None,
    }
}

/// The `TaskResponse` shape.
pub fn task_json(dag: &Dag, t: &Task, downstream: &[&str]) -> Value {
    let e = |k: &str| t.extra.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "task_id": t.task_id,
        "task_display_name": t.task_id,
        "owner": t.owner,
        "start_date": ts(t.extra.get("start_date").and_then(|v| v.as_str()).or(dag.start_date.as_deref())),
        "end_date": ts(dag.end_date.as_deref()),
        "trigger_rule": t.trigger_rule,
        "depends_on_past": t.extra.get("depends_on_past").and_then(|v| v.as_bool()).unwrap_or(false),
        "wait_for_downstream": t.extra.get("wait_for_downstream").and_then(|v| v.as_bool()).unwrap_or(false),
        "retries": t.retries as f64,
        "queue": t.extra.get("queue").cloned().unwrap_or(json!("default")),
        "pool": t.pool,
        "pool_slots": t.pool_slots as f64,
        "execution_timeout": timedelta(t.execution_timeout),
        "retry_delay": timedelta(Some(t.retry_delay)),
        "retry_exponential_backoff": if t.retry_exponential_backoff { 2.0 } else { 0.0 },
        "priority_weight": t.priority_weight as f64,
        "weight_rule": t.extra.get("weight_rule").cloned().unwrap_or(json!("downstream")),
        "ui_color": e("ui_color"),
        "ui_fgcolor": e("ui_fgcolor"),
        "template_fields": t.template_fields,
        "downstream_task_ids": downstream,
        "doc_md": t.doc_md,
        "operator_name": t.extra.get("operator_name").cloned().unwrap_or_else(|| json!(t.operator)),
        "params": {},
        "class_ref": {
            "module_path": e("operator_module"),
            "class_name": t.operator,
        },
        "is_mapped": t.mapped.is_some(),
        "extra_links": [],
    })
}

/// The DAG filters shared by `GET /dags` and `PATCH /dags`, as conditions over `dag d`.
fn dag_filter(p: &Params) -> Result<Where, ApiError> {
    let mut wh = Where::default();
    p.patterns(
        &mut wh,
        &[("dag_id", "d.dag_id"), ("dag_display_name", "d.dag_id")],
    );
    if p.bool("exclude_stale")?.unwrap_or(true) {
        wh.raw("d.is_stale = 0");
    }
    if let Some(paused) = p.bool("paused")? {
        wh.eq("d.is_paused", paused as i64);
    }
    if let Some(e) = p.bool("has_import_errors")? {
        wh.raw(format!(
            "{}EXISTS(SELECT 1 FROM import_error e WHERE e.filename = d.fileloc)",
            if e { "" } else { "NOT " }
        ));
    }
    let tags: Vec<String> = p
        .all("tags")
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    let mode = p.get("tags_match_mode").unwrap_or("any");
    if !["any", "all", ""].contains(&mode) {
        return Err(ApiError::unprocessable(
            "literal_error",
            &["query", "tags_match_mode"],
            "Input should be 'any' or 'all'",
            json!(mode),
        ));
    }
    if !tags.is_empty() {
        let list: Vec<String> = tags.iter().map(|t| wh.arg(t.clone())).collect();
        match mode {
            "all" => wh.raw(format!(
                "(SELECT COUNT(DISTINCT name) FROM dag_tag t WHERE t.dag_id = d.dag_id AND t.name IN ({})) = {}",
                list.join(","),
                tags.len()
            )),
            _ => wh.raw(format!(
                "EXISTS(SELECT 1 FROM dag_tag t WHERE t.dag_id = d.dag_id AND t.name IN ({}))",
                list.join(",")
            )),
        }
    }
    let owners: Vec<String> = p
        .all("owners")
        .into_iter()
        .filter(|o| !o.is_empty())
        .collect();
    if !owners.is_empty() {
        let parts: Vec<String> = owners
            .iter()
            .map(|o| {
                let a = wh.arg(o.clone());
                format!("(',' || replace(d.owners, ' ', '') || ',') LIKE ('%,' || {a} || ',%')")
            })
            .collect();
        wh.raw(format!("({})", parts.join(" OR ")));
    }
    if let Some(state) = p.get("last_dag_run_state").filter(|v| !v.is_empty()) {
        if !["queued", "running", "success", "failed"].contains(&state) {
            return Err(ApiError::unprocessable(
                "enum",
                &["query", "last_dag_run_state"],
                "Input should be 'queued', 'running', 'success' or 'failed'",
                json!(state),
            ));
        }
        let a = wh.arg(state.to_string());
        wh.raw(format!("{} = {a}", q::LAST_RUN_STATE));
    }
    // Filters on a DAG's runs: the DAG matches when one of its runs matches them all.
    let before = wh.clauses.len();
    p.ranges(
        &mut wh,
        &[
            ("dag_run_start_date", "x.start_date"),
            ("dag_run_end_date", "x.end_date"),
        ],
    )?;
    let states: Vec<String> = p
        .all("dag_run_state")
        .into_iter()
        .filter(|v| !v.is_empty())
        .collect();
    wh.any_of("x.state", &states);
    if wh.clauses.len() > before {
        let run_conds: Vec<String> = wh.clauses.drain(before..).collect();
        wh.raw(format!(
            "EXISTS(SELECT 1 FROM dag_run x WHERE x.dag_id = d.dag_id AND {})",
            run_conds.join(" AND ")
        ));
    }
    if let Some(b) = p.get("bundle_name").filter(|v| !v.is_empty())
        && b != "dags-folder"
    {
        wh.raw("0 = 1");
    }
    if p.bool("is_favorite")? == Some(true) {
        // Lite keeps no favourites.
        wh.raw("0 = 1");
    }
    Ok(wh)
}

const DAG_ORDER: &[(&str, &str)] = &[
    ("dag_id", "d.dag_id"),
    ("dag_display_name", "d.dag_id"),
    ("next_dagrun", "d.next_dagrun_run_after"),
    ("state", q::LAST_RUN_STATE),
    ("start_date", q::LAST_RUN_START),
    ("last_run_state", q::LAST_RUN_STATE),
    ("last_run_start_date", q::LAST_RUN_START),
    ("is_paused", "d.is_paused"),
];

#[derive(serde::Serialize)]
struct DagPage<'a> {
    dags: Vec<DagOut<'a>>,
    total_entries: i64,
}

fn dag_page(rows: &[DagRow], total: i64) -> Response {
    Json(DagPage {
        dags: rows.iter().map(dag_out).collect(),
        total_entries: total,
    })
    .into_response()
}

/// `GET /api/v2/dags`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let (limit, offset) = p.page()?;
    let wh = dag_filter(&p)?;
    let order = p.order_by(DAG_ORDER)?;
    let (rows, total) = s
        .store
        .read(move |c| q::list_dags(c, &wh, order, limit, offset))
        .await?;
    Ok(dag_page(&rows, total))
}

async fn load(s: &AppState, dag_id: &str) -> Result<DagRow, ApiError> {
    let id = dag_id.to_string();
    s.store
        .read(move |c| q::get_dag(c, &id))
        .await?
        .ok_or_else(|| not_found(dag_id))
}

/// `GET /api/v2/dags/{dag_id}`.
pub async fn get(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(dag_json(&load(&s, &dag_id).await?)))
}

/// `GET /api/v2/dags/{dag_id}/details`.
pub async fn details(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = load(&s, &dag_id).await?;
    let id = dag_id.clone();
    let (latest, active_runs) = s
        .store
        .read(move |c| {
            let active: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM dag_run WHERE dag_id = ?1 AND state = 'running'",
                    [&id],
                    |r| r.get(0),
                )
                .map_err(crate::store::sql)?;
            Ok((q::version(c, &id, None)?, active))
        })
        .await?;
    let d = &row.dag;
    let mut v = dag_json(&row);
    let o = v.as_object_mut().expect("object");
    let params: serde_json::Map<String, Value> = d
        .params
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                json!({
                    "__class": "airflow.sdk.definitions.param.Param",
                    "value": p.get("value").cloned().unwrap_or(Value::Null),
                    "description": p.get("description").cloned().unwrap_or(Value::Null),
                    "schema": p.get("schema").cloned().unwrap_or(json!({})),
                    "source": null,
                }),
            )
        })
        .collect();
    for (k, val) in [
        ("catchup", json!(d.catchup)),
        ("dag_run_timeout", timedelta(d.dagrun_timeout)),
        (
            "asset_expression",
            d.schedule
                .as_ref()
                .and_then(|s| match s {
                    crate::dag::model::Schedule::Assets { extra, .. } => {
                        extra.get("expression").cloned()
                    }
                    _ => None,
                })
                .unwrap_or(Value::Null),
        ),
        ("doc_md", json!(d.doc_md)),
        ("start_date", ts(d.start_date.as_deref())),
        ("end_date", ts(d.end_date.as_deref())),
        ("is_paused_upon_creation", json!(d.is_paused_upon_creation)),
        ("params", Value::Object(params)),
        (
            "render_template_as_native_obj",
            json!(d.render_template_as_native_obj),
        ),
        (
            "template_search_path",
            d.extra
                .get("template_searchpath")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        ("timezone", json!(d.timezone)),
        ("last_parsed", ts(row.last_parsed_time.as_deref())),
        ("default_args", Value::Object(d.default_args.clone())),
        (
            "owner_links",
            d.extra.get("owner_links").cloned().unwrap_or(json!({})),
        ),
        ("is_favorite", json!(false)),
        ("active_runs_count", json!(active_runs)),
        ("concurrency", json!(d.max_active_tasks)),
        (
            "latest_dag_version",
            latest.as_ref().map(version_json).unwrap_or(Value::Null),
        ),
    ] {
        o.insert(k.into(), val);
    }
    Ok(Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchDag {
    is_paused: Option<bool>,
}

/// `PATCH /api/v2/dags/{dag_id}` (`is_paused`).
pub async fn patch(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    Path(dag_id): Path<String>,
    p: Params,
    super::JsonBody(body): super::JsonBody<PatchDag>,
) -> Result<Json<Value>, ApiError> {
    let paused = check_patch(&p, &body)?;
    let id = dag_id.clone();
    if !s
        .store
        .write(move |tx| q::set_paused(tx, &id, paused))
        .await?
    {
        return Err(not_found(&dag_id));
    }
    s.events.publish(
        "dag_updated",
        json!({"dag_id": dag_id, "is_paused": paused}),
    );
    let entry = crate::audit::Entry::new("patch_dag").dag(&dag_id);
    let extra = json!({"is_paused": paused, "method": "PATCH"});
    crate::audit::record(&s.store, &identity, entry.extra(extra)).await;
    Ok(Json(dag_json(&load(&s, &dag_id).await?)))
}

/// `GET /api/v2/dags/{dag_id}/tasks`.
pub async fn tasks(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let row = load(&s, &dag_id).await?;
    let d = &row.dag;
    let down = d.downstream();
    let mut list: Vec<&Task> = d.tasks.iter().collect();
    match p.get("order_by").unwrap_or("task_id") {
        "task_id" => list.sort_by(|a, b| a.task_id.cmp(&b.task_id)),
        "-task_id" => list.sort_by(|a, b| b.task_id.cmp(&a.task_id)),
        other => {
            return Err(ApiError::bad_request(format!(
                "Ordering with '{other}' is disallowed or the attribute does not exist on the model"
            )));
        }
    }
    let tasks: Vec<Value> = list
        .iter()
        .map(|t| task_json(d, t, &down[t.task_id.as_str()]))
        .collect();
    Ok(Json(json!({"tasks": tasks, "total_entries": tasks.len()})))
}

/// `GET /api/v2/dags/{dag_id}/tasks/{task_id}`.
pub async fn task(
    State(s): State<AppState>,
    Path((dag_id, task_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let row = load(&s, &dag_id).await?;
    let d = &row.dag;
    let t = d
        .task(&task_id)
        .ok_or_else(|| ApiError::not_found(format!("Task with id {task_id} not found")))?;
    Ok(Json(task_json(d, t, &d.downstream()[task_id.as_str()])))
}

/// `GET /api/v2/dags/{dag_id}/dagVersions`.
pub async fn versions(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    load(&s, &dag_id).await?;
    let (limit, offset) = p.page()?;
    let desc = p
        .order_by(&[
            ("version_number", "version_number"),
            ("id", "version_number"),
            ("created_at", "version_number"),
        ])?
        .is_some_and(|(_, d)| d);
    let id = dag_id.clone();
    let all = s.store.read(move |c| q::versions(c, &id)).await?;
    let (page, total) = page_of(all, desc, limit, offset);
    let page: Vec<Value> = page.iter().map(version_json).collect();
    Ok(Json(json!({"dag_versions": page, "total_entries": total})))
}

/// `GET /api/v2/dags/{dag_id}/dagVersions/{version_number}`.
pub async fn version(
    State(s): State<AppState>,
    Path((dag_id, n)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let n: i64 = n.parse().map_err(|_| {
        ApiError::unprocessable(
            "int_parsing",
            &["path", "version_number"],
            "Input should be a valid integer, unable to parse string as an integer",
            json!(n),
        )
    })?;
    let id = dag_id.clone();
    let v = s.store.read(move |c| q::version(c, &id, Some(n))).await?;
    v.map(|v| Json(version_json(&v))).ok_or_else(|| {
        ApiError::not_found(format!(
            "The DagVersion with dag_id: `{dag_id}` and version_number: `{n}` was not found"
        ))
    })
}

/// `GET /api/v2/dagSources/{dag_id}`.
pub async fn source(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let n = match p.get("version_number") {
        None | Some("") => None,
        Some(_) => Some(p.int("version_number", 0, 1)?),
    };
    let id = dag_id.clone();
    let v = s.store.read(move |c| q::version(c, &id, n)).await?;
    let v = v.ok_or_else(|| {
        ApiError::not_found(format!(
            "The source code of the Dag {dag_id}, version_number {} was not found",
            n.map(|n| n.to_string()).unwrap_or_else(|| "None".into())
        ))
    })?;
    Ok(Json(json!({
        "content": v.source,
        "version_number": v.version_number,
        "dag_id": v.dag_id,
        "dag_display_name": v.dag_id,
    })))
}

fn import_error_json(e: &q::ImportErrorRow) -> Value {
    json!({
        "import_error_id": e.id,
        "timestamp": ts(Some(&e.timestamp)),
        "filename": e.relative_filename,
        "bundle_name": "dags-folder",
        "stack_trace": e.stack_trace,
    })
}

/// `GET /api/v2/importErrors`.
pub async fn import_errors(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let desc = p
        .order_by(&[
            ("id", "id"),
            ("import_error_id", "id"),
            ("timestamp", "id"),
            ("filename", "id"),
        ])?
        .is_some_and(|(_, d)| d);
    let (rows, total) = s
        .store
        .read(move |c| q::import_errors(c, limit, offset, desc))
        .await?;
    Ok(Json(json!({
        "import_errors": rows.iter().map(import_error_json).collect::<Vec<_>>(),
        "total_entries": total,
    })))
}

/// `GET /api/v2/importErrors/{import_error_id}`.
pub async fn import_error(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let n: i64 = id.parse().map_err(|_| {
        ApiError::unprocessable(
            "int_parsing",
            &["path", "import_error_id"],
            "Input should be a valid integer, unable to parse string as an integer",
            json!(id),
        )
    })?;
    let (rows, _) = s
        .store
        .read(|c| q::import_errors(c, i64::MAX, 0, false))
        .await?;
    rows.iter()
        .find(|e| e.id == n)
        .map(|e| Json(import_error_json(e)))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The ImportError with import_error_id: `{n}` was not found"
            ))
        })
}

/// `PATCH /api/v2/dags`: pause or unpause every DAG the filters match (one page of them).
/// As in Airflow, nothing matches unless `dag_id_pattern` (or the prefix form) is given;
/// `~` matches every DAG.
pub async fn patch_many(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    p: Params,
    super::JsonBody(body): super::JsonBody<PatchDag>,
) -> Result<Response, ApiError> {
    let paused = check_patch(&p, &body)?;
    let (limit, offset) = p.page()?;
    let mut wh = dag_filter(&p)?;
    if p.get("dag_id_pattern").is_none_or(|v| v.is_empty())
        && p.get("dag_id_prefix_pattern").is_none_or(|v| v.is_empty())
    {
        wh.raw("0 = 1");
    }
    let ids: Vec<String> = s
        .store
        .write(move |tx| {
            let (rows, _) = q::list_dags(tx, &wh, None, limit, offset)?;
            for r in &rows {
                q::set_paused(tx, &r.dag_id, paused)?;
            }
            Ok(rows.into_iter().map(|r| r.dag_id).collect())
        })
        .await?;
    for id in &ids {
        s.events
            .publish("dag_updated", json!({"dag_id": id, "is_paused": paused}));
    }
    if let Some(sched) = &s.scheduler {
        sched.wake();
    }
    let mut wh = Where::default();
    wh.any_of("d.dag_id", &ids);
    if ids.is_empty() {
        wh.raw("0 = 1");
    }
    let (rows, total) = s
        .store
        .read(move |c| q::list_dags(c, &wh, None, i64::MAX, 0))
        .await?;
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("patch_dags").extra(json!({"method": "PATCH"})),
    )
    .await;
    Ok(dag_page(&rows, total))
}

/// The `is_paused` a PATCH asks for, after checking `update_mask`.
fn check_patch(p: &Params, body: &PatchDag) -> Result<bool, ApiError> {
    if let Some(bad) = p.all("update_mask").into_iter().find(|m| m != "is_paused") {
        return Err(ApiError::bad_request(format!(
            "Only `is_paused` field can be updated through the REST API, not `{bad}`"
        )));
    }
    body.is_paused.ok_or_else(|| {
        ApiError::unprocessable(
            "missing",
            &["body", "is_paused"],
            "Field required",
            Value::Null,
        )
    })
}

/// `DELETE /api/v2/dags/{dag_id}`: the DAG and all its metadata (it comes back at the next
/// parse while its file exists, as in Airflow). 409 while one of its tasks runs.
pub async fn delete(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    Path(dag_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = dag_id.clone();
    let running: bool = s
        .store
        .read(move |c| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM task_instance WHERE dag_id = ?1 AND state IN ('running', 'queued'))",
                [&id],
                |r| r.get(0),
            )
            .map_err(crate::store::sql)
        })
        .await?;
    if running {
        return Err(ApiError::conflict(format!(
            "Task instances of dag with id: '{dag_id}' are still running"
        )));
    }
    let runs: Vec<String> = {
        let id = dag_id.clone();
        s.store
            .read(move |c| {
                let mut st = c
                    .prepare("SELECT run_id FROM dag_run WHERE dag_id = ?1")
                    .map_err(crate::store::sql)?;
                st.query_map([&id], |r| r.get(0))
                    .map_err(crate::store::sql)?
                    .collect::<Result<_, _>>()
                    .map_err(crate::store::sql)
            })
            .await?
    };
    let id = dag_id.clone();
    let n = s
        .store
        .write(move |tx| q::delete_dag(tx, &id))
        .await?
        .ok_or_else(|| not_found(&dag_id))?;
    for r in &runs {
        s.xcom.delete_run(&dag_id, r)?;
    }
    s.events
        .publish("dag_removed", json!({"dag_id": dag_id, "deleted": true}));
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("delete_dag")
            .dag(&dag_id)
            .extra(json!({"method": "DELETE"})),
    )
    .await;
    Ok(Json(json!(n)))
}

/// `GET /api/v2/dagTags`: distinct tag names (`tag_name_pattern`, `order_by=name|-name`).
pub async fn dag_tags(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let desc = p.order_by(&[("name", "t.name")])?.is_some_and(|(_, d)| d);
    let mut wh = Where::default();
    p.patterns(&mut wh, &[("tag_name", "t.name")]);
    let (names, total) = s
        .store
        .read(move |c| q::tags(c, &wh, desc, limit, offset))
        .await?;
    Ok(Json(json!({"tags": names, "total_entries": total})))
}

/// `GET /api/v2/dagStats`: run counts per state for `dag_ids` (every DAG when absent).
pub async fn dag_stats(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let wanted: Vec<String> = p
        .all("dag_ids")
        .into_iter()
        .filter(|v| !v.is_empty())
        .collect();
    let w = wanted.clone();
    let (ids, counts) = s
        .store
        .read(move |c| {
            let mut wh = Where::default();
            wh.any_of("d.dag_id", &w);
            if w.is_empty() {
                wh.raw("d.is_stale = 0");
            }
            let (rows, _) = q::list_dags(c, &wh, None, i64::MAX, 0)?;
            let ids: Vec<String> = rows.into_iter().map(|r| r.dag_id).collect();
            let counts = crate::store::runs::run_stats(c, &ids)?;
            Ok((ids, counts))
        })
        .await?;
    if let Some(missing) = wanted.iter().find(|w| !ids.contains(w)) {
        return Err(not_found(missing));
    }
    let dags: Vec<Value> = ids
        .iter()
        .map(|id| {
            let stats: Vec<Value> = ["queued", "running", "success", "failed"]
                .iter()
                .map(|st| {
                    let n = counts
                        .iter()
                        .find(|(d, s, _)| d == id && s == st)
                        .map(|x| x.2)
                        .unwrap_or(0);
                    json!({"state": st, "count": n})
                })
                .collect();
            json!({"dag_id": id, "dag_display_name": id, "stats": stats})
        })
        .collect();
    Ok(Json(json!({"total_entries": dags.len(), "dags": dags})))
}

/// `GET /api/v2/dagWarnings`: Lite's one warning kind, tasks on a pool that does not exist
/// (`non-existent pool`, as Airflow words it); filter by `dag_id`, `warning_type`.
pub async fn dag_warnings(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let kinds = [
        "asset conflict",
        "non-existent pool",
        "runtime varying value",
    ];
    if let Some(k) = p
        .get("warning_type")
        .filter(|k| !k.is_empty() && !kinds.contains(k))
    {
        return Err(ApiError::unprocessable(
            "enum",
            &["query", "warning_type"],
            "Input should be 'asset conflict', 'non-existent pool' or 'runtime varying value'",
            json!(k),
        ));
    }
    let desc = p
        .order_by(&[
            ("dag_id", "dag_id"),
            ("warning_type", "dag_id"),
            ("message", "dag_id"),
            ("timestamp", "dag_id"),
        ])?
        .is_some_and(|(_, d)| d);
    let mut wh = Where::default();
    wh.raw("d.is_stale = 0");
    if let Some(d) = p.get("dag_id").filter(|v| !v.is_empty()) {
        wh.eq("d.dag_id", d.to_string());
    }
    let (rows, pools) = s
        .store
        .read(move |c| {
            Ok((
                q::list_dags(c, &wh, None, i64::MAX, 0)?.0,
                q::pool_names(c)?,
            ))
        })
        .await?;
    let mut warnings: Vec<Value> = Vec::new();
    if p.get("warning_type")
        .is_none_or(|k| k.is_empty() || k == "non-existent pool")
    {
        for r in &rows {
            let mut missing: Vec<&str> = r
                .dag
                .tasks
                .iter()
                .map(|t| t.pool.as_str())
                .filter(|pool| !pools.contains(*pool))
                .collect();
            missing.sort();
            missing.dedup();
            if !missing.is_empty() {
                warnings.push(json!({
                    "dag_id": r.dag_id,
                    "warning_type": "non-existent pool",
                    "message": format!("Dag '{}' references non-existent pools: {missing:?}", r.dag_id),
                    "timestamp": ts(r.last_parsed_time.as_deref()),
                    "dag_display_name": r.dag_id,
                }));
            }
        }
    }
    let (page, total) = page_of(warnings, desc, limit, offset);
    Ok(Json(json!({"dag_warnings": page, "total_entries": total})))
}

/// One page of an in-memory list (reversed first when `desc`), and the list's length.
fn page_of<T>(mut all: Vec<T>, desc: bool, limit: i64, offset: i64) -> (Vec<T>, usize) {
    if desc {
        all.reverse();
    }
    let total = all.len();
    let page = all
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    (page, total)
}

/// Routes of this module not listed in `api::app`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/dags", axum::routing::patch(patch_many))
        .route("/dags/{dag_id}", axum::routing::delete(delete))
        .route("/dagTags", get(dag_tags))
        .route("/dagStats", get(dag_stats))
        .route("/dagWarnings", get(dag_warnings))
}
