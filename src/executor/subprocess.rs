//! The executor: each try in its own process group on this machine, or in a local container.
//!
//! [`SubprocessExecutor`] owns the bookkeeping: it starts a tokio task per try, opens the
//! try's log, hands the try to the module for its kind (`empty` finishes at once, then
//! `bash`, native `http`, and `python` for everything else and every mapped map index;
//! `DockerOperator` / `@task.docker` reach `docker` through `python`; with `--executor
//! docker` a task that names an image goes to `docker::run_in_image`), keeps the pid (and
//! the container) of each running try for `kill` and `kill_all`, and reports `Started` and
//! `Finished` on the completion channel.
//!
//! **Invariant:** owns no task semantics (rendering, exit codes, results live in the kind's
//! module); signals only through [`kill_group`], whose refusals it logs; every started try
//! reports exactly one `Finished`.
//!
//! Called by `scheduler::start_engine` (construction, `warm_up`) and the scheduler through the
//! [`Executor`] trait.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::mpsc;

use super::container::Containers;
use super::log::LogWriter;
use super::process::kill_group;
use super::python::PyRuntime;
use super::{Executor, ExecutorEvent, Outcome, TaskOutcome, TaskRequest};
use crate::events::EventBus;
use crate::xcom::{RETURN_VALUE, XcomKey, XcomStore};

/// Runs tries as local subprocesses.
pub struct SubprocessExecutor {
    python: Arc<PyRuntime>,
    containers: Arc<Containers>,
    /// Tasks that name an image run in it (`--executor docker`).
    in_image: bool,
    xcom: XcomStore,
    events: EventBus,
    done: mpsc::UnboundedSender<ExecutorEvent>,
    running: Arc<Mutex<HashMap<String, u32>>>,
    zygote: Arc<super::zygote::Zygote>,
}

impl SubprocessExecutor {
    pub fn new(
        xcom: XcomStore,
        events: EventBus,
        done: mpsc::UnboundedSender<ExecutorEvent>,
        python: PyRuntime,
        containers: Arc<Containers>,
        in_image: bool,
    ) -> SubprocessExecutor {
        SubprocessExecutor {
            python: Arc::new(python),
            containers,
            in_image,
            xcom,
            events,
            done,
            running: Arc::default(),
            zygote: Arc::default(),
        }
    }

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

impl Executor for SubprocessExecutor {
    fn start(&self, req: TaskRequest) {
        let xcom = self.xcom.clone();
        let events = self.events.clone();
        let done = self.done.clone();
        let running = self.running.clone();
        let python = self.python.clone();
        let zygote = self.zygote.clone();
        let containers = self.containers.clone();
        let in_image = self.in_image;
        tokio::spawn(async move {
            let ti_id = req.ti_id.clone();
            let mut finished = TaskOutcome {
                ti_id: ti_id.clone(),
                try_number: req.try_number,
                outcome: Outcome::Success,
                rendered: BTreeMap::new(),
                skip: Vec::new(),
                trigger: None,
                outlet_events: Vec::new(),
            };
            let ctx = Ctx {
                req: &req,
                xcom: &xcom,
                events: &events,
                running: &running,
                done: &done,
                python: &python,
                zygote: &zygote,
                containers: &containers,
                in_image,
            };
            // A bug in a try's code path fails that try; it never leaves the run waiting.
            let tried = std::panic::AssertUnwindSafe(run_try(&ctx, &mut finished));
            let (outcome, rendered) = match futures_util::FutureExt::catch_unwind(tried).await {
                Ok(x) => x,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(ti_id, "a try's run panicked: {what}");
                    (
                        failed(format!(
                            "Leoflow failed running this try (a bug; please report it): {what}"
                        )),
                        BTreeMap::new(),
                    )
                }
            };
            finished.outcome = outcome;
            finished.rendered = rendered;
            lock(&running).remove(&ti_id);
            let _ = done.send(ExecutorEvent::Finished(finished));
        });
    }

    fn kill(&self, ti_id: &str) {
        if let Some(pid) = self.pid(ti_id) {
            kill_try(ti_id, pid);
        }
        self.containers.kill(ti_id);
    }

    fn kill_all(&self) {
        let tries: Vec<(String, u32)> = lock(&self.running)
            .iter()
            .map(|(t, p)| (t.clone(), *p))
            .collect();
        for (ti_id, pid) in tries {
            kill_try(&ti_id, pid);
        }
        self.containers.kill_all();
    }

    fn pid(&self, ti_id: &str) -> Option<u32> {
        lock(&self.running).get(ti_id).copied()
    }
}

/// What one try needs while it runs; the kind modules get it by reference.
pub(super) struct Ctx<'a> {
    pub(super) req: &'a TaskRequest,
    pub(super) xcom: &'a XcomStore,
    events: &'a EventBus,
    running: &'a Arc<Mutex<HashMap<String, u32>>>,
    done: &'a mpsc::UnboundedSender<ExecutorEvent>,
    pub(super) python: &'a PyRuntime,
    pub(super) zygote: &'a super::zygote::Zygote,
    pub(super) containers: &'a Containers,
    in_image: bool,
}

