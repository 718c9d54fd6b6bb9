//! The default executor: each try in its own process group on this machine.
//!
//! Bash tasks run `bash -c` with the rendered `bash_command`; the last stdout line is the XCom
//! when `do_xcom_push`; `skip_on_exit_code` (default 99) skips. Empty tasks finish at once.
//! Every output line is appended to the try's NDJSON log with its time and stream, and
//! published as a `log` event. `execution_timeout` kills the whole process group.

use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::template::Renderer;
use super::{Executor, ExecutorEvent, Outcome, TaskOutcome, TaskRequest};
use crate::events::EventBus;
use crate::xcom::{RETURN_VALUE, XcomKey, XcomStore};

/// Runs tries as local subprocesses.
pub struct SubprocessExecutor {
    python: Arc<PyRuntime>,
    xcom: XcomStore,
    events: EventBus,
    done: mpsc::UnboundedSender<ExecutorEvent>,
    running: Arc<Mutex<HashMap<String, u32>>>,
    zygote: Arc<super::zygote::Zygote>,
}

/// The interpreter and the embedded runtime for Python tasks, resolved on first use.
pub struct PyRuntime {
    command: std::path::PathBuf,
    runtime_root: std::path::PathBuf,
    resolved: tokio::sync::OnceCell<Result<(std::path::PathBuf, std::path::PathBuf), String>>,
}

impl PyRuntime {
    /// `command` is the configured interpreter; the runtime is written under `runtime_root`.
    pub fn new(command: std::path::PathBuf, runtime_root: std::path::PathBuf) -> PyRuntime {
        PyRuntime {
            command,
            runtime_root,
            resolved: tokio::sync::OnceCell::new(),
        }
    }

