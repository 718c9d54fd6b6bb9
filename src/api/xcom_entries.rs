//! XCom routes of the Airflow API: `.../taskInstances/{task_id}/xcomEntries` (list with `~`
//! for the DAG, run and task; create) and `.../xcomEntries/{key}` (get, with `stringify`;
//! patch), in Airflow 3.2's shapes. Values live in the sled store (`crate::xcom`); run and
//! task-instance facts (dates) come from SQLite.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dags::ts;
use super::params::{Params, Where};
use super::{ApiError, AppState, JsonBody};
use crate::store::runs::{self as q, RunFilter, RunRow};
use crate::xcom::{XcomError, XcomKey};

/// The `XComResponse` shape (without `value`).
fn entry_json(k: &XcomKey, run: &RunRow, timestamp: Option<&str>) -> Value {
    json!({
        "key": k.key,
        "timestamp": ts(timestamp.or(run.start_date.as_deref()).or(Some(&run.run_after))),
        "logical_date": ts(run.logical_date.as_deref()),
        "map_index": k.map_index,
        "task_id": k.task_id,
        "dag_id": k.dag_id,
        "run_id": k.run_id,
        "dag_display_name": k.dag_id,
        "task_display_name": k.task_id,
        "run_after": ts(Some(&run.run_after)),
    })
}

