//! DAG routes of the Airflow API: `dags`, `dags/{id}`, `details`, `tasks`, `dagVersions`,
//! `dagSources`, `importErrors`, with Airflow 3.2's field names and shapes.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::{Params, like};
use super::{ApiError, AppState};
use crate::dag::{Dag, Task};
use crate::store::dags::{self as q, DagFilter, DagRow, VersionRow};

/// An RFC 3339 timestamp as Airflow prints it (`...Z`), or null.
pub fn ts(s: Option<&str>) -> Value {
    match s.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) {
        Some(t) => json!(
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        ),
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

fn tags(row: &DagRow) -> Value {
    json!(
        row.dag
            .tags
            .iter()
            .map(|t| json!({"name": t, "dag_id": row.dag_id, "dag_display_name": row.dag_id}))
            .collect::<Vec<_>>()
    )
}

/// The `DAGResponse` shape.
pub fn dag_json(row: &DagRow) -> Value {
    let d = &row.dag;
    json!({
        "dag_id": row.dag_id,
        "dag_display_name": d.extra.get("dag_display_name").cloned().unwrap_or_else(|| json!(row.dag_id)),
        "is_paused": row.is_paused,
        "is_stale": row.is_stale,
        "last_parsed_time": ts(row.last_parsed_time.as_deref()),
        "last_parse_duration": row.last_parse_duration,
        "last_expired": null,
        "bundle_name": "dags-folder",
        "bundle_version": null,
        "relative_fileloc": row.relative_fileloc,
        "fileloc": row.fileloc,
        "description": d.description,
        "timetable_summary": d.timetable_summary,
        "timetable_description": timetable_description(d),
        "timetable_partitioned": false,
        "tags": tags(row),
        "max_active_tasks": d.max_active_tasks,
        "max_active_runs": d.max_active_runs,
        "max_consecutive_failed_dag_runs": d.max_consecutive_failed_dag_runs,
        "has_task_concurrency_limits": d.tasks.iter().any(|t| t.extra.get("max_active_tis_per_dag").is_some_and(|v| !v.is_null())),
        "has_import_errors": row.has_import_errors,
        "next_dagrun_logical_date": ts(row.next_dagrun_logical_date.as_deref()),
        "next_dagrun_data_interval_start": ts(row.next_dagrun_data_interval_start.as_deref()),
        "next_dagrun_data_interval_end": ts(row.next_dagrun_data_interval_end.as_deref()),
        "next_dagrun_run_after": ts(row.next_dagrun_run_after.as_deref()),
        "allowed_run_types": null,
        "owners": d.owner.split(',').map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        "file_token": row.relative_fileloc,
    })
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
    json!({
        "id": id,
        "version_number": number,
        "dag_id": dag_id,
        "bundle_name": "dags-folder",
        "bundle_version": null,
        "created_at": ts(created_at),
        "dag_display_name": dag_id,
        "bundle_url": null,
    })
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

/// `GET /api/v2/dags`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let filter = DagFilter {
        dag_id_pattern: p.get("dag_id_pattern").filter(|v| !v.is_empty()).map(like),
        tags: p.all("tags"),
        tags_match_all: p.get("tags_match_mode") == Some("all"),
        paused: p.bool("paused")?,
        exclude_stale: p.bool("exclude_stale")?.unwrap_or(true),
        order_by: p.order_by(&[
            ("dag_id", "d.dag_id"),
            ("dag_display_name", "d.dag_id"),
            ("next_dagrun", "d.next_dagrun_run_after"),
            ("last_run_state", "d.dag_id"),
            ("last_run_start_date", "d.dag_id"),
            ("is_paused", "d.is_paused"),
        ])?,
        limit,
        offset,
    };
    let (rows, total) = s.store.read(move |c| q::list_dags(c, &filter)).await?;
    Ok(Json(json!({
        "dags": rows.iter().map(dag_json).collect::<Vec<_>>(),
        "total_entries": total,
    })))
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
    let latest = s.store.read(move |c| q::version(c, &id, None)).await?;
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
        ("active_runs_count", json!(0)),
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
pub struct PatchDag {
    is_paused: Option<bool>,
}

/// `PATCH /api/v2/dags/{dag_id}` (`is_paused`).
pub async fn patch(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    p: Params,
    super::JsonBody(body): super::JsonBody<PatchDag>,
) -> Result<Json<Value>, ApiError> {
    if let Some(mask) = p.get("update_mask")
        && mask != "is_paused"
    {
        return Err(ApiError::bad_request(format!(
            "Only `is_paused` field can be updated through the REST API, not {mask:?}"
        )));
    }
    let Some(paused) = body.is_paused else {
        return Err(ApiError::unprocessable(
            "missing",
            &["body", "is_paused"],
            "Field required",
            Value::Null,
        ));
    };
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
    let mut all = s.store.read(move |c| q::versions(c, &id)).await?;
    if desc {
        all.reverse();
    }
    let total = all.len();
    let page: Vec<Value> = all
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(version_json)
        .collect();
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
