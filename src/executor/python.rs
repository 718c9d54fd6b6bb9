//! Python tasks: everything that is not empty, bash or native HTTP (`@task`, PythonOperator,
//! branching, sensors, mapped map indexes, custom operators) runs the operator's own
//! `execute` in a child the [`zygote`](super::zygote) forks. This module resolves the
//! interpreter and the embedded runtime once ([`PyRuntime`]), builds the TI object of
//! `python/PROTOCOL.md` (context, upstream XCom, variables, connections, a scrubbed `env`),
//! forwards the lines the child appends to the try's log, enforces `execution_timeout`, and
//! applies the child's result file (XCom made durable, skips, rendered fields, a run to
//! trigger).
//!
//! **Invariant:** the child's environment is exactly the `env` of its TI (never the server's);
//! a try is `Success` only after its XCom is flushed.
//!
//! Called by `subprocess` for a try that goes to the Python runtime; `PyRuntime` is built by
//! `lite` and `dagtest` and handed to the scheduler's engine.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::log::{LOG_TAIL_INTERVAL, LogWriter, Tail};
use super::process::{task_env, timed_out, until};
use super::subprocess::{Ctx, failed};
use super::{Outcome, TaskOutcome};
use crate::xcom::{RETURN_VALUE, XcomKey};

/// The interpreter and the embedded runtime for Python tasks, resolved on first use.
pub struct PyRuntime {
    command: std::path::PathBuf,
    runtime_root: std::path::PathBuf,
    resolved: tokio::sync::OnceCell<Result<(std::path::PathBuf, std::path::PathBuf), String>>,
}

impl PyRuntime {
    /// The folder the runtime is written under (`home/runtime`).
    pub(super) fn root(&self) -> &std::path::Path {
        &self.runtime_root
    }

    /// `command` is the configured interpreter; the runtime is written under `runtime_root`.
    pub fn new(command: std::path::PathBuf, runtime_root: std::path::PathBuf) -> PyRuntime {
        PyRuntime {
            command,
            runtime_root,
            resolved: tokio::sync::OnceCell::new(),
        }
    }

