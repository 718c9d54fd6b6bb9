//! Task logs as Airflow's API serves them: `GET .../taskInstances/{task_id}/logs/{try_number}`
//! as JSON (with a continuation token), NDJSON (followed while the try runs) or plain text.
//! The file of a try is named by `keys::log_path`, never by joining ids here.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::params::Params;
use super::task_instances::{load_ti, path_int};
use super::{ApiError, AppState};
use crate::store::tis as q;

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
    let key = crate::keys::TryKey {
        dag_id: &dag_id,
        run_id: &run_id,
        task_id: &task_id,
        map_index,
        try_number,
    };
    let path = crate::keys::log_path(&crate::home::Home::new(&s.config.home).logs_dir(), &key)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
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
                    .read(move |db| q::by_id(db, &id))
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

/// The log route (relative to `/api/v2`).
pub fn reads(g: super::routes::Group) -> super::routes::Group {
    g.get(
        "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}",
        logs,
    )
}