    /// `(interpreter, runtime dir)`.
    async fn get(&self) -> Result<(std::path::PathBuf, std::path::PathBuf), String> {
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

impl SubprocessExecutor {
    pub fn new(
        xcom: XcomStore,
        events: EventBus,
        done: mpsc::UnboundedSender<ExecutorEvent>,
        python: PyRuntime,
    ) -> SubprocessExecutor {
        SubprocessExecutor {
            python: Arc::new(python),
            xcom,
            events,
            done,
            running: Arc::default(),
            zygote: Arc::default(),
        }
    }
}

impl SubprocessExecutor {
    /// Starts the Python zygote in the background (a no-op when Python cannot be resolved:
    /// the first Python task reports why).
    pub fn warm_up(&self) {
        let (python, zygote) = (self.python.clone(), self.zygote.clone());
        tokio::spawn(async move {
            if let Ok((interp, runtime)) = python.get().await
                && let Err(e) = zygote.warm(&interp, &runtime).await
            {
                tracing::warn!(error = e, "could not start the Python task runtime");
            }
        });
    }
}

/// The environment of a task, built from scratch.
pub fn task_env(req: &TaskRequest, extra: Option<&Value>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert(
        "PATH".into(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
    );
    if let Ok(h) = std::env::var("HOME") {
        env.insert("HOME".into(), h);
    }
    env.insert(
        "LANG".into(),
        std::env::var("LANG").unwrap_or_else(|_| "C.UTF-8".into()),
    );
    env.insert(
        "TZ".into(),
        std::env::var("TZ").unwrap_or_else(|_| "UTC".into()),
    );
    let c = &req.context;
    env.insert("AIRFLOW_CTX_DAG_ID".into(), c.dag_id.clone());
    env.insert("AIRFLOW_CTX_TASK_ID".into(), c.task_id.clone());
    env.insert("AIRFLOW_CTX_DAG_RUN_ID".into(), c.run_id.clone());
    env.insert("AIRFLOW_CTX_TRY_NUMBER".into(), req.try_number.to_string());
    env.insert("AIRFLOW_CTX_LOGICAL_DATE".into(), c.date.to_rfc3339());
    env.insert("AIRFLOW_CTX_DAG_OWNER".into(), req.task.owner.clone());
    if let Some(Value::Object(m)) = extra {
        for (k, v) in m {
            env.insert(
                k.clone(),
                v.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string()),
            );
        }
    }
    env
}

struct LogWriter {
    file: tokio::fs::File,
    events: EventBus,
    key: Value,
    /// Bytes of task output written, against `max_bytes` (0: no cap).
    written: u64,
    max_bytes: u64,
    capped: bool,
}

impl LogWriter {
    async fn open(req: &TaskRequest, events: EventBus) -> std::io::Result<LogWriter> {
        if let Some(parent) = req.log_path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&req.log_path)
            .await?;
        let c = &req.context;
        Ok(LogWriter {
            file,
            events,
            key: json!({"dag_id": c.dag_id, "run_id": c.run_id, "task_id": c.task_id, "map_index": c.map_index, "try_number": req.try_number}),
            written: 0,
            max_bytes: req.log_max_bytes,
            capped: false,
        })
    }

    async fn line(&mut self, stream: &str, level: Option<&str>, text: &str) {
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut rec = json!({"timestamp": ts, "stream": stream, "line": text});
        if let Some(l) = level {
            rec["level"] = json!(l);
        }
        let mut bytes = serde_json::to_vec(&rec).unwrap_or_default();
        bytes.push(b'\n');
        if self.max_bytes > 0 && stream != "leoflow" {
            if self.capped {
                return;
            }
            if self.written + bytes.len() as u64 > self.max_bytes {
                self.capped = true;
                let notice = format!(
                    "Log size limit of {} bytes reached: further task output is dropped (raise log_max_bytes to keep more)",
                    self.max_bytes
                );
                Box::pin(self.line("leoflow", Some("warning"), &notice)).await;
                return;
            }
            self.written += bytes.len() as u64;
        }
        let _ = self.file.write_all(&bytes).await;
        let mut ev = self.key.clone();
        ev["lines"] = json!([rec]);
        self.events.publish("log", ev);
    }
}

/// How often the lines a Python task appends to its log are forwarded to subscribers.
const LOG_TAIL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// Follows a log file another process appends NDJSON records to.
struct Tail {
    path: std::path::PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl Tail {
    /// Starts at the current end of the file.
    async fn new(path: &std::path::Path) -> Tail {
        let offset = tokio::fs::metadata(path)
            .await
            .map(|m| m.len())
            .unwrap_or(0);
        Tail {
            path: path.to_path_buf(),
            offset,
            partial: Vec::new(),
        }
    }

    /// Publishes the complete records appended since the last call as one `log` event.
    async fn forward(&mut self, log: &LogWriter) {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let Ok(mut f) = tokio::fs::File::open(&self.path).await else {
            return;
        };
        if f.seek(std::io::SeekFrom::Start(self.offset)).await.is_err() {
            return;
        }
        let mut buf = Vec::new();
        let Ok(n) = f.read_to_end(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        self.offset += n as u64;
        self.partial.extend_from_slice(&buf);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let lines: Vec<Value> = self.partial[..end]
            .split(|b| *b == b'\n')
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect();
        self.partial.drain(..=end);
        if !lines.is_empty() {
            let mut ev = log.key.clone();
            ev["lines"] = Value::Array(lines);
            log.events.publish("log", ev);
        }
    }
}

impl Executor for SubprocessExecutor {
    fn start(&self, req: TaskRequest) {
        let xcom = self.xcom.clone();
        let events = self.events.clone();
        let done = self.done.clone();
        let running = self.running.clone();
        let python = self.python.clone();
        let zygote = self.zygote.clone();
        tokio::spawn(async move {
            let ti_id = req.ti_id.clone();
            let try_number = req.try_number;
            let mut finished = TaskOutcome {
                ti_id: ti_id.clone(),
                try_number,
                outcome: Outcome::Success,
                rendered: BTreeMap::new(),
                skip: Vec::new(),
                trigger: None,
            };
            let ctx = Ctx {
                req: &req,
                xcom: &xcom,
                events: &events,
                running: &running,
                done: &done,
                python: &python,
                zygote: &zygote,
            };
            run(&ctx, &mut finished).await;
            running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&ti_id);
            let _ = done.send(ExecutorEvent::Finished(finished));
        });
    }

    fn kill(&self, ti_id: &str) {
        if let Some(pid) = self.pid(ti_id) {
            kill_group(pid);
        }
    }

    fn kill_all(&self) {
        let pids: Vec<u32> = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .copied()
            .collect();
        for pid in pids {
            kill_group(pid);
        }
    }

    fn pid(&self, ti_id: &str) -> Option<u32> {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(ti_id)
            .copied()
    }
}

/// Kills a whole process group (the task and everything it started).
pub fn kill_group(pid: u32) {
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}

/// What one try needs while it runs.
struct Ctx<'a> {
    req: &'a TaskRequest,
    xcom: &'a XcomStore,
    events: &'a EventBus,
    running: &'a Arc<Mutex<HashMap<String, u32>>>,
    done: &'a mpsc::UnboundedSender<ExecutorEvent>,
    python: &'a PyRuntime,
    zygote: &'a super::zygote::Zygote,
}

async fn run(ctx: &Ctx<'_>, out: &mut TaskOutcome) {
    let (outcome, rendered) = run_try(ctx, out).await;
    out.outcome = outcome;
    out.rendered = rendered;
}

async fn run_try(ctx: &Ctx<'_>, out: &mut TaskOutcome) -> (Outcome, BTreeMap<String, Value>) {
    let Ctx {
        req,
        xcom,
        events,
        running,
        done,
        ..
    } = *ctx;
    let mut rendered = BTreeMap::new();
    let failed = |e: String| Outcome::Failed {
        error: e,
        retryable: true,
    };
    let mut log = match LogWriter::open(req, events.clone()).await {
        Ok(l) => l,
        Err(e) => {
            return (
                failed(format!(
                    "cannot open the log {}: {e}",
                    req.log_path.display()
                )),
                rendered,
            );
        }
    };
    let t = &req.task;
    log.line(
        "leoflow",
        Some("info"),
        &format!(
            "Running task {} ({}), try {}",
            t.task_id, t.operator, req.try_number
        ),
    )
    .await;
    // A map index runs through the Python runtime, which resolves its share of the expand
    // input (for classic operators too: BashOperator.partial().expand(...)).
    let kind = if t.mapped.is_some() && t.kind != "empty" {
        "python"
    } else {
        t.kind.as_str()
    };
    match kind {
        "empty" => {
            log.line("leoflow", Some("info"), "EmptyOperator: nothing to run")
                .await;
            (Outcome::Success, rendered)
        }
        "bash" if t.args.get("bash_command").is_some_and(|c| c.is_string()) => {
            let renderer = Renderer::new(&req.context, xcom, &t.task_id);
            let cmd = match renderer.render(
                "bash_command",
                t.args["bash_command"].as_str().unwrap_or_default(),
            ) {
                Ok(c) => c,
                Err(e) => {
                    log.line("leoflow", Some("error"), &e).await;
                    return (failed(e), rendered);
                }
            };
            rendered.insert("bash_command".into(), json!(cmd));
            let env_value = match t.args.get("env") {
                Some(v @ Value::Object(_)) => match renderer.render_value("env", v) {
                    Ok(v) => Some(v),
                    Err(e) => return (failed(e), rendered),
                },
                _ => None,
            };
            if let Some(v) = &env_value {
                rendered.insert("env".into(), v.clone());
            }
            let mut env = task_env(req, env_value.as_ref());
            if t.args.get("append_env").and_then(|v| v.as_bool()) == Some(true) {
                // Airflow's append_env adds the task env to the worker's; Lite's worker env is the
                // scrubbed base above, never the server's own.
                env.extend(task_env(req, None));
            }
            let cwd = t
                .args
                .get("cwd")
                .and_then(|v| v.as_str())
                .map(std::path::PathBuf::from);
            let skip_code = t
                .args
                .get("skip_on_exit_code")
                .and_then(|v| v.as_i64())
                .unwrap_or(99);
            let outcome = run_process(
                req,
                std::path::Path::new("bash"),
                &["-c".into(), cmd.clone().into()],
                env,
                cwd,
                &mut log,
                running,
                done,
            )
            .await;
            match outcome {
                Ok((0, last)) => {
                    if t.do_xcom_push
                        && let Some(last) = last
                        && let Err(e) = push_return(ctx, &json!(last)).await
                    {
                        log.line("leoflow", Some("error"), &e).await;
                        return (
                            Outcome::Failed {
                                error: e,
                                retryable: false,
                            },
                            rendered,
                        );
                    }
                    log.line("leoflow", Some("info"), "Task finished: success")
                        .await;
                    (Outcome::Success, rendered)
                }
                Ok((code, _)) if code == skip_code => {
                    log.line(
                        "leoflow",
                        Some("info"),
                        &format!("Exit code {code}: task skipped"),
                    )
                    .await;
                    (Outcome::Skipped, rendered)
                }
                Ok((code, _)) => {
                    let e = format!(
                        "Bash command failed. The command returned a non-zero exit code {code}."
                    );
                    log.line("leoflow", Some("error"), &e).await;
                    (failed(e), rendered)
                }
                Err(e) => {
                    log.line("leoflow", Some("error"), &e).await;
                    (failed(e), rendered)
                }
            }
        }
        "http" if super::http::is_native(&t.args) => run_http(ctx, &mut log, rendered).await,
        // Everything else runs the operator's own `execute` in the Python runtime: Python
        // callables, branching, sensors, HttpOperator with callables, custom operators...
        _ => run_python(ctx, &mut log, out).await,
    }
}

/// Runs an `HttpOperator` without Python (see [`super::http`]).
async fn run_http(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    mut rendered: BTreeMap<String, Value>,
) -> (Outcome, BTreeMap<String, Value>) {
    let (req, t) = (ctx.req, &ctx.req.task);
    let failed = |e: String| Outcome::Failed {
        error: e,
        retryable: true,
    };
    let renderer = Renderer::new(&req.context, ctx.xcom, &t.task_id);
    let mut field = |name: &str, default: Value| -> Result<Value, String> {
        let v = t.args.get(name).cloned().unwrap_or(default);
        let v = renderer.render_value(name, &v)?;
        rendered.insert(name.to_string(), v.clone());
        Ok(v)
    };
    let fields = (|| -> Result<_, String> {
        Ok((
            field("endpoint", Value::Null)?,
            field("data", json!({}))?,
            field("headers", json!({}))?,
        ))
    })();
    let (endpoint, data, headers) = match fields {
        Ok(f) => f,
        Err(e) => {
            log.line("leoflow", Some("error"), &e).await;
            return (failed(e), rendered);
        }
    };
    let http = super::http::Request {
        conn_id: t.args["http_conn_id"]
            .as_str()
            .unwrap_or("http_default")
            .to_string(),
        method: t.args["method"].as_str().unwrap_or("POST").to_string(),
        endpoint: endpoint.as_str().map(String::from).unwrap_or_default(),
        data,
        headers,
        extra_options: t.args.get("extra_options").cloned().unwrap_or(Value::Null),
        log_response: t.args["log_response"].as_bool().unwrap_or(false),
    };
    log.line(
        "leoflow",
        Some("info"),
        &format!(
            "Calling HTTP method {} on connection {:?}",
            http.method, http.conn_id
        ),
    )
    .await;
    let sent = match req.timeout {
        Some(limit) => {
            tokio::time::timeout(limit, super::http::send(&http, &req.context.connections))
                .await
                .unwrap_or_else(|_| {
                    Err(format!(
                        "Timeout: the task exceeded its execution_timeout of {}s",
                        limit.as_secs_f64()
                    ))
                })
        }
        None => super::http::send(&http, &req.context.connections).await,
    };
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            for l in e.lines() {
                log.line("leoflow", Some("error"), l).await;
            }
            let first = e.lines().next().unwrap_or_default().to_string();
            return (failed(first), rendered);
        }
    };
    log.line(
        "leoflow",
        Some("info"),
        &format!("{} {} -> {}", http.method, resp.url, resp.status),
    )
    .await;
    if http.log_response {
        for l in resp.text.lines() {
            log.line("stdout", None, l).await;
        }
    }
    if t.do_xcom_push
        && let Err(e) = push_return(ctx, &json!(resp.text)).await
    {
        log.line("leoflow", Some("error"), &e).await;
        return (
            Outcome::Failed {
                error: e,
                retryable: false,
            },
            rendered,
        );
    }
    log.line("leoflow", Some("info"), "Task finished: success")
        .await;
    (Outcome::Success, rendered)
}

