//! `GET /api/v2/jobs`: Lite's DAG processor, scheduler and triggerer roles (one process) as
//! Airflow's job rows, from their heartbeats (`health::Heartbeats`), with Airflow's filters.
//! The rows live in memory: a restarted server shows new jobs.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::dags::ts;
use super::params::Params;
use super::routes::Group;
use super::{ApiError, AppState};
use crate::health::Component;

/// Airflow's job types of Lite's roles, with their fixed ids.
const JOBS: [(i64, &str, Component); 3] = [
    (1, "DagProcessorJob", Component::DagProcessor),
    (2, "SchedulerJob", Component::Scheduler),
    (3, "TriggererJob", Component::Triggerer),
];

const ORDER: &[&str] = &[
    "id",
    "dag_id",
    "state",
    "job_type",
    "start_date",
    "end_date",
    "latest_heartbeat",
    "executor_class",
    "hostname",
    "unixname",
];

/// The name of the user this process runs as.
fn unixname() -> String {
    // SAFETY: getpwuid_r writes into `pwd` and `buf`, which outlive the call; `result` is
    // checked before the name pointer (into `buf`) is read.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

fn instant(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    super::params::parse_ts(v)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `GET /api/v2/jobs`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = p.page()?;
    let alive = p.bool("is_alive")?;
    let (host, user) = (hostname(), unixname());
    let mut jobs: Vec<(Value, bool)> = JOBS
        .iter()
        .filter_map(|(id, job_type, c)| {
            let start = s.health.started(*c)?;
            let fmt = |t: chrono::DateTime<chrono::Utc>| {
                ts(Some(
                    &t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                ))
            };
            Some((
                json!({
                    "id": id,
                    "dag_id": null,
                    "state": "running",
                    "job_type": job_type,
                    "start_date": fmt(start),
                    "end_date": null,
                    "latest_heartbeat": s.health.last(*c).map(fmt),
                    "executor_class": null,
                    "hostname": host,
                    "unixname": user,
                    "dag_display_name": null,
                }),
                s.health.alive(*c),
            ))
        })
        .collect();
    let eq = |k: &str, field: &'static str, jobs: &mut Vec<(Value, bool)>| {
        if let Some(v) = p.get(k).filter(|v| !v.is_empty()) {
            jobs.retain(|(j, _)| j[field].as_str() == Some(v));
        }
    };
    eq("job_state", "state", &mut jobs);
    eq("job_type", "job_type", &mut jobs);
    eq("hostname", "hostname", &mut jobs);
    eq("executor_class", "executor_class", &mut jobs);
    for (name, field) in [("start_date", "start_date"), ("end_date", "end_date")] {
        for suffix in ["gte", "gt", "lte", "lt"] {
            let k = format!("{name}_{suffix}");
            let Some(v) = p.get(&k).filter(|v| !v.is_empty()) else {
                continue;
            };
            let bound = instant(v).ok_or_else(|| super::params::bad_ts(&["query", &k], v))?;
            jobs.retain(|(j, _)| {
                let Some(t) = j[field].as_str().and_then(instant) else {
                    return false;
                };
                match suffix {
                    "gte" => t >= bound,
                    "gt" => t > bound,
                    "lte" => t <= bound,
                    _ => t < bound,
                }
            });
        }
    }
    let order = p.get("order_by").filter(|v| !v.is_empty()).unwrap_or("id");
    let (desc, key) = match order.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, order),
    };
    if !ORDER.contains(&key) {
        return Err(ApiError::bad_request(format!(
            "Ordering with '{key}' is disallowed or the attribute does not exist on the model"
        )));
    }
    jobs.sort_by(|(a, _), (b, _)| {
        let c = a[key].to_string().cmp(&b[key].to_string());
        let c = if key == "id" {
            a["id"].as_i64().cmp(&b["id"].as_i64())
        } else {
            c
        };
        if desc { c.reverse() } else { c }
    });
    let total = jobs.len();
    // Airflow pages first, then drops the jobs that are not alive.
    let page: Vec<Value> = jobs
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.max(0) as usize)
        // Airflow keeps only the alive jobs whenever `is_alive` is given, true or false.
        .filter(|(_, a)| alive.is_none() || *a)
        .map(|(j, _)| j)
        .collect();
    Ok(Json(json!({"jobs": page, "total_entries": total})))
}

/// The job routes (reads).
pub fn reads(g: Group) -> Group {
    g.get("/jobs", list)
}
