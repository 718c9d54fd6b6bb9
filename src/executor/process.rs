//! What every task process on this machine gets from the executor: an environment built from
//! scratch ([`task_env`]), a bounded wait ([`until`]), and a `SIGKILL` of its whole process
//! group ([`kill_group`]).
//!
//! **Invariant:** never reads the server's environment beyond the base variables of
//! [`task_env`]; knows nothing of task kinds, logs or results.
//!
//! Called by `bash` and `python` (per try), `subprocess` (kill, kill_all) and
//! `scheduler::recover` (pids of a previous server's tries).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::TaskRequest;

/// Kills a whole process group (the task and everything it started).
pub fn kill_group(pid: u32) {
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}

/// The environment of a task, built from scratch: the base variables, `AIRFLOW_CTX_*`, then
/// `extra` (the task's rendered `env`).
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

/// Sleeps until `deadline`, or forever without one (a `select!` arm for `execution_timeout`).
pub async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The failure of a try whose `execution_timeout` killed its process group.
pub fn timed_out(limit: Option<Duration>) -> String {
    format!(
        "Timeout: the task exceeded its execution_timeout of {}s and its process group was killed",
        limit.unwrap_or_default().as_secs_f64()
    )
}
