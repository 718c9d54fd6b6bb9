//! DAG routes of the Airflow API: `dags`, `dags/{id}`, `details`, `tasks`, `dagVersions`,
//! `dagSources`, `importErrors`, with Airflow 3.2's field names and shapes.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::{Filter, Params};
use super::routes::Group;
use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::dag::{Dag, Task};
use crate::ops;
use crate::store::dags::{self as q, DagFilter, DagRow, VersionRow};

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
    bundle_name: &'a str,
    bundle_version: Option<&'a str>,
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
    file_token: String,
}

/// The token `PUT /parseDagFile/{file_token}` takes, in the form of Airflow's (itsdangerous'
/// `URLSafeSerializer`): the base64url of `{"bundle_name", "relative_fileloc"}`, a dot, and a
/// 27-character tag. Airflow's tag is an HMAC with its secret key; Lite's is a SHA-256 check of
/// the payload (the token names a file, and a parse request acts only on files DAGs come
/// from).
pub fn file_token(bundle_name: &str, relative_fileloc: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = json!({"bundle_name": bundle_name, "relative_fileloc": relative_fileloc});
    let body = b64.encode(payload.to_string());
    let tag = b64.encode(&<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes())[..20]);
    format!("{body}.{tag}")
}

/// The `(bundle_name, relative_fileloc)` a [`file_token`] names; `None` when it is not one.
pub fn read_file_token(token: &str) -> Option<(String, String)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (body, tag) = token.rsplit_once('.')?;
    let want = b64.encode(&<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes())[..20]);
    if tag != want {
        return None;
    }
    let v: Value = serde_json::from_slice(&b64.decode(body).ok()?).ok()?;
    Some((
        v["bundle_name"].as_str()?.to_string(),
        v["relative_fileloc"].as_str()?.to_string(),
    ))
}

/// `PUT /api/v2/parseDagFile/{file_token}`: the file is parsed now (201, no body; 404 `File
/// not found` for a token that names no DAG file).
pub async fn reparse(
    State(s): State<AppState>,
    identity: Identity,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let (bundle, rel) =
        read_file_token(&token).ok_or_else(|| ApiError::not_found("File not found"))?;
    ops::dags::reparse(&s.ops, &identity, &bundle, &rel).await?;
    Ok((axum::http::StatusCode::CREATED, Json(Value::Null)).into_response())
}