    /// `(interpreter, runtime dir)`.
    pub(super) async fn get(&self) -> Result<(std::path::PathBuf, std::path::PathBuf), String> {
        self.resolved
            .get_or_init(|| async {
                let (cmd, root) = (self.command.clone(), self.runtime_root.clone());
                tokio::task::spawn_blocking(move || {
                    let path = std::env::var("PATH").ok();
                    let i =
                        crate::python::resolve(&cmd, path.as_deref()).map_err(|e| e.to_string())?;
                    let rt = crate::dag::runtime::ensure(&root)
                        .map_err(|e| format!("cannot write the Python runtime: {e}"))?;
                    Ok((i.executable, rt))
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
            })
            .await
            .clone()
    }
}

/// Where a TI's files are, as the process that runs it sees them.
pub(super) struct TiPaths {
    pub dag_file: std::path::PathBuf,
    pub dags_folder: std::path::PathBuf,
    pub log_path: std::path::PathBuf,
    pub result_path: std::path::PathBuf,
    /// `@task.docker` / `DockerOperator`: the folder shared with the task's container.
    pub exchange_dir: Option<std::path::PathBuf>,
}

/// The TI object of `python/PROTOCOL.md` for `ctx`'s try: context, upstream XCom, variables,
/// connections, and `env` (built from scratch).
pub(super) fn ti_object(
    ctx: &Ctx<'_>,
    paths: &TiPaths,
    env: BTreeMap<String, String>,
) -> Result<Value, String> {
    let req = ctx.req;
    let c = &req.context;
    let xcom: Vec<Value> = ctx
        .xcom
        .list(&c.dag_id, &c.run_id, None)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(k, v)| json!({"task_id": k.task_id, "map_index": k.map_index, "key": k.key, "value": v}))
        .collect();
    Ok(json!({
        "ti_id": req.ti_id,
        "dag_file": paths.dag_file,
        "dags_folder": paths.dags_folder,
        "dag_id": c.dag_id,
        "task_id": c.task_id,
        "run_id": c.run_id,
        "map_index": c.map_index,
        "try_number": req.try_number,
        "max_tries": req.max_tries,
        "kind": req.task.kind,
        "context": c.to_json(),
        "xcom": xcom,
        "variables": c.variables,
        "connections": c.connections,
        "env": env,
        "cwd": paths.dags_folder,
        "log_path": paths.log_path,
        "log_max_bytes": req.log_max_bytes,
        "result_path": paths.result_path,
        "reschedule": req.reschedule.as_ref().map(|r| json!({"count": r.count, "first_start": r.first_start})),
        "exchange_dir": paths.exchange_dir,
        // `@task.virtualenv`: venvs built once per requirement set, kept in the home (not in
        // a container, whose tasks bring their image).
        "venv_cache": paths.exchange_dir.is_none().then(|| ctx.python.root().with_file_name("venvs")),
        // A registered task's entrypoint, call_args and xcom_input (no DAG file to load).
        "task_args": (req.task.kind == crate::dag::registered::ENTRYPOINT).then_some(&req.task.args),
        // A deferred try resuming: the method to call and its event.
        "resume": req.resume,
    }))
}

/// Reads and removes a result file.
pub(super) async fn take_result(path: &std::path::Path) -> Option<Value> {
    let result = tokio::fs::read(path)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let _ = tokio::fs::remove_file(path).await;
    result
}

/// Runs a Python-executed task in the zygote and applies its result; skips and a run to
/// trigger go into `out`. A container task's result is a container request, run by
/// `docker`.
pub(super) async fn run(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    out: &mut TaskOutcome,
) -> (Outcome, BTreeMap<String, Value>) {
    let req = ctx.req;
    let (python, runtime) = match ctx.python.get().await {
        Ok(x) => x,
        Err(e) => {
            log.line("leoflow", Some("error"), &e).await;
            return (failed(e), BTreeMap::new());
        }
    };
    let exchange = if req.task.kind == "docker" {
        let dir = super::container::exchange_dir(ctx.python.root(), req);
        if let Err(e) = super::container::make_exchange(&dir).await {
            return (failed(e), BTreeMap::new());
        }
        Some(dir)
    } else {
        None
    };
    let paths = TiPaths {
        dag_file: req.dag_file.clone(),
        dags_folder: req.dags_folder.clone(),
        log_path: req.log_path.clone(),
        result_path: req.log_path.with_extension("result.json"),
        exchange_dir: exchange.clone(),
    };
    let _ = tokio::fs::remove_file(&paths.result_path).await;
    let mut env = task_env(req, req.task.args.get("env"));
    env.insert("PYTHONUNBUFFERED".into(), "1".into());
    let ti = match ti_object(ctx, &paths, env) {
        Ok(ti) => ti,
        Err(e) => return (failed(e), BTreeMap::new()),
    };
    let status = run_in_zygote(ctx, &python, &runtime, ti, log).await;
    let result = take_result(&paths.result_path).await;
    if let Some(r) = result.as_ref().filter(|r| r["state"] == "container") {
        let done = super::docker::run_request(ctx, log, r, exchange.as_deref()).await;
        if let Some(dir) = &exchange {
            let _ = tokio::fs::remove_dir_all(dir).await;
        }
        return done;
    }
    if let Some(dir) = &exchange {
        let _ = tokio::fs::remove_dir_all(dir).await;
    }
    apply_result(ctx, log, out, result, status).await
}

/// Applies a Python runtime's result file (`None`: the process left none; `status` says how
/// it ended): XCom made durable, skips, a run to trigger, the outcome.
pub(super) async fn apply_result(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    out: &mut TaskOutcome,
    result: Option<Value>,
    status: Result<i64, String>,
) -> (Outcome, BTreeMap<String, Value>) {
    let c = &ctx.req.context;
    let mut rendered = BTreeMap::new();
    if let Some(Value::Object(fields)) = result.as_ref().map(|r| &r["rendered_fields"]) {
        rendered.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let Some(result) = result else {
        let e = match status {
            Err(e) => e,
            Ok(code) => format!(
                "the Python task process exited with code {code} without a result (os._exit or a crash)"
            ),
        };
        log.line("leoflow", Some("error"), &e).await;
        return (failed(e), rendered);
    };
    match result["state"].as_str() {
        Some(st @ ("success" | "deferred")) => {
            for x in result["xcom"].as_array().into_iter().flatten() {
                let key = XcomKey {
                    dag_id: c.dag_id.clone(),
                    run_id: c.run_id.clone(),
                    task_id: c.task_id.clone(),
                    map_index: c.map_index,
                    key: x["key"].as_str().unwrap_or(RETURN_VALUE).to_string(),
                };
                if let Err(e) = ctx.xcom.put(&key, &x["value"]) {
                    log.line("leoflow", Some("error"), &e.to_string()).await;
                    return (
                        Outcome::Failed {
                            error: e.to_string(),
                            retryable: false,
                        },
                        rendered,
                    );
                }
            }
            if let Err(e) = ctx.xcom.flush_async().await {
                return (failed(e.to_string()), rendered);
            }
            out.skip = result["skip"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(String::from))
                .collect();
            out.trigger = result.get("trigger_dag_run").cloned();
            out.outlet_events = result["outlet_events"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if st == "deferred" {
                return (Outcome::Deferred(result["defer"].clone()), rendered);
            }
            // The child logged `Task finished` itself.
            (Outcome::Success, rendered)
        }
        Some("skipped") => (Outcome::Skipped, rendered),
        Some("up_for_reschedule") => match result["reschedule_date"].as_str() {
            Some(at) if chrono::DateTime::parse_from_rfc3339(at).is_ok() => {
                (Outcome::Reschedule { at: at.to_string() }, rendered)
            }
            _ => {
                let e = format!(
                    "the sensor asked to be rescheduled without a valid reschedule_date: {}",
                    result["reschedule_date"]
                );
                log.line("leoflow", Some("error"), &e).await;
                (failed(e), rendered)
            }
        },
        _ => {
            let e = result["error"]["message"]
                .as_str()
                .map(|m| {
                    format!(
                        "{}: {m}",
                        result["error"]["type"].as_str().unwrap_or("Error")
                    )
                })
                .unwrap_or_else(|| "the task failed".into());
            log.line("leoflow", Some("error"), &e).await;
            (
                Outcome::Failed {
                    error: e,
                    retryable: result["retryable"] != json!(false),
                },
                rendered,
            )
        }
    }
}

/// Runs a TI object in the zygote: records its pid, forwards the lines the child appends to its
/// log to subscribers, enforces `execution_timeout`; the child's exit code.
async fn run_in_zygote(
    ctx: &Ctx<'_>,
    python: &std::path::Path,
    runtime: &std::path::Path,
    ti: Value,
    log: &mut LogWriter,
) -> Result<i64, String> {
    let req = ctx.req;
    let mut tail = Tail::new(&req.log_path).await;
    let started = ctx.zygote.run(python, runtime, ti).await?;
    let pid = started.pid;
    ctx.started(pid);
    let mut exit = started.exit;
    let mut deadline = req.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut killed = false;
    let mut tick = tokio::time::interval(LOG_TAIL_INTERVAL);
    let ended = loop {
        tokio::select! {
            r = &mut exit => break r,
            _ = tick.tick() => tail.forward(log).await,
            _ = until(deadline) => {
                if killed {
                    break Ok(Err("the task did not exit after SIGKILL".into()));
                }
                ctx.kill(pid);
                killed = true;
                // The zygote reaps the group and reports the exit; bounded in case it is gone.
                deadline = Some(tokio::time::Instant::now() + std::time::Duration::from_secs(10));
            }
        }
    };
    tail.forward(log).await;
    if killed {
        return Err(timed_out(req.timeout, "its process group"));
    }
    match ended {
        Ok(Ok(exit)) => Ok(exit.returncode),
        Ok(Err(e)) => {
            ctx.kill(pid);
            Err(e)
        }
        Err(_) => {
            ctx.kill(pid);
            Err("lost track of the task process".into())
        }
    }
}