/// Stores this try's `return_value` XCom durably.
async fn push_return(ctx: &Ctx<'_>, value: &Value) -> Result<(), String> {
    let c = &ctx.req.context;
    let key = XcomKey {
        dag_id: c.dag_id.clone(),
        run_id: c.run_id.clone(),
        task_id: c.task_id.clone(),
        map_index: c.map_index,
        key: RETURN_VALUE.into(),
    };
    ctx.xcom.put(&key, value).map_err(|e| e.to_string())?;
    ctx.xcom.flush_async().await.map_err(|e| e.to_string())
}

/// Runs a Python-executed task through `boot.py run-task` and applies its result.
async fn run_python(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    out: &mut TaskOutcome,
) -> (Outcome, BTreeMap<String, Value>) {
    let req = ctx.req;
    let mut rendered = BTreeMap::new();
    let failed = |e: String| Outcome::Failed {
        error: e,
        retryable: true,
    };
    let (python, runtime) = match ctx.python.get().await {
        Ok(x) => x,
        Err(e) => {
            log.line("leoflow", Some("error"), &e).await;
            return (failed(e), rendered);
        }
    };
    let c = &req.context;
    let xcom: Vec<Value> = match ctx.xcom.list(&c.dag_id, &c.run_id, None) {
        Ok(v) => v
            .into_iter()
            .map(|(k, v)| json!({"task_id": k.task_id, "map_index": k.map_index, "key": k.key, "value": v}))
            .collect(),
        Err(e) => return (failed(e.to_string()), rendered),
    };
    let result_path = req.log_path.with_extension("result.json");
    let _ = tokio::fs::remove_file(&result_path).await;
    let mut env = task_env(req, req.task.args.get("env"));
    env.insert("PYTHONUNBUFFERED".into(), "1".into());
    let ti = json!({
        "dag_file": req.dag_file,
        "dags_folder": req.dags_folder,
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
        "cwd": req.dags_folder,
        "log_path": req.log_path,
        "log_max_bytes": req.log_max_bytes,
        "result_path": result_path,
    });
    let status = run_in_zygote(ctx, &python, &runtime, ti, log).await;
    let result: Option<Value> = tokio::fs::read(&result_path)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let _ = tokio::fs::remove_file(&result_path).await;
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
        Some("success") => {
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
            // The child logged `Task finished` itself.
            (Outcome::Success, rendered)
        }
        Some("skipped") => (Outcome::Skipped, rendered),
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
    ctx.running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(req.ti_id.clone(), pid);
    let _ = ctx.done.send(ExecutorEvent::Started {
        ti_id: req.ti_id.clone(),
        try_number: req.try_number,
        pid,
    });
    let mut exit = started.exit;
    let mut deadline = req.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut timed_out = false;
    let mut tick = tokio::time::interval(LOG_TAIL_INTERVAL);
    let ended = loop {
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = &mut exit => break r,
            _ = tick.tick() => tail.forward(log).await,
            _ = sleep => {
                if timed_out {
                    break Ok(Err("the task did not exit after SIGKILL".into()));
                }
                kill_group(pid);
                timed_out = true;
                // The zygote reaps the group and reports the exit; bounded in case it is gone.
                deadline = Some(tokio::time::Instant::now() + std::time::Duration::from_secs(10));
            }
        }
    };
    tail.forward(log).await;
    if timed_out {
        let t = req.timeout.unwrap_or_default();
        return Err(format!(
            "Timeout: the task exceeded its execution_timeout of {}s and its process group was killed",
            t.as_secs_f64()
        ));
    }
    match ended {
        Ok(Ok(exit)) => Ok(exit.returncode),
        Ok(Err(e)) => {
            kill_group(pid);
            Err(e)
        }
        Err(_) => {
            kill_group(pid);
            Err("lost track of the task process".into())
        }
    }
}

