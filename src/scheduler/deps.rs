//! Why a task instance is not running (`GET .../dependencies`), from the scheduler's own rules:
//! Airflow's `SCHEDULER_QUEUED_DEPS` and the task's trigger rule, each failing one reported as
//! `(name, reason)` in Airflow's words, sorted by name. Only instances without a state or
//! `scheduled` are examined, as in Airflow.
//!
//! Called by the API; reads the store, writes nothing.

use crate::dag::Dag;
use crate::store::runs::RunRow;
use crate::store::tis::{self, TiRow};
use crate::store::{Db, StoreError, dags, sched};

use super::rules::{self, Upstream, state};

/// One unmet dependency: Airflow's dep name and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    pub name: &'static str,
    pub reason: String,
}

/// The unmet dependencies of `ti` (of `run`, a run of `dag`).
pub fn blocking(db: &Db<'_>, ti: &TiRow, run: &RunRow, dag: &Dag) -> Result<Vec<Dep>, StoreError> {
    if !matches!(ti.state.as_deref(), None | Some(state::SCHEDULED)) {
        return Ok(Vec::new());
    }
    let Some(task) = dag.task(&ti.task_id) else {
        return Ok(Vec::new());
    };
    let mut deps = Vec::new();
    if ti.state.as_deref() != Some(state::SCHEDULED) {
        deps.push(Dep {
            name: "Task Instance State",
            reason: format!(
                "Task is in the '{}' state.",
                ti.state.as_deref().unwrap_or("None")
            ),
        });
    }
    let run_tis = tis::of_run(db, &ti.dag_id, &ti.run_id)?;
    let upstream = Upstream::tally(
        run_tis
            .iter()
            .filter(|t| task.upstream.contains(&t.task_id))
            .map(|t| t.state.as_deref()),
    );
    if let Some(reason) = rules::explain(&task.trigger_rule, &upstream, &task.upstream) {
        deps.push(Dep {
            name: "Trigger Rule",
            reason,
        });
    }
    if run.state != "running" {
        deps.push(Dep {
            name: "Dagrun Running",
            reason: format!(
                "Task instance's dagrun was not in the 'running' state but in the state '{}'.",
                run.state
            ),
        });
    }
    if dags::get_dag(db, &ti.dag_id)?.is_some_and(|d| d.is_paused) {
        deps.push(Dep {
            name: "Dag Not Paused",
            reason: format!("Task's DAG '{}' is paused.", ti.dag_id),
        });
    }
    let (_, active) = sched::active_counts(db)?;
    if active.get(&ti.dag_id).copied().unwrap_or(0) >= dag.max_active_tasks as i64 {
        deps.push(Dep {
            name: "Task Instance Slots Available",
            reason: format!(
                "The maximum number of running tasks ({}) for this task's DAG '{}' has been reached.",
                dag.max_active_tasks, ti.dag_id
            ),
        });
    }
    let limit = |k: &str| task.extra.get(k).and_then(|v| v.as_i64());
    let active_of = |same_run: bool| {
        run_tis
            .iter()
            .filter(|t| t.task_id == ti.task_id)
            .filter(|t| matches!(t.state.as_deref(), Some(state::QUEUED | state::RUNNING)))
            .filter(|t| !same_run || t.run_id == ti.run_id)
            .count() as i64
    };
    if limit("max_active_tis_per_dag").is_some_and(|n| active_of(false) >= n) {
        deps.push(Dep {
            name: "Task Concurrency",
            reason: "The max task concurrency has been reached.".into(),
        });
    } else if limit("max_active_tis_per_dagrun").is_some_and(|n| active_of(true) >= n) {
        deps.push(Dep {
            name: "Task Concurrency",
            reason: "The max task concurrency per run has been reached.".into(),
        });
    }
    match sched::pool_free(db)?.get(&task.pool) {
        None => deps.push(Dep {
            name: "Pool Slots Available",
            reason: format!("Tasks using non-existent pool '{}' will not be scheduled", task.pool),
        }),
        Some(free) if *free < ti.pool_slots => deps.push(Dep {
            name: "Pool Slots Available",
            reason: format!(
                "Not scheduling since there are {free} open slots in pool {} and require {} pool slots",
                task.pool, ti.pool_slots
            ),
        }),
        Some(_) => {}
    }
    deps.sort_by(|a, b| a.name.cmp(b.name));
    Ok(deps)
}