/// Python's `str()` of a JSON value, as Airflow's `stringify=true` answers it.
fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let q = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let body: String = s
                .chars()
                .flat_map(|c| match c {
                    '\\' => vec!['\\', '\\'],
                    '\n' => vec!['\\', 'n'],
                    '\t' => vec!['\\', 't'],
                    c if c == q => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("{q}{body}{q}")
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", python_repr(&json!(k)), python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// SQL `LIKE` semantics (case-insensitive, `%` any run, `_` one char) for values that live
/// outside SQLite.
fn like(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => {
                t.first()
                    .is_some_and(|x| x.to_lowercase().eq(c.to_lowercase()))
                    && go(rest, &t[1..])
            }
        }
    }
    let p: Vec<char> = format!("%{pattern}%").chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

/// Airflow's `*_pattern` (terms ORed with `|`, `~` for all) and `*_prefix_pattern` on `text`.
fn matches(p: &Params, name: &str, text: &str) -> bool {
    let terms = |v: &str| -> Vec<String> {
        v.split('|')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    };
    if let Some(v) = p.get(&format!("{name}_pattern")).filter(|v| !v.is_empty()) {
        let t = terms(v);
        if !t.iter().any(|t| t == "~" || like(t, text)) {
            return false;
        }
    }
    if let Some(v) = p
        .get(&format!("{name}_prefix_pattern"))
        .filter(|v| !v.is_empty())
    {
        let t = terms(v);
        if !t.iter().any(|t| t == "~" || text.starts_with(t.as_str())) {
            return false;
        }
    }
    true
}

fn xcom_error(e: XcomError) -> ApiError {
    match e {
        XcomError::TooLarge { .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        other => ApiError::internal(other),
    }
}

/// `GET .../taskInstances/{task_id}/xcomEntries`: `~` for any DAG, run or task; filters
/// `xcom_key`, `map_index`, the `*_pattern`s, run dates; paged.
pub async fn list(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let map_index = match p.get("map_index") {
        None | Some("") => None,
        Some(_) => Some(p.int("map_index", -1, -1)?),
    };
    let mut extra = Where::default();
    if run_id != "~" {
        extra.eq("r.run_id", run_id.clone());
    }
    p.ranges(
        &mut extra,
        &[
            ("logical_date", "r.logical_date"),
            ("run_after", "r.run_after"),
        ],
    )?;
    p.patterns(
        &mut extra,
        &[("run_id", "r.run_id"), ("dag_display_name", "r.dag_id")],
    );
    let filter = RunFilter {
        dag_id: (dag_id != "~").then(|| dag_id.clone()),
        limit: i64::MAX,
        extra,
        ..Default::default()
    };
    let runs = s.store.read(move |c| Ok(q::list(c, &filter)?.0)).await?;
    if dag_id != "~" && run_id != "~" && runs.is_empty() {
        return Err(ApiError::not_found(format!(
            "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
        )));
    }
    let key = p
        .get("xcom_key")
        .filter(|k| !k.is_empty())
        .map(String::from);
    let map_filter = p.get("map_index_filter").filter(|v| !v.is_empty());
    let task = (task_id != "~").then_some(task_id.as_str());
    let mut found: Vec<(XcomKey, &RunRow)> = Vec::new();
    for run in &runs {
        for (k, _) in s.xcom.list(&run.dag_id, &run.run_id, task)? {
            let keep = key.as_ref().is_none_or(|x| *x == k.key)
                && map_index.is_none_or(|m| m == k.map_index)
                && map_filter.is_none_or(|f| like(f, &k.map_index.to_string()))
                && matches(&p, "xcom_key", &k.key)
                && matches(&p, "task_id", &k.task_id);
            if keep {
                found.push((k, run));
            }
        }
    }
    let desc = match p.order_by(&[
        ("key", "key"),
        ("dag_id", "dag_id"),
        ("run_id", "run_id"),
        ("task_id", "task_id"),
        ("map_index", "map_index"),
        ("timestamp", "timestamp"),
        ("logical_date", "logical_date"),
        ("run_after", "run_after"),
    ])? {
        Some((col, desc)) => {
            found.sort_by(|(a, ra), (b, rb)| match col {
                "key" => a.key.cmp(&b.key),
                "dag_id" => a.dag_id.cmp(&b.dag_id),
                "run_id" => a.run_id.cmp(&b.run_id),
                "task_id" => a.task_id.cmp(&b.task_id),
                "map_index" => a.map_index.cmp(&b.map_index),
                "logical_date" => ra.logical_date.cmp(&rb.logical_date),
                _ => ra.run_after.cmp(&rb.run_after),
            });
            desc
        }
        None => false,
    };
    if desc {
        found.reverse();
    }
    let total = found.len();
    let page: Vec<(XcomKey, &RunRow)> = found
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    let ends = end_dates(&s, page.iter().map(|(k, _)| k.clone()).collect()).await?;
    let entries: Vec<Value> = page
        .iter()
        .zip(ends.iter())
        .map(|((k, run), end)| entry_json(k, run, end.as_deref()))
        .collect();
    Ok(Json(
        json!({"xcom_entries": entries, "total_entries": total}),
    ))
}

/// The end date of each key's task instance (the XCom's timestamp; sled keeps none).
async fn end_dates(s: &AppState, keys: Vec<XcomKey>) -> Result<Vec<Option<String>>, ApiError> {
    Ok(s.store
        .read(move |c| {
            keys.iter()
                .map(|k| {
                    c.query_row(
                        "SELECT end_date FROM task_instance WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_index = ?4",
                        rusqlite::params![k.dag_id, k.run_id, k.task_id, k.map_index],
                        |r| r.get::<_, Option<String>>(0),
                    )
                    .or_else(|e| match e {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        e => Err(e),
                    })
                    .map_err(crate::store::sql)
                })
                .collect()
        })
        .await?)
}

/// The run an XCom belongs to and its task instance's end: 404 when either is missing.
async fn load(
    s: &AppState,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: i64,
) -> Result<(RunRow, Option<String>), ApiError> {
    let (ti, run) = super::runs::load_ti(s, dag_id, run_id, task_id, map_index).await?;
    Ok((run, ti.end_date))
}

fn key_of(dag_id: &str, run_id: &str, task_id: &str, map_index: i64, key: &str) -> XcomKey {
    XcomKey {
        dag_id: dag_id.into(),
        run_id: run_id.into(),
        task_id: task_id.into(),
        map_index,
        key: key.into(),
    }
}

/// `GET .../xcomEntries/{xcom_key}` (`map_index`, `stringify`, `deserialize`).
pub async fn get(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, key)): Path<(String, String, String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let map_index = p.int("map_index", -1, -1)?;
    let stringify = p.bool("stringify")?.unwrap_or(false);
    let _ = p.bool("deserialize")?;
    let (run, end) = load(&s, &dag_id, &run_id, &task_id, map_index).await?;
    let k = key_of(&dag_id, &run_id, &task_id, map_index, &key);
    let value = s.xcom.get(&k)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "XCom entry with key: `{key}` not found for dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: `{task_id}` and map_index: `{map_index}`"
        ))
    })?;
    let mut v = entry_json(&k, &run, end.as_deref());
    v["value"] = if stringify {
        json!(python_str(&value))
    } else {
        value
    };
    Ok(Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    key: String,
    value: Value,
    #[serde(default = "minus_one")]
    map_index: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    value: Value,
    #[serde(default = "minus_one")]
    map_index: i64,
}