/// Runs `program args` in its own process group with exactly `env`, streaming its output
/// to the log; `(exit code, last stdout line)`.
#[allow(clippy::too_many_arguments)]
async fn run_process(
    req: &TaskRequest,
    program: &std::path::Path,
    args: &[std::ffi::OsString],
    env: BTreeMap<String, String>,
    cwd: Option<std::path::PathBuf>,
    log: &mut LogWriter,
    running: &Arc<Mutex<HashMap<String, u32>>>,
    done: &mpsc::UnboundedSender<ExecutorEvent>,
) -> Result<(i64, Option<String>), String> {
    let mut c = tokio::process::Command::new(program);
    c.args(args)
        .env_clear()
        .envs(&env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let dir = cwd.unwrap_or_else(std::env::temp_dir);
    c.current_dir(&dir);
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let pid = child.id().unwrap_or(0);
    running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(req.ti_id.clone(), pid);
    let _ = done.send(ExecutorEvent::Started {
        ti_id: req.ti_id.clone(),
        try_number: req.try_number,
        pid,
    });
    let mut out = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut err = BufReader::new(child.stderr.take().expect("piped")).lines();
    let mut last = None;
    let deadline = req.timeout.map(|t| tokio::time::Instant::now() + t);
    let (mut out_open, mut err_open) = (true, true);
    let timed_out = loop {
        if !out_open && !err_open {
            break false;
        }
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            l = out.next_line(), if out_open => match l {
                Ok(Some(l)) => { log.line("stdout", None, &l).await; last = Some(l); }
                _ => out_open = false,
            },
            l = err.next_line(), if err_open => match l {
                Ok(Some(l)) => log.line("stderr", None, &l).await,
                _ => err_open = false,
            },
            _ = sleep => break true,
        }
    };
    if timed_out {
        kill_group(pid);
        let _ = child.wait().await;
        let t = req.timeout.unwrap_or_default();
        return Err(format!(
            "Timeout: the task exceeded its execution_timeout of {}s and its process group was killed",
            t.as_secs_f64()
        ));
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    // Anything the command left running in its group goes with it.
    kill_group(pid);
    match status.code() {
        Some(c) => Ok((c as i64, last)),
        None => Err("the task's process was killed by a signal".into()),
    }
}