/// `POST /api/v2/dags/{dag_id}/favorite`: 204.
pub async fn favorite(
    State(s): State<AppState>,
    identity: Identity,
    Path(dag_id): Path<String>,
) -> Result<Response, ApiError> {
    ops::dags::favorite(&s.ops, &identity, &dag_id, true).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v2/dags/{dag_id}/unfavorite`: 204 (409 when it was not a favourite).
pub async fn unfavorite(
    State(s): State<AppState>,
    identity: Identity,
    Path(dag_id): Path<String>,
) -> Result<Response, ApiError> {
    ops::dags::favorite(&s.ops, &identity, &dag_id, false).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
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
        bundle_name: &row.bundle_name,
        bundle_version: row.bundle_version.as_deref(),
        relative_fileloc: &row.relative_fileloc,
        fileloc: &row.fileloc,
        description: &d.description,
        timetable_summary: &d.timetable_summary,
        timetable_description: timetable_description(d),
        timetable_partitioned: match &d.schedule {
            Some(crate::dag::model::Schedule::Assets { partitioned, .. }) => *partitioned,
            Some(crate::dag::model::Schedule::Cron { extra, .. }) => {
                extra.get("partitioned") == Some(&Value::Bool(true))
            }
            _ => false,
        },
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
        file_token: file_token(&row.bundle_name, &row.relative_fileloc),
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
        Some(Schedule::Assets {
            or_timetable: Some(t),
            ..
        }) => {
            let inner = Dag {
                schedule: Some((**t).clone()),
                ..Dag::default()
            };
            match timetable_description(&inner) {
                Value::String(d) => json!(format!("Triggered by assets or {d}")),
                _ => json!("Triggered by assets"),
            }
        }
        Some(Schedule::Assets { .. }) => json!("Triggered by assets"),
        Some(Schedule::Custom { extra, .. }) => extra
            .get("description")
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| json!("")),
        Some(Schedule::Cron { expr, .. }) => crate::dag::validate::check_cron(expr)
            .map(|c| json!(c.describe()))
            .unwrap_or(Value::Null),
    }
}

/// The `DagVersionResponse` shape.
pub fn version_json(v: &VersionRow) -> Value {
    let bundle = (Some(v.bundle_name.as_str()), v.bundle_version.as_deref());
    serde_json::to_value(version_out(
        &v.id,
        v.version_number,
        &v.dag_id,
        Some(&v.created_at),
        bundle,
    ))
    .expect("a version serialises")
}

/// The `DagVersionResponse` shape, in Airflow's field order.
#[derive(serde::Serialize)]
pub struct VersionOut<'a> {
    id: &'a str,
    version_number: i64,
    dag_id: &'a str,
    bundle_name: &'a str,
    bundle_version: Option<&'a str>,
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
    bundle: (Option<&'a str>, Option<&'a str>),
) -> VersionOut<'a> {
    VersionOut {
        id,
        version_number: number,
        dag_id,
        bundle_name: bundle.0.unwrap_or(q::DAGS_FOLDER),
        bundle_version: bundle.1,
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

/// The DAG filters shared by `GET /dags` and `PATCH /dags` (`who`: for `is_favorite`).
fn dag_filter(p: &Params, who: &Identity) -> Result<DagFilter, ApiError> {
    let mut q = DagFilter::default();
    let f = &mut q.filter;
    p.patterns(f, &[("dag_id", "dag_id"), ("dag_display_name", "dag_id")]);
    if p.bool("exclude_stale")?.unwrap_or(true) {
        f.eq("is_stale", false);
    }
    if let Some(paused) = p.bool("paused")? {
        f.eq("is_paused", paused);
    }
    if let Some(e) = p.bool("has_import_errors")? {
        f.eq("has_import_errors", e);
    }
    q.tags = p
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
    q.all_tags = mode == "all";
    q.owners = p
        .all("owners")
        .into_iter()
        .filter(|o| !o.is_empty())
        .collect();
    if let Some(state) = p.get("last_dag_run_state").filter(|v| !v.is_empty()) {
        if !["queued", "running", "success", "failed"].contains(&state) {
            return Err(ApiError::unprocessable(
                "enum",
                &["query", "last_dag_run_state"],
                "Input should be 'queued', 'running', 'success' or 'failed'",
                json!(state),
            ));
        }
        f.eq("last_run_state", state);
    }
    if let Some(b) = p.get("bundle_name").filter(|v| !v.is_empty())
        && b != "dags-folder"
    {
        f.never();
    }
    q.favorite_of = p
        .bool("is_favorite")?
        .map(|yes| (who.username.clone(), yes));
    // Filters on a DAG's runs: the DAG matches when one of its runs matches them all.
    p.ranges(
        &mut q.runs,
        &[
            ("dag_run_start_date", "start_date"),
            ("dag_run_end_date", "end_date"),
        ],
    )?;
    p.lists(&mut q.runs, &[("dag_run_state", "state")]);
    Ok(q)
}

const DAG_ORDER: &[(&str, &str)] = &[
    ("dag_id", "dag_id"),
    ("dag_display_name", "dag_id"),
    ("next_dagrun", "next_dagrun"),
    ("state", "last_run_state"),
    ("start_date", "last_run_start_date"),
    ("last_run_state", "last_run_state"),
    ("last_run_start_date", "last_run_start_date"),
    ("is_paused", "is_paused"),
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
pub async fn list(
    State(s): State<AppState>,
    identity: Identity,
    p: Params,
) -> Result<Response, ApiError> {
    let (limit, offset) = p.page()?;
    let f = DagFilter {
        order: p.order_by(DAG_ORDER)?,
        limit,
        offset,
        ..dag_filter(&p, &identity)?
    };
    let (rows, total) = s.store.read(move |db| q::list_dags(db, &f)).await?;
    Ok(dag_page(&rows, total))
}

async fn load(s: &AppState, dag_id: &str) -> Result<DagRow, ApiError> {
    let id = dag_id.to_string();
    s.store
        .read(move |db| q::get_dag(db, &id))
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
    identity: Identity,
    Path(dag_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = load(&s, &dag_id).await?;
    let (id, user) = (dag_id.clone(), identity.username.clone());
    let (latest, active_runs, is_favorite) = s
        .store
        .read(move |db| {
            let active = crate::store::runs::count_running(db, &id)?;
            let favorite = q::is_favorite(db, &user, &id)?;
            Ok::<_, crate::store::StoreError>((q::version(db, &id, None)?, active, favorite))
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
                .and_then(|s| s.asset_condition())
                .map(|e| serde_json::to_value(e).expect("an expression serialises"))
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
        ("is_favorite", json!(is_favorite)),
        // Lite's own: the image a registered DAG runs in.
        (
            "image",
            d.extra.get("image").cloned().unwrap_or(Value::Null),
        ),
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
    identity: Identity,
    Path(dag_id): Path<String>,
    p: Params,
    super::JsonBody(body): super::JsonBody<PatchDag>,
) -> Result<Json<Value>, ApiError> {
    let paused = check_patch(&p, &body)?;
    let row = ops::dags::set_paused(&s.ops, &identity, &dag_id, paused).await?;
    Ok(Json(dag_json(&row)))
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
    let desc = p.descending(&["version_number", "id", "created_at"])?;
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
    let desc = p.descending(&["id", "import_error_id", "timestamp", "filename"])?;
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
    identity: Identity,
    p: Params,
    super::JsonBody(body): super::JsonBody<PatchDag>,
) -> Result<Response, ApiError> {
    let paused = check_patch(&p, &body)?;
    let (limit, offset) = p.page()?;
    let mut f = DagFilter {
        limit,
        offset,
        ..dag_filter(&p, &identity)?
    };
    if p.get("dag_id_pattern").is_none_or(|v| v.is_empty())
        && p.get("dag_id_prefix_pattern").is_none_or(|v| v.is_empty())
    {
        f.filter.never();
    }
    let rows = ops::dags::set_paused_matching(&s.ops, &identity, f, paused).await?;
    let total = rows.len() as i64;
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
    identity: Identity,
    Path(dag_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let n = ops::dags::delete(&s.ops, &identity, &dag_id).await?;
    Ok(Json(json!(n)))
}

/// `POST /api/v2/dags/{dag_id}/versions` (admin): registers a dag.json, as `leoflow deploy`
/// does with Pro: 201 with `{dag_id, version, spec_hash, created}` for a new version, 200 when
/// the latest version has the same content.
pub async fn register(
    State(s): State<AppState>,
    identity: Identity,
    Path(dag_id): Path<String>,
    JsonBody(doc): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let paused = s.config.dags_paused_at_creation;
    let r = ops::dags::register(&s.ops, &identity, &dag_id, doc, paused).await?;
    let status = if r.created {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    };
    let body = json!({"dag_id": r.dag_id, "version": r.version, "spec_hash": r.spec_hash, "created": r.created});
    Ok((status, Json(body)).into_response())
}

/// `GET /api/v2/dagTags`: distinct tag names (`tag_name_pattern`, `order_by=name|-name`).
pub async fn dag_tags(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let desc = p.descending(&["name"])?;
    let mut f = Filter::default();
    p.patterns(&mut f, &[("tag_name", "name")]);
    let (names, total) = s
        .store
        .read(move |db| q::tags(db, &f, desc, limit, offset))
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
        .read(move |db| {
            let mut f = Filter::default();
            f.any_of("dag_id", &w);
            if w.is_empty() {
                f.eq("is_stale", false);
            }
            let (rows, _) = q::list_dags(db, &DagFilter::all(f))?;
            let ids: Vec<String> = rows.into_iter().map(|r| r.dag_id).collect();
            let counts = crate::store::runs::run_stats(db, &ids)?;
            Ok::<_, crate::store::StoreError>((ids, counts))
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
    let desc = p.descending(&["dag_id", "warning_type", "message", "timestamp"])?;
    let mut f = Filter::default();
    f.eq("is_stale", false);
    if let Some(d) = p.get("dag_id").filter(|v| !v.is_empty()) {
        f.eq("dag_id", d.to_string());
    }
    let (rows, pools) = s
        .store
        .read(move |db| {
            Ok::<_, crate::store::StoreError>((
                q::list_dags(db, &DagFilter::all(f))?.0,
                q::pool_names(db)?,
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

/// The DAG routes that read (relative to `/api/v2`).
pub fn reads(g: Group) -> Group {
    g.get("/dags", list)
        .get("/dags/{dag_id}", get)
        .get("/dags/{dag_id}/details", details)
        .get("/dags/{dag_id}/tasks", tasks)
        .get("/dags/{dag_id}/tasks/{task_id}", task)
        .get("/dags/{dag_id}/dagVersions", versions)
        .get("/dags/{dag_id}/dagVersions/{version_number}", version)
        .get("/dagSources/{dag_id}", source)
        .get("/importErrors", import_errors)
        .get("/importErrors/{import_error_id}", import_error)
        .get("/dagTags", dag_tags)
        .get("/dagStats", dag_stats)
        .get("/dagWarnings", dag_warnings)
        // Marking favourites needs only read access to the DAG in Airflow.
        .post("/dags/{dag_id}/favorite", favorite)
        .post("/dags/{dag_id}/unfavorite", unfavorite)
}

/// The DAG routes that change DAGs.
pub fn writes(g: Group) -> Group {
    g.patch("/dags", patch_many)
        .patch("/dags/{dag_id}", patch)
        .delete("/dags/{dag_id}", delete)
        .put("/parseDagFile/{file_token}", reparse)
}

/// The admin-only DAG routes: registrations.
pub fn registrations(g: Group) -> Group {
    g.post("/dags/{dag_id}/versions", register)
}