impl Ctx<'_> {
    /// Records the try's process (its pid is its process group) for `kill` and for a restarted
    /// server's recovery.
    pub(super) fn started(&self, pid: u32) {
        lock(self.running).insert(self.req.ti_id.clone(), pid);
        let _ = self.done.send(ExecutorEvent::Started {
            ti_id: self.req.ti_id.clone(),
            try_number: self.req.try_number,
            pid,
        });
    }

    /// Kills this try's process group (see [`kill_try`]).
    pub(super) fn kill(&self, pid: u32) {
        kill_try(&self.req.ti_id, pid);
    }

    /// Ends a try that succeeded: `value` becomes its `return_value` XCom, stored durably,
    /// when the task pushes XCom; an XCom that cannot be stored fails the try (no retry).
    pub(super) async fn succeed(&self, log: &mut LogWriter, value: Option<Value>) -> Outcome {
        if self.req.task.do_xcom_push
            && let Some(value) = value
            && let Err(e) = self.push_return(&value).await
        {
            log.line("leoflow", Some("error"), &e).await;
            return Outcome::Failed {
                error: e,
                retryable: false,
            };
        }
        log.line("leoflow", Some("info"), "Task finished: success")
            .await;
        Outcome::Success
    }

    async fn push_return(&self, value: &Value) -> Result<(), String> {
        self.push(RETURN_VALUE, value)?;
        self.xcom.flush_async().await.map_err(|e| e.to_string())
    }

    /// Stores one XCom of this try (durable once the return value is flushed).
    pub(super) fn push(&self, key: &str, value: &Value) -> Result<(), String> {
        let c = &self.req.context;
        let key = XcomKey {
            dag_id: c.dag_id.clone(),
            run_id: c.run_id.clone(),
            task_id: c.task_id.clone(),
            map_index: c.map_index,
            key: key.to_string(),
        };
        self.xcom.put(&key, value).map_err(|e| e.to_string())
    }
}

/// Kills the process group of `ti_id`'s try; a refused pid is logged, never signalled.
fn kill_try(ti_id: &str, pid: u32) {
    if let Err(e) = kill_group(pid.into()) {
        tracing::warn!(ti_id, pid, "not killing the task's process group: {e}");
    }
}

/// A failure Airflow would retry.
pub(super) fn failed(error: String) -> Outcome {
    Outcome::Failed {
        error,
        retryable: true,
    }
}

fn lock(running: &Mutex<HashMap<String, u32>>) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
    running.lock().unwrap_or_else(|p| p.into_inner())
}

/// Opens the try's log and runs it by its kind; its outcome and rendered template fields.
async fn run_try(ctx: &Ctx<'_>, out: &mut TaskOutcome) -> (Outcome, BTreeMap<String, Value>) {
    let req = ctx.req;
    let mut log = match LogWriter::open(req, ctx.events.clone()).await {
        Ok(l) => l,
        Err(e) => {
            return (
                failed(format!(
                    "cannot open the log {}: {e}",
                    req.log_path.display()
                )),
                BTreeMap::new(),
            );
        }
    };
    let result = run_kind(ctx, &mut log, out).await;
    log.finish().await;
    result
}

/// Runs the try by its kind, logging into `log`.
async fn run_kind(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    out: &mut TaskOutcome,
) -> (Outcome, BTreeMap<String, Value>) {
    let req = ctx.req;
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
    // input (for classic operators too: BashOperator.partial().expand(...)), as does a task
    // of a mapped task group (its arguments may be the group's mapped arguments).
    let kind = if (t.mapped.is_some() || t.mapped_group().is_some()) && t.kind != "empty" {
        "python"
    } else {
        t.kind.as_str()
    };
    if ctx.in_image
        && kind != "empty"
        && let Some(image) = t.image.as_deref()
    {
        return super::docker::run_in_image(ctx, log, out, image).await;
    }
    match kind {
        "empty" => {
            log.line("leoflow", Some("info"), "EmptyOperator: nothing to run")
                .await;
            (Outcome::Success, BTreeMap::new())
        }
        "bash" if super::bash::is_native(&t.args) => super::bash::run(ctx, log).await,
        "http" if super::http::is_native(&t.args) => super::http::run(ctx, log).await,
        crate::dag::registered::ENTRYPOINT => {
            let e = format!(
                "task {:?} of a registered DAG calls {} inside its image {}: start Lite with `--executor docker` to run it",
                t.task_id,
                t.args
                    .get("entrypoint")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default(),
                t.image.as_deref().unwrap_or("(none)")
            );
            log.line("leoflow", Some("error"), &e).await;
            (
                Outcome::Failed {
                    error: e,
                    retryable: false,
                },
                BTreeMap::new(),
            )
        }
        // Everything else runs the operator's own `execute` in the Python runtime: Python
        // callables, branching, sensors, HttpOperator with callables, custom operators...
        _ => super::python::run(ctx, log, out).await,
    }
}
