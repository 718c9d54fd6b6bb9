//! XCom routes of the Airflow API: `.../taskInstances/{task_id}/xcomEntries` (list with `~`
//! for the DAG, run and task; create) and `.../xcomEntries/{key}` (get, with `stringify`;
//! patch), in Airflow 3.2's shapes. Values live in the sled store (`crate::xcom`); run and
//! task-instance facts (dates) come from SQLite. Writes go through `ops::xcom`.
//!
//! Listing scans sled and matches the request's patterns in Rust: the scan runs on the
//! blocking pool, never on the async workers, and gives up after [`LIST_DEADLINE`]; the
//! pattern matcher ([`like`]) takes time linear in the text for a given pattern, whatever
//! the pattern holds.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dags::ts;
use super::params::{Filter, Params};
use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::ops;
use crate::store::runs::{self as q, RunFilter, RunRow};
use crate::store::tis;
use crate::xcom::{XcomKey, XcomStore};

/// The longest an XCom listing may scan before it gives up (503).
pub const LIST_DEADLINE: Duration = Duration::from_secs(10);

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

/// SQL `LIKE '%pattern%'` semantics (case-insensitive, `%` any run, `_` one character) for
/// values that live outside SQLite. Greedy matching that backtracks only to the last `%`:
/// O(pattern × text) steps at worst, never exponential.
fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = format!("%{pattern}%")
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let (mut i, mut j) = (0, 0);
    // Where the last `%` was in the pattern, and the text position it currently absorbs to.
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '_' || (p[i] != '%' && p[i] == t[j])) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '%' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            // Let the last `%` absorb one more character and retry from there.
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '%')
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
    let mut f = Filter::default();
    if dag_id != "~" {
        f.eq("dag_id", dag_id.clone());
    }
    if run_id != "~" {
        f.eq("run_id", run_id.clone());
    }
    p.ranges(
        &mut f,
        &[("logical_date", "logical_date"), ("run_after", "run_after")],
    )?;
    p.patterns(
        &mut f,
        &[("run_id", "run_id"), ("dag_display_name", "dag_id")],
    );
    let order = p.order_by(&[
        ("key", "key"),
        ("dag_id", "dag_id"),
        ("run_id", "run_id"),
        ("task_id", "task_id"),
        ("map_index", "map_index"),
        ("timestamp", "timestamp"),
        ("logical_date", "logical_date"),
        ("run_after", "run_after"),
    ])?;
    let runs = s
        .store
        .read(move |db| Ok::<_, crate::store::StoreError>(q::list(db, &RunFilter::all(f))?.0))
        .await?;
    if dag_id != "~" && run_id != "~" && runs.is_empty() {
        return Err(ApiError::not_found(format!(
            "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
        )));
    }
    let scan = Scan {
        key: p
            .get("xcom_key")
            .filter(|k| !k.is_empty())
            .map(String::from),
        map_index,
        map_filter: p
            .get("map_index_filter")
            .filter(|v| !v.is_empty())
            .map(String::from),
        key_pattern: Terms::of(&p, "xcom_key"),
        task_pattern: Terms::of(&p, "task_id"),
        task: (task_id != "~").then_some(task_id),
        order: order.first().copied(),
    };
    let xcom = s.xcom.clone();
    let found =
        tokio::task::spawn_blocking(move || scan.run(&xcom, runs, Instant::now() + LIST_DEADLINE))
            .await
            .map_err(ApiError::internal)??;
    let total = found.len();
    let page: Vec<(XcomKey, RunRow)> = found
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

/// A pattern parameter's `*_pattern` and `*_prefix_pattern` terms.
struct Terms {
    contains: Option<Vec<String>>,
    prefix: Option<Vec<String>>,
}

impl Terms {
    fn of(p: &Params, name: &str) -> Terms {
        Terms {
            contains: p.terms(&format!("{name}_pattern")),
            prefix: p.terms(&format!("{name}_prefix_pattern")),
        }
    }

    /// Airflow's `*_pattern` (any term occurs, LIKE semantics) and `*_prefix_pattern` (any
    /// term starts `text`).
    fn matches(&self, text: &str) -> bool {
        self.contains
            .as_ref()
            .is_none_or(|t| t.iter().any(|t| like(t, text)))
            && self
                .prefix
                .as_ref()
                .is_none_or(|t| t.iter().any(|t| text.starts_with(t.as_str())))
    }
}

