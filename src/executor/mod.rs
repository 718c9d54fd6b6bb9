//! Executors run one task instance try and report how it ended.
//!
//! [`Executor`] is the boundary the scheduler uses: `start` a [`TaskRequest`], receive a
//! [`TaskOutcome`] on the completion channel, `kill` on timeout, cancel or shutdown. The
//! subprocess executor is the default; a container executor (bollard) fills the same trait.
//!
//! **Invariant:** a task never inherits the server's environment: its environment is built
//! from scratch (PATH, HOME, LANG, TZ, the task's `env`, `AIRFLOW_CTX_*`). A try is reported
//! `Success` only after its XCom is durable.

mod bash;
pub mod container;
mod docker;
pub mod engine;
pub mod http;
mod log;
pub mod process;
pub mod python;
pub mod subprocess;
pub mod template;
pub mod zygote;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::dag::Task;

/// Everything needed to run one try of one task instance.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    pub ti_id: String,
    pub try_number: i64,
    /// Retries allowed (Airflow's `max_tries`): decides retry vs failure callbacks.
    pub max_tries: i64,
    pub task: Arc<Task>,
    pub context: template::Context,
    /// NDJSON log file of this try.
    pub log_path: PathBuf,
    /// Task output past this many log bytes is dropped after a notice (0: no cap).
    pub log_max_bytes: u64,
    /// The DAG file and folder (Python tasks re-import it).
    pub dag_file: PathBuf,
    pub dags_folder: PathBuf,
    pub timeout: Option<Duration>,
    /// A rescheduled sensor continuing its try: its pokes so far and the first one's start.
    pub reschedule: Option<crate::store::sched::Resumed>,
    /// A deferred try resuming: `{"method", "event"}` (Airflow's `next_method` / `next_kwargs`);
    /// the runtime calls that method instead of `execute`.
    pub resume: Option<serde_json::Value>,
}

/// How a try ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success,
    Skipped,
    /// `retryable` is false for failures Airflow never retries (AirflowFailException...).
    Failed {
        error: String,
        retryable: bool,
    },
    /// A sensor in `mode="reschedule"` poked and is not done: poke again at `at` (RFC 3339).
    Reschedule {
        at: String,
    },
    /// The task deferred (the runtime's `defer` object): it waits, without a process, until
    /// the scheduler resumes it. Only Human-in-the-loop waits are supported.
    Deferred(serde_json::Value),
}

/// Reported on the completion channel when a try ends.
#[derive(Debug, Clone)]
pub struct TaskOutcome {
    pub ti_id: String,
    pub try_number: i64,
    pub outcome: Outcome,
    /// Template fields as rendered for this try.
    pub rendered: BTreeMap<String, serde_json::Value>,
    /// Task ids a branch or short-circuit task decided to skip in this run.
    pub skip: Vec<String>,
    /// A run `TriggerDagRunOperator` asked for (the runtime's `trigger_dag_run`); the
    /// scheduler creates it when it records the success.
    pub trigger: Option<serde_json::Value>,
    /// What the task recorded for its outlets' asset events (the runtime's `outlet_events`:
    /// `outlet_events[asset].extra`, yielded `Metadata`, events through aliases).
    pub outlet_events: Vec<serde_json::Value>,
}

/// What an executor reports on its channel.
#[derive(Debug, Clone)]
pub enum ExecutorEvent {
    /// A try's process started (recorded so a restarted server can kill its group).
    Started {
        ti_id: String,
        try_number: i64,
        pid: u32,
    },
    /// A try ended.
    Finished(TaskOutcome),
}

/// The scheduler's view of an executor.
pub trait Executor: Send + Sync {
    /// Starts a try; its outcome arrives later on the completion channel.
    fn start(&self, req: TaskRequest);
    /// Kills a running try (its whole process group); its outcome is still reported.
    fn kill(&self, ti_id: &str);
    /// The process id of a running try, if any.
    fn pid(&self, ti_id: &str) -> Option<u32>;
    /// Kills every running try (server shutdown); the next start fails and retries them.
    fn kill_all(&self);
}
