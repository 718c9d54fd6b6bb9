//! Run mutations: trigger, mark (success / failed / queued), note, clear, delete.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{Effects, OpError, Ops, audit};
use crate::audit::Entry;
use crate::auth::Identity;
use crate::dag::Dag;
use crate::store::runs::{self, CreateRunError, NewRun, RunRow};
use crate::store::tis::{self, TiRow};
use crate::store::{Db, Tx, dags};

/// A run to trigger.
#[derive(Debug, Clone, Default)]
pub struct Trigger {
    pub dag_id: String,
    /// Default: `manual__<logical date or run_after>`.
    pub run_id: Option<String>,
    pub logical_date: Option<DateTime<Utc>>,
    /// Default: the logical date, else now.
    pub run_after: Option<DateTime<Utc>>,
    pub data_interval_start: Option<DateTime<Utc>>,
    pub data_interval_end: Option<DateTime<Utc>>,
    pub conf: Map<String, Value>,
    pub note: Option<String>,
    /// Airflow's `triggered_by`: `rest_api`, `cli`, `test`...
    pub triggered_by: &'static str,
    /// The audit event (`trigger_dag_run`, `cli_dags_trigger`), with its `method`.
    pub event: &'static str,
    pub method: &'static str,
    /// Only this task runs; the run's other task instances are `removed` (`tasks test`).
    pub only_task: Option<String>,
}

fn stored(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Airflow's run id timestamp: `2026-11-22T11:15:50.045015+00:00`.
pub fn run_id_ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

/// Queues a manual run of the DAG's latest version, `conf` checked against its params and the
/// run id against Airflow's pattern.
pub async fn trigger(ops: &Ops, who: &Identity, t: Trigger) -> Result<RunRow, OpError> {
    trigger_as(ops, who, t, "manual").await
}

/// [`trigger`] with another run type (`asset_materialization`), which also prefixes the
/// default run id.
pub async fn trigger_as(
    ops: &Ops,
    who: &Identity,
    t: Trigger,
    run_type: &'static str,
) -> Result<RunRow, OpError> {
    let run_after = t.run_after.or(t.logical_date).unwrap_or_else(Utc::now);
    let run_id = t.run_id.clone().unwrap_or_else(|| {
        format!(
            "{run_type}__{}",
            run_id_ts(&t.logical_date.unwrap_or(run_after))
        )
    });
    crate::keys::check_run_id(&run_id).map_err(OpError::BadRequest)?;
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let dag = dags::get_dag(tx, &t.dag_id)?.ok_or_else(|| {
            OpError::NotFound(format!("DAG with dag_id: '{}' not found", t.dag_id))
        })?;
        crate::dag::params::check_conf(&dag.dag, &t.conf).map_err(OpError::BadRequest)?;
        let new = NewRun {
            dag_id: t.dag_id.clone(),
            run_id,
            run_type: run_type.into(),
            logical_date: t.logical_date.map(stored),
            run_after: stored(run_after),
            data_interval_start: t.data_interval_start.or(t.logical_date).map(stored),
            data_interval_end: t.data_interval_end.or(t.logical_date).map(stored),
            conf: Value::Object(t.conf),
            note: t.note,
            triggered_by: t.triggered_by.into(),
            triggering_user_name: None,
        };
        let run = runs::create(tx, &new).map_err(|e| match e {
            CreateRunError::Duplicate { .. } => OpError::UniqueViolation(e.to_string()),
            CreateRunError::NoDag(_) => OpError::NotFound(e.to_string()),
            CreateRunError::Store(e) => OpError::Store(e),
        })?;
        if let Some(task) = &t.only_task {
            if dag.dag.task(task).is_none() {
                return Err(OpError::NotFound(format!(
                    "DAG {:?} has no task {task:?}; see `leoflow dags show {}`",
                    t.dag_id, t.dag_id
                )));
            }
            tis::only_task(tx, &run.dag_id, &run.run_id, task)?;
        }
        let conf = crate::secrets::redact(&run.conf, None);
        let extra = json!({"logical_date": run.logical_date, "conf": conf, "method": t.method});
        audit(
            tx,
            &who,
            Entry::new(t.event)
                .dag(&run.dag_id)
                .run(&run.run_id)
                .extra(extra),
        )?;
        fx.event("dag_run", run_event(&run.dag_id, &run.run_id, &run.state));
        fx.wake = true;
        Ok(run)
    })
    .await
}

/// The event of a run's state change.
pub fn run_event(dag_id: &str, run_id: &str, state: &str) -> Value {
    json!({"dag_id": dag_id, "run_id": run_id, "state": state})
}

/// A run with its DAG version's model and its task instances.
pub struct LoadedRun {
    pub run: RunRow,
    pub dag: Dag,
    pub tis: Vec<TiRow>,
}

/// Airflow's 404 for a run.
pub fn no_run(dag_id: &str, run_id: &str) -> OpError {
    OpError::NotFound(format!(
        "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
    ))
}

/// A run, its model and task instances (404 when the run does not exist).
pub fn load(db: &Db<'_>, dag_id: &str, run_id: &str) -> Result<LoadedRun, OpError> {
    let run = runs::get(db, dag_id, run_id)?.ok_or_else(|| no_run(dag_id, run_id))?;
    let dag = dags::version_model(db, &run.dag_version_id)?.ok_or_else(|| {
        OpError::NotFound(format!(
            "The DAG version of run `{run_id}` of `{dag_id}` is gone"
        ))
    })?;
    let tis = tis::of_run(db, dag_id, run_id)?;
    Ok(LoadedRun { run, dag, tis })
}

/// The retries a task of `dag` gets when cleared.
pub fn retries_of(dag: &Dag) -> impl Fn(&TiRow) -> i64 + '_ {
    |t: &TiRow| dag.task(&t.task_id).map(|x| x.retries as i64).unwrap_or(0)
}

