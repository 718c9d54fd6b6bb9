//! Human-in-the-loop routes of the Airflow API: a task instance's detail (its current try, or
//! one try), the list of a run's (or every run's, `~`) details with Airflow's filters, and the
//! answer (`PATCH`, through `ops::hitl`), in Airflow 3.2's shapes.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dags::ts;
use super::params::{Filter, Params};
use super::routes::Group;
use super::task_instances::{load_ti, path_int, ti_json, try_json};
use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::ops;
use crate::store::hitl::{self, HitlRow};
use crate::store::runs::{self as rq, RunRow};
use crate::store::tis::{self as tq, TiRow};

/// A detail's params as Airflow shows them: every value a `{value, description, schema}`.
fn params_out(params: &Value) -> Value {
    let is_param = |v: &Value| {
        ["description", "schema", "value"]
            .iter()
            .all(|k| v.get(k).is_some())
    };
    Value::Object(
        params
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let p = if is_param(v) {
                    v.clone()
                } else {
                    json!({"value": v, "description": null, "schema": {}})
                };
                (k.clone(), p)
            })
            .collect(),
    )
}

/// `BaseHITLDetail` without `task_instance`, in Airflow's field order.
fn detail_fields(h: &HitlRow) -> serde_json::Map<String, Value> {
    let mut o = serde_json::Map::new();
    o.insert("options".into(), h.options.clone());
    o.insert("subject".into(), json!(h.subject));
    o.insert("body".into(), json!(h.body));
    o.insert("defaults".into(), h.defaults.clone().unwrap_or(Value::Null));
    o.insert("multiple".into(), json!(h.multiple));
    o.insert("params".into(), params_out(&h.params));
    o.insert(
        "assigned_users".into(),
        h.assignees.clone().unwrap_or_else(|| json!([])),
    );
    o.insert("created_at".into(), ts(Some(&h.created_at)));
    o.insert(
        "responded_by_user".into(),
        h.responded_by.clone().unwrap_or(Value::Null),
    );
    o.insert("responded_at".into(), ts(h.responded_at.as_deref()));
    o.insert(
        "chosen_options".into(),
        h.chosen_options.clone().unwrap_or(Value::Null),
    );
    o.insert("params_input".into(), h.params_input.clone());
    o.insert("response_received".into(), json!(h.responded_at.is_some()));
    o
}

/// `HITLDetail`: the detail with its task instance (`TaskInstanceResponse`).
fn detail_json(h: &HitlRow, ti: &TiRow, run: &RunRow) -> Value {
    let mut o = detail_fields(h);
    o.insert("task_instance".into(), ti_json(ti, Some(run)));
    Value::Object(o)
}

/// The detail of a task instance's current try (404s in Airflow's words).
async fn current(
    s: &AppState,
    (dag_id, run_id, task_id): (&str, &str, &str),
    map_index: i64,
) -> Result<Json<Value>, ApiError> {
    let (ti, run) = load_ti(s, dag_id, run_id, task_id, map_index).await?;
    let (id, n) = (ti.id.clone(), ti.try_number);
    let h = s
        .store
        .read(move |db| hitl::get(db, &id, n))
        .await?
        .ok_or_else(|| ops::hitl::no_detail(&ti.id))?;
    Ok(Json(detail_json(&h, &ti, &run)))
}

/// `GET .../taskInstances/{task_id}/{map_index}/hitlDetails`.
pub async fn get(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, m)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let m = path_int("map_index", &m)?;
    current(&s, (&dag_id, &run_id, &task_id), m).await
}

/// `GET .../taskInstances/{task_id}/{map_index}/hitlDetails/tries/{try_number}`: that try's
/// detail with the try as `TaskInstanceHistoryResponse`.
pub async fn get_try(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, m, n)): Path<(String, String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let m = path_int("map_index", &m)?;
    let n = path_int("try_number", &n)?;
    let (ti, run) = load_ti(&s, &dag_id, &run_id, &task_id, m).await?;
    let id = ti.id.clone();
    let (h, tries) = s
        .store
        .read(move |db| {
            Ok::<_, crate::store::StoreError>((hitl::get(db, &id, n)?, tq::tries(db, &id)?))
        })
        .await?;
    let h = h.ok_or_else(|| ops::hitl::no_detail(&ti.id))?;
    let t = tries
        .into_iter()
        .find(|t| t.try_number == n)
        .unwrap_or_else(|| tq::TryRow {
            try_number: ti.try_number,
            state: ti.state.clone(),
            start_date: ti.start_date.clone(),
            end_date: ti.end_date.clone(),
            duration: ti.duration,
            pid: ti.pid,
        });
    let mut o = detail_fields(&h);
    o.insert("task_instance".into(), try_json(&ti, &run, &t));
    Ok(Json(Value::Object(o)))
}

