//! What every task process on this machine gets from the executor: an environment built from
//! scratch ([`task_env`]), a bounded wait ([`until`]), and a guarded `SIGKILL` of its process
//! group ([`kill_group`]).
//!
//! **Invariant:** never signals a pid it did not check: 0, negative values, 1 (init), values
//! beyond `i32` and this server's own process group are refused with a [`PidError`], whatever
//! the zygote answered or the database held. Never reads the server's environment beyond the
//! base variables below.
//!
//! Called by `bash` and `python` (per try), `subprocess` (kill, kill_all), `zygote` (pids it
//! is told) and `scheduler::recover` (pids of a previous server's tries).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::TaskRequest;

/// Why a pid is not a process group the executor may kill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PidError {
    #[error(
        "pid {0} is not positive: as a process group it would name this server's group or every process"
    )]
    NotPositive(i64),
    #[error("pid 1 is init, never a task's process group")]
    Init,
    #[error("pid {0} is beyond the largest pid ({max})", max = i32::MAX)]
    TooLarge(i64),
    #[error("pid {0} is this server's own process group")]
    OwnGroup(i64),
}

/// The process group a task with process id `pid` leads, when it may be killed: a task's group
/// is positive, not init's, within `i32` and not `own_pgid` (the caller's own group).
pub fn group_of(pid: i64, own_pgid: i32) -> Result<i32, PidError> {
    let group = match pid {
        ..=0 => return Err(PidError::NotPositive(pid)),
        1 => return Err(PidError::Init),
        p => i32::try_from(p).map_err(|_| PidError::TooLarge(pid))?,
    };
    if group == own_pgid {
        return Err(PidError::OwnGroup(pid));
    }
    Ok(group)
}

/// [`group_of`] against this process's own process group.
pub fn task_group(pid: i64) -> Result<i32, PidError> {
    // SAFETY: getpgrp takes no arguments, touches no memory and cannot fail (POSIX).
    let own = unsafe { libc::getpgrp() };
    group_of(pid, own)
}

/// Kills a whole process group (the task and everything it started) with `SIGKILL`; a group
/// that is already gone is not an error, a refused pid is.
pub fn kill_group(pid: i64) -> Result<(), PidError> {
    let group = task_group(pid)?;
    // SAFETY: kill takes plain integers and touches no memory of ours. `group` was checked
    // above to be > 1 and not our own group, so `-group` names exactly one other process
    // group, never "every process" (-1) or "our own group" (0).
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
    Ok(())
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
pub fn timed_out(limit: Option<Duration>, killed: &str) -> String {
    format!(
        "Timeout: the task exceeded its execution_timeout of {}s and {killed} was killed",
        limit.unwrap_or_default().as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: i32 = 4242;

    #[test]
    fn only_a_task_group_may_be_killed() {
        assert_eq!(group_of(0, OWN), Err(PidError::NotPositive(0)));
        assert_eq!(group_of(-7, OWN), Err(PidError::NotPositive(-7)));
        assert_eq!(group_of(1, OWN), Err(PidError::Init));
        let too_large = i64::from(i32::MAX) + 1;
        assert_eq!(group_of(too_large, OWN), Err(PidError::TooLarge(too_large)));
        assert_eq!(
            group_of(i64::from(u32::MAX), OWN),
            Err(PidError::TooLarge(i64::from(u32::MAX)))
        );
        assert_eq!(group_of(i64::from(OWN), OWN), Err(PidError::OwnGroup(4242)));
        assert_eq!(group_of(31337, OWN), Ok(31337));
        assert_eq!(group_of(i64::from(i32::MAX), OWN), Ok(i32::MAX));
    }

    #[test]
    fn refusals_name_the_pid() {
        let too_large = i64::from(i32::MAX) + 1;
        for (pid, says) in [(0, "pid 0 "), (too_large, "pid 2147483648 "), (1, "pid 1 ")] {
            let e = group_of(pid, OWN).unwrap_err().to_string();
            assert!(e.starts_with(says), "{e}");
        }
    }

    #[test]
    fn this_processs_own_group_is_refused() {
        // SAFETY: as in `task_group`.
        let own = unsafe { libc::getpgrp() };
        // Checked without sending anything, so a broken check cannot kill the test runner.
        let expected = if own == 1 {
            PidError::Init
        } else {
            PidError::OwnGroup(i64::from(own))
        };
        assert_eq!(task_group(i64::from(own)), Err(expected));
    }
}