/// What an XCom listing keeps, and in which order.
struct Scan {
    key: Option<String>,
    map_index: Option<i64>,
    map_filter: Option<String>,
    key_pattern: Terms,
    task_pattern: Terms,
    task: Option<String>,
    order: Option<(&'static str, bool)>,
}

impl Scan {
    /// The matching keys of `runs`, ordered; 503 past `deadline`.
    fn run(
        &self,
        xcom: &XcomStore,
        runs: Vec<RunRow>,
        deadline: Instant,
    ) -> Result<Vec<(XcomKey, RunRow)>, ApiError> {
        let mut found: Vec<(XcomKey, RunRow)> = Vec::new();
        for run in &runs {
            if Instant::now() > deadline {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "Listing XCom entries took longer than {} s; narrow the request with a dag_id, dag_run_id or task_id",
                        LIST_DEADLINE.as_secs()
                    ),
                ));
            }
            for (k, _) in xcom.list(&run.dag_id, &run.run_id, self.task.as_deref())? {
                let keep = self.key.as_ref().is_none_or(|x| *x == k.key)
                    && self.map_index.is_none_or(|m| m == k.map_index)
                    && self
                        .map_filter
                        .as_deref()
                        .is_none_or(|f| like(f, &k.map_index.to_string()))
                    && self.key_pattern.matches(&k.key)
                    && self.task_pattern.matches(&k.task_id);
                if keep {
                    found.push((k, run.clone()));
                }
            }
        }
        if let Some((col, desc)) = self.order {
            found.sort_by(|(a, ra), (b, rb)| match col {
                "key" => a.key.cmp(&b.key),
                "dag_id" => a.dag_id.cmp(&b.dag_id),
                "run_id" => a.run_id.cmp(&b.run_id),
                "task_id" => a.task_id.cmp(&b.task_id),
                "map_index" => a.map_index.cmp(&b.map_index),
                "logical_date" => ra.logical_date.cmp(&rb.logical_date),
                _ => ra.run_after.cmp(&rb.run_after),
            });
            if desc {
                found.reverse();
            }
        }
        Ok(found)
    }
}

/// The end date of each key's task instance (the XCom's timestamp; sled keeps none).
async fn end_dates(s: &AppState, keys: Vec<XcomKey>) -> Result<Vec<Option<String>>, ApiError> {
    Ok(s.store
        .read(move |db| {
            keys.iter()
                .map(|k| tis::end_date(db, &k.dag_id, &k.run_id, &k.task_id, k.map_index))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?)
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
    let (ti, run) =
        super::task_instances::load_ti(&s, &dag_id, &run_id, &task_id, map_index).await?;
    let end = ti.end_date;
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
    identity: Identity,
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
    let k = key_of(&dag_id, &run_id, &task_id, body.map_index, &body.key);
    let w = ops::xcom::put(&s.ops, &identity, k.clone(), body.value.clone(), true).await?;
    let mut v = entry_json(&k, &w.run, w.end_date.as_deref());
    v["value"] = body.value;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `PATCH .../xcomEntries/{xcom_key}`: replaces the value (404 when the key does not exist).
pub async fn update(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id, task_id, key)): Path<(String, String, String, String)>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let k = key_of(&dag_id, &run_id, &task_id, body.map_index, &key);
    let w = ops::xcom::put(&s.ops, &identity, k.clone(), body.value.clone(), false).await?;
    let mut v = entry_json(&k, &w.run, w.end_date.as_deref());
    v["value"] = body.value;
    Ok(Json(v))
}

/// `DELETE .../xcomEntries/{xcom_key}` (`map_index`, default -1): 204; 404 when there is no
/// such entry.
pub async fn delete(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, run_id, task_id, key)): Path<(String, String, String, String)>,
    p: Params,
) -> Result<Response, ApiError> {
    let map_index = p.int("map_index", -1, -1)?;
    let k = key_of(&dag_id, &run_id, &task_id, map_index, &key);
    ops::xcom::delete(&s.ops, &identity, k).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

const BASE: &str = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries";

/// The XCom routes that read (relative to `/api/v2`).
pub fn reads(g: super::routes::Group) -> super::routes::Group {
    g.get(BASE, list).get(&format!("{BASE}/{{xcom_key}}"), get)
}

/// The XCom routes that write.
pub fn writes(g: super::routes::Group) -> super::routes::Group {
    g.post(BASE, create)
        .patch(&format!("{BASE}/{{xcom_key}}"), update)
        .delete(&format!("{BASE}/{{xcom_key}}"), delete)
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
        assert!(like("_", "x"));
        assert!(like("", ""));
        assert!(like("e%_v", "return_value"));
        assert!(!like("_", ""));
        assert!(!like("xyz", "return_value"));
        assert!(!like("value%return", "return_value"));
    }

    #[test]
    fn like_is_not_exponential_in_the_number_of_wildcards() {
        // A backtracking matcher explores every way to split 4000 characters among 200
        // wildcards; this one steps through them once per wildcard at most.
        let pattern = format!("{}b", "%a".repeat(200));
        let text = "a".repeat(4000);
        assert!(!like(&pattern, &text));
        assert!(like(&pattern.replace('b', ""), &text));
    }
}