/// `UpdateHITLDetailPayload`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    chosen_options: Vec<String>,
    #[serde(default)]
    params_input: serde_json::Map<String, Value>,
}

/// `PATCH .../taskInstances/{task_id}/{map_index}/hitlDetails`: the answer; Airflow's
/// `HITLDetailResponse` (who, when, what).
pub async fn update(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id, task_id, m)): Path<(String, String, String, String)>,
    JsonBody(body): JsonBody<Answer>,
) -> Result<Json<Value>, ApiError> {
    let m = path_int("map_index", &m)?;
    if body.chosen_options.is_empty() {
        return Err(ApiError::unprocessable(
            "too_short",
            &["body", "chosen_options"],
            "List should have at least 1 item after validation, not 0",
            json!([]),
        ));
    }
    let r = ops::hitl::Response {
        chosen_options: body.chosen_options,
        params_input: Value::Object(body.params_input),
        all_admins: s.config.no_auth || s.auth.is_none(),
    };
    let h = ops::hitl::respond(&s.ops, &identity, (&dag_id, &run_id, &task_id), m, r).await?;
    Ok(Json(json!({
        "responded_by": h.responded_by,
        "responded_at": ts(h.responded_at.as_deref()),
        "chosen_options": h.chosen_options,
        "params_input": h.params_input,
    })))
}

const ORDER: &[(&str, &str)] = &[
    ("ti_id", "ti_id"),
    ("subject", "subject"),
    ("responded_at", "responded_at"),
    ("created_at", "created_at"),
    ("responded_by_user_id", "responded_by_user_id"),
    ("responded_by_user_name", "responded_by_user_name"),
    ("dag_id", "dag_id"),
    ("run_id", "run_id"),
    ("run_after", "run_after"),
    ("rendered_map_index", "map_index"),
    ("task_instance_operator", "operator"),
    ("task_instance_state", "state"),
];

/// `GET /dags/{dag_id}/dagRuns/{dag_run_id}/hitlDetails` (`~` for every DAG or run), with
/// Airflow's filters.
pub async fn list(
    State(s): State<AppState>,
    Path((dag_id, run_id)): Path<(String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let order = p.order_by(ORDER)?;
    let mut f = Filter::default();
    if dag_id != "~" {
        f.eq("dag_id", dag_id.clone());
    }
    if run_id != "~" {
        f.eq("run_id", run_id.clone());
    }
    p.patterns(&mut f, &[("dag_id", "dag_id"), ("task_id", "task_id")]);
    p.lists(&mut f, &[("task_id", "task_id"), ("state", "state")]);
    p.ints(&mut f, &[("map_index", "map_index")])?;
    if let Some(b) = p.bool("response_received")? {
        f.eq("response_received", b);
    }
    p.lists(
        &mut f,
        &[
            ("responded_by_user_id", "responded_by_user_id"),
            ("responded_by_user_name", "responded_by_user_name"),
        ],
    );
    if let Some(t) = p.terms("subject_search") {
        f.push(super::params::Cond::Contains("subject", t));
    }
    if let Some(t) = p.terms("body_search") {
        f.push(super::params::Cond::Contains("body", t));
    }
    p.ranges(&mut f, &[("created_at", "created_at")])?;
    let (rows, total, tis) = s
        .store
        .read(move |db| {
            let (rows, total) = hitl::list(db, &f, &order, limit, offset)?;
            let mut tis = Vec::new();
            for h in &rows {
                let ti = tq::by_id(db, &h.ti_id)?;
                let run = match &ti {
                    Some(t) => rq::get(db, &t.dag_id, &t.run_id)?,
                    None => None,
                };
                tis.push(ti.zip(run));
            }
            Ok::<_, crate::store::StoreError>((rows, total, tis))
        })
        .await?;
    let details: Vec<Value> = rows
        .iter()
        .zip(tis)
        .filter_map(|(h, t)| t.map(|(ti, run)| detail_json(h, &ti, &run)))
        .collect();
    Ok(Json(
        json!({"hitl_details": details, "total_entries": total}),
    ))
}

const TI: &str =
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}/hitlDetails";

/// The Human-in-the-loop routes that read.
pub fn reads(g: Group) -> Group {
    g.get(TI, get)
        .get(&format!("{TI}/tries/{{try_number}}"), get_try)
        .get("/dags/{dag_id}/dagRuns/{dag_run_id}/hitlDetails", list)
}

/// The answer: a DAG operation (Airflow's `PUT` on `HITL_DETAIL`).
pub fn writes(g: Group) -> Group {
    g.patch(TI, update)
}