/// Kills the running tries among `tis` (and clears their XCom when `clear_xcom`), and wakes
/// the scheduler: what a state change by hand calls for.
pub fn after_change(fx: &mut Effects, tis: &[TiRow], clear_xcom: bool) {
    for ti in tis {
        if matches!(ti.state.as_deref(), Some("running") | Some("queued")) {
            fx.kill.push(ti.id.clone());
        }
        if clear_xcom {
            fx.clear_xcom.push((
                ti.dag_id.clone(),
                ti.run_id.clone(),
                Some((ti.task_id.clone(), ti.map_index)),
            ));
        }
    }
    fx.wake = true;
}

/// Marks a run (`success`, `failed`, or `queued`: cleared to run again) and/or sets its note.
pub async fn patch(
    ops: &Ops,
    who: &Identity,
    dag_id: &str,
    run_id: &str,
    state: Option<String>,
    note: Option<String>,
    update_mask: Vec<String>,
) -> Result<RunRow, OpError> {
    if let Some(other) = state
        .as_deref()
        .filter(|s| !["success", "failed", "queued"].contains(s))
    {
        return Err(OpError::invalid(
            "state",
            "enum",
            format!("Input should be 'queued', 'success' or 'failed', not {other:?}"),
            json!(other),
        ));
    }
    let (who, dag_id, run_id) = (who.clone(), dag_id.to_string(), run_id.to_string());
    ops.commit(move |tx, fx| {
        let l = load(tx, &dag_id, &run_id)?;
        match state.as_deref() {
            Some(st @ ("success" | "failed")) => {
                let changed = runs::set_state(tx, &dag_id, &run_id, st)?;
                after_change(fx, &changed, false);
            }
            Some("queued") => {
                tis::clear(tx, &l.tis, &retries_of(&l.dag), true)?;
                after_change(fx, &l.tis, true);
            }
            _ => {}
        }
        if let Some(st) = &state {
            fx.event("dag_run", run_event(&dag_id, &run_id, st));
        }
        if let Some(n) = &note {
            runs::set_note(tx, &dag_id, &run_id, n)?;
        }
        let extra = json!({"update_mask": update_mask, "method": "PATCH"});
        audit(
            tx,
            &who,
            Entry::new("patch_dag_run")
                .dag(&dag_id)
                .run(&run_id)
                .extra(extra),
        )?;
        Ok(runs::get(tx, &dag_id, &run_id)?.expect("patched above"))
    })
    .await
}

/// Deletes a run, its task instances (their running tries killed) and its XCom.
pub async fn delete(ops: &Ops, who: &Identity, dag_id: &str, run_id: &str) -> Result<(), OpError> {
    let (who, dag_id, run_id) = (who.clone(), dag_id.to_string(), run_id.to_string());
    ops.commit(move |tx, fx| {
        let l = load(tx, &dag_id, &run_id)?;
        after_change(fx, &l.tis, false);
        runs::delete(tx, &dag_id, &run_id)?;
        fx.clear_xcom.push((dag_id.clone(), run_id.clone(), None));
        fx.event(
            "dag_run",
            json!({"dag_id": dag_id, "run_id": run_id, "state": null, "deleted": true}),
        );
        let entry = Entry::new("delete_dag_run").dag(&dag_id).run(&run_id);
        audit(tx, &who, entry.extra(json!({"method": "DELETE"})))
    })
    .await
}

/// The task instances clearing a run would reset (all, or only the failed ones).
pub fn to_clear(tis: Vec<TiRow>, only_failed: bool) -> Vec<TiRow> {
    tis.into_iter()
        .filter(|t| {
            !only_failed || matches!(t.state.as_deref(), Some("failed") | Some("upstream_failed"))
        })
        .collect()
}

/// What clearing a run would reset, without changing anything (the dry run).
pub async fn clear_preview(
    ops: &Ops,
    dag_id: &str,
    run_id: &str,
    only_failed: bool,
) -> Result<(RunRow, Vec<TiRow>), OpError> {
    let (d, r) = (dag_id.to_string(), run_id.to_string());
    let l = ops.store.read(move |db| load(db, &d, &r)).await?;
    Ok((l.run, to_clear(l.tis, only_failed)))
}

/// Clears a run's task instances (all, or the failed ones) so they run again; the run is
/// queued again.
pub async fn clear(
    ops: &Ops,
    who: &Identity,
    dag_id: &str,
    run_id: &str,
    only_failed: bool,
) -> Result<RunRow, OpError> {
    let (who, dag_id, run_id) = (who.clone(), dag_id.to_string(), run_id.to_string());
    ops.commit(move |tx, fx| {
        let l = load(tx, &dag_id, &run_id)?;
        let chosen = to_clear(l.tis, only_failed);
        tis::clear(tx, &chosen, &retries_of(&l.dag), true)?;
        after_change(fx, &chosen, true);
        let extra = json!({"dry_run": false, "only_failed": only_failed, "method": "POST"});
        let entry = Entry::new("clear_dag_run").dag(&dag_id).run(&run_id);
        audit(tx, &who, entry.extra(extra))?;
        fx.event("dag_run", run_event(&dag_id, &run_id, "queued"));
        Ok(runs::get(tx, &dag_id, &run_id)?.expect("cleared above"))
    })
    .await
}

/// The model of a DAG's latest version and the DAG's row, for callers that check a trigger
/// before making it (404 when unknown).
pub fn dag_of(tx: &Tx<'_>, dag_id: &str) -> Result<dags::DagRow, OpError> {
    dags::get_dag(tx, dag_id)?
        .ok_or_else(|| OpError::NotFound(format!("The Dag with ID: `{dag_id}` was not found")))
}