fn minus_one() -> i64 {
    -1
}

/// `POST .../xcomEntries`: a new value (409 when the key exists); 201 with the entry.
pub async fn create(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    if body.key.is_empty() {
        return Err(ApiError::unprocessable(
            "string_too_short",
            &["body", "key"],
            "String should have at least 1 character",
            json!(body.key),
        ));
    }
    let (run, end) = load(&s, &dag_id, &run_id, &task_id, body.map_index).await?;
    let k = key_of(&dag_id, &run_id, &task_id, body.map_index, &body.key);
    if s.xcom.get(&k)?.is_some() {
        return Err(ApiError::conflict(format!(
            "The XCom with key: `{}` with mentioned task instance already exists.",
            body.key
        )));
    }
    s.xcom.put(&k, &body.value).map_err(xcom_error)?;
    s.xcom.flush()?;
    let mut v = entry_json(&k, &run, end.as_deref());
    v["value"] = body.value;
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("create_xcom_entry")
            .dag(&dag_id)
            .run(&run_id)
            .task(&task_id)
            .extra(json!({"method": "POST"})),
    )
    .await;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `PATCH .../xcomEntries/{xcom_key}`: replaces the value (404 when the key does not exist).
pub async fn update(
    State(s): State<AppState>,
    identity: super::identity::Identity,
    Path((dag_id, run_id, task_id, key)): Path<(String, String, String, String)>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let (run, end) = load(&s, &dag_id, &run_id, &task_id, body.map_index).await?;
    let k = key_of(&dag_id, &run_id, &task_id, body.map_index, &key);
    if s.xcom.get(&k)?.is_none() {
        return Err(ApiError::not_found(format!(
            "The XCom with key: `{key}` with mentioned task instance doesn't exist."
        )));
    }
    s.xcom.put(&k, &body.value).map_err(xcom_error)?;
    s.xcom.flush()?;
    let mut v = entry_json(&k, &run, end.as_deref());
    v["value"] = body.value;
    crate::audit::record(
        &s.store,
        &identity,
        crate::audit::Entry::new("update_xcom_entry")
            .dag(&dag_id)
            .run(&run_id)
            .task(&task_id)
            .extra(json!({"method": "PATCH"})),
    )
    .await;
    Ok(Json(v))
}

/// The XCom routes.
pub fn routes() -> axum::Router<AppState> {
    const BASE: &str = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries";
    axum::Router::new()
        .route(BASE, axum::routing::get(list).post(create))
        .route(
            &format!("{BASE}/{{xcom_key}}"),
            axum::routing::get(get).patch(update),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stringify_is_pythons_str() {
        assert_eq!(
            python_str(&json!({"x": 1, "y": [1, 2, 3]})),
            "{'x': 1, 'y': [1, 2, 3]}"
        );
        assert_eq!(python_str(&json!("plain")), "plain");
        assert_eq!(
            python_str(&json!([true, null, "it's"])),
            "[True, None, \"it's\"]"
        );
    }

    #[test]
    fn like_follows_sql() {
        assert!(like("ret", "return_value"));
        assert!(like("RET%VAL", "return_value"));
        assert!(like("r_turn", "return_value"));
        assert!(!like("xyz", "return_value"));
    }
}
