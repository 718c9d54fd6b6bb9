//! The identifiers users choose — run ids, and the DAG, task and map index of a try — checked
//! as Airflow checks them, and turned into file paths in one place.
//!
//! Run ids come from API bodies, the CLI and `TriggerDagRunOperator`; they name log
//! directories. [`check_run_id`] accepts what Airflow's `allowed_run_id_pattern` (default
//! `^[A-Za-z0-9_.~:+-]+$`) or its own run-id form accepts. [`log_path`] builds the log file
//! of a try and proves the result stays under the logs folder, whatever the ids contain.
//!
//! **Invariant:** no code outside this module joins a user-chosen id onto a path.

use std::path::{Component, Path, PathBuf};

/// Airflow's default `[scheduler] allowed_run_id_pattern`.
pub const ALLOWED_RUN_ID_PATTERN: &str = "^[A-Za-z0-9_.~:+-]+$";
/// Airflow's own run-id form (`RUN_ID_REGEX`), always accepted.
pub const RUN_ID_REGEX: &str =
    r"^(?:manual|scheduled|asset_triggered)__(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00)$";
/// The longest id Airflow stores (`ID_LEN`).
pub const MAX_ID_LEN: usize = 250;

/// Whether `c` may appear in a run id under the default pattern.
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '~' | ':' | '+' | '-')
}

/// Checks a run id as Airflow does; the error is Airflow's message (the API answers it 400).
pub fn check_run_id(run_id: &str) -> Result<(), String> {
    let ok = !run_id.is_empty() && run_id.chars().all(allowed) && run_id.len() <= MAX_ID_LEN;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "The run_id provided '{run_id}' does not match regex pattern '{ALLOWED_RUN_ID_PATTERN}' or '{RUN_ID_REGEX}'"
        ))
    }
}

/// The key of one try, as its log file is named.
#[derive(Debug, Clone, Copy)]
pub struct TryKey<'a> {
    pub dag_id: &'a str,
    pub run_id: &'a str,
    pub task_id: &'a str,
    pub map_index: i64,
    pub try_number: i64,
}

/// Why a try has no log path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {value:?} cannot name a log file: {why}")]
pub struct PathError {
    pub field: &'static str,
    pub value: String,
    pub why: &'static str,
}

/// The log file of a try, Airflow's layout:
/// `logs/dag_id=D/run_id=R/task_id=T/[map_index=M/]attempt=N.log`. Every part must be one
/// plain path component (no separator, no NUL, not `.` or `..`), and the result is checked to
/// lie under `logs`.
pub fn log_path(logs: &Path, k: &TryKey<'_>) -> Result<PathBuf, PathError> {
    let part = |field: &'static str, prefix: &str, value: &str| -> Result<String, PathError> {
        let bad = |why| PathError {
            field,
            value: value.to_string(),
            why,
        };
        if value.is_empty() {
            return Err(bad("it is empty"));
        }
        if value.contains(['/', '\\', '\0']) {
            return Err(bad("it contains a path separator or NUL"));
        }
        let name = format!("{prefix}={value}");
        match Path::new(&name).components().collect::<Vec<_>>().as_slice() {
            [Component::Normal(_)] => Ok(name),
            _ => Err(bad("it is not a plain file name")),
        }
    };
    let mut path = logs
        .join(part("dag_id", "dag_id", k.dag_id)?)
        .join(part("run_id", "run_id", k.run_id)?)
        .join(part("task_id", "task_id", k.task_id)?);
    if k.map_index >= 0 {
        path.push(format!("map_index={}", k.map_index));
    }
    path.push(format!("attempt={}.log", k.try_number.max(0)));
    let depth = path
        .strip_prefix(logs)
        .map(|rel| rel.components().all(|c| matches!(c, Component::Normal(_))))
        .unwrap_or(false);
    if !depth {
        return Err(PathError {
            field: "log path",
            value: path.display().to_string(),
            why: "it does not stay under the logs folder",
        });
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_follow_airflows_pattern() {
        for ok in [
            "manual__2026-01-01T00:00:00+00:00",
            "scheduled__2026-01-01T00:00:00.123456+00:00",
            "my.run~1:x",
            "..",
        ] {
            check_run_id(ok).unwrap();
        }
        for bad in [
            "../../x",
            "a/b",
            "",
            "sp ace",
            "ünï",
            "a\0b",
            &"x".repeat(251),
        ] {
            let e = check_run_id(bad).unwrap_err();
            assert!(e.contains("does not match regex pattern"), "{e}");
        }
    }

    #[test]
    fn log_paths_stay_under_logs() {
        let logs = Path::new("/home/u/.leoflow/logs");
        let k = TryKey {
            dag_id: "d",
            run_id: "..",
            task_id: "t",
            map_index: 3,
            try_number: 2,
        };
        assert_eq!(
            log_path(logs, &k).unwrap(),
            Path::new(
                "/home/u/.leoflow/logs/dag_id=d/run_id=../task_id=t/map_index=3/attempt=2.log"
            )
        );
        for (dag, run, task) in [
            ("d", "../../../../etc", "t"),
            ("d", "r", "a/../../b"),
            ("", "r", "t"),
            ("d\0", "r", "t"),
            ("d", "r", "..\\x"),
        ] {
            let k = TryKey {
                dag_id: dag,
                run_id: run,
                task_id: task,
                map_index: -1,
                try_number: 1,
            };
            assert!(log_path(logs, &k).is_err(), "{dag:?} {run:?} {task:?}");
        }
    }
}
