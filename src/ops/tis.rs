//! Task-instance mutations: clear (with Airflow's selection options), mark a task and its
//! relatives, note, delete.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::runs::{LoadedRun, after_change, load, no_run, retries_of};
use super::{Effects, OpError, Ops, audit};
use crate::audit::Entry;
use crate::auth::Identity;
use crate::dag::Dag;
use crate::store::filter::Filter;
use crate::store::runs::{self, RunFilter, RunRow};
use crate::store::tis::{self, TiRow};
use crate::store::{Db, Tx, dags};

/// `clearTaskInstances`' options, as Airflow names them.
#[derive(Debug, Clone, Default)]
pub struct ClearRequest {
    pub dry_run: bool,
    /// Runs whose logical date (or `run_after`) lies in this range (stored timestamps).
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub dag_run_id: Option<String>,
    /// Task ids (every map index), or `(task_id, Some(map_index))` pairs.
    pub task_ids: Option<Vec<(String, Option<i64>)>>,
    pub only_failed: bool,
    pub only_running: bool,
    pub include_upstream: bool,
    pub include_downstream: bool,
    pub include_future: bool,
    pub include_past: bool,
    pub reset_dag_runs: bool,
    pub prevent_running_task: bool,
    /// The request's task ids as sent, for the audit row.
    pub task_ids_raw: Option<Vec<Value>>,
}

/// Task ids plus their upstream and/or downstream closure.
pub fn with_relatives(dag: &Dag, ids: &BTreeSet<String>, up: bool, down: bool) -> BTreeSet<String> {
    let mut out = ids.clone();
    let downstream = dag.downstream();
    let mut stack: Vec<String> = ids.iter().cloned().collect();
    while let Some(id) = stack.pop() {
        let mut next: Vec<String> = Vec::new();
        if up && let Some(t) = dag.task(&id) {
            next.extend(t.upstream.iter().cloned());
        }
        if down && let Some(d) = downstream.get(id.as_str()) {
            next.extend(d.iter().map(|s| s.to_string()));
        }
        for n in next {
            if out.insert(n.clone()) {
                stack.push(n);
            }
        }
    }
    out
}

/// Every task upstream (or downstream) of `id`, transitively.
fn flat_relatives<'a>(dag: &'a Dag, id: &str, up: bool) -> BTreeSet<&'a str> {
    let downstream = dag.downstream();
    let mut out = BTreeSet::new();
    let mut stack = vec![id.to_string()];
    while let Some(id) = stack.pop() {
        let next: Vec<&str> = if up {
            dag.task(&id)
                .map(|t| t.upstream.iter().map(String::as_str).collect())
                .unwrap_or_default()
        } else {
            downstream.get(id.as_str()).cloned().unwrap_or_default()
        };
        for n in next {
            if let Some(t) = dag.task(n)
                && out.insert(t.task_id.as_str())
            {
                stack.push(n.to_string());
            }
        }
    }
    out
}

/// Airflow's `get_upstreams_only_setups_and_teardowns`: the relevant setups upstream of
/// `id` (those with no teardown, or with a teardown downstream of `id`) and their teardowns.
fn relevant_setups_and_teardowns<'a>(dag: &'a Dag, id: &str) -> Vec<&'a str> {
    let downstream = dag.downstream();
    let down_teardowns: BTreeSet<&str> = flat_relatives(dag, id, false)
        .into_iter()
        .filter(|d| dag.task(d).is_some_and(|t| t.is_teardown()))
        .collect();
    let mut out = Vec::new();
    for u in flat_relatives(dag, id, true) {
        if !dag.task(u).is_some_and(|t| t.is_setup()) {
            continue;
        }
        let teardowns: Vec<&str> = downstream[u]
            .iter()
            .copied()
            .filter(|d| dag.task(d).is_some_and(|t| t.is_teardown()))
            .collect();
        if teardowns.is_empty() || teardowns.iter().any(|t| down_teardowns.contains(t)) {
            out.push(u);
            out.extend(teardowns.into_iter().filter(|t| *t != id));
        }
    }
    out
}

/// Task ids to clear: `base` with their relatives, plus the setups and teardowns that go with
/// them, as Airflow's `DAG.partial_subset` does: clearing a task clears its relevant setups
/// and their teardowns; clearing a setup without its downstream clears its teardowns.
pub fn clear_selection(
    dag: &Dag,
    base: &BTreeSet<String>,
    up: bool,
    down: bool,
) -> BTreeSet<String> {
    let mut out = with_relatives(dag, base, up, down);
    let downstream = dag.downstream();
    for id in base {
        let Some(t) = dag.task(id) else { continue };
        let plain = |t: &crate::dag::Task| !t.is_setup() && !t.is_teardown();
        if down {
            for rel in flat_relatives(dag, id, false) {
                if !base.contains(rel) && dag.task(rel).is_some_and(plain) {
                    out.extend(
                        relevant_setups_and_teardowns(dag, rel)
                            .into_iter()
                            .map(String::from),
                    );
                }
            }
        }
        if up {
            for u in flat_relatives(dag, id, true) {
                if dag.task(u).is_some_and(|t| t.is_setup()) {
                    out.extend(
                        downstream[u]
                            .iter()
                            .filter(|d| **d != id && dag.task(d).is_some_and(|t| t.is_teardown()))
                            .map(|d| d.to_string()),
                    );
                }
            }
        } else if plain(t) {
            out.extend(
                relevant_setups_and_teardowns(dag, id)
                    .into_iter()
                    .map(String::from),
            );
        }
        if t.is_setup() && !down {
            out.extend(
                downstream[id.as_str()]
                    .iter()
                    .filter(|d| dag.task(d).is_some_and(|t| t.is_teardown()))
                    .map(|d| d.to_string()),
            );
        }
    }
    out
}

/// The task instances a clear request selects, with their runs and DAG models.
fn select(
    db: &Db<'_>,
    dag_id: &str,
    r: &ClearRequest,
) -> Result<Vec<(TiRow, RunRow, std::sync::Arc<Dag>)>, OpError> {
    if dags::get_dag(db, dag_id)?.is_none() {
        return Err(OpError::NotFound(format!("Dag id {dag_id} not found")));
    }
    let mut f = Filter::default();
    f.eq("dag_id", dag_id.to_string());
    let all = runs::list(db, &RunFilter::all(f))?.0;
    // A run's place in time: its logical date, or when it was due to run.
    let when = |r: &RunRow| {
        r.logical_date
            .clone()
            .unwrap_or_else(|| r.run_after.clone())
    };
    let anchor = match &r.dag_run_id {
        None => None,
        Some(id) => Some(
            all.iter()
                .find(|x| &x.run_id == id)
                .map(when)
                .ok_or_else(|| {
                    OpError::NotFound(format!("Dag Run id {id} not found in dag {dag_id}"))
                })?,
        ),
    };
    let mut out = Vec::new();
    for run in all.iter().filter(|x| {
        let w = when(x);
        let by_run = match (&anchor, &r.dag_run_id) {
            (Some(a), Some(id)) => {
                &x.run_id == id || (r.include_past && w < *a) || (r.include_future && w > *a)
            }
            _ => true,
        };
        by_run
            && r.start_date.as_ref().is_none_or(|f| w >= *f)
            && r.end_date.as_ref().is_none_or(|t| w <= *t)
    }) {
        let LoadedRun { dag, tis, .. } = load(db, dag_id, &run.run_id)?;
        let dag = std::sync::Arc::new(dag);
        let wanted: Option<BTreeSet<String>> = r.task_ids.as_ref().map(|sel| {
            let base: BTreeSet<String> = sel.iter().map(|(t, _)| t.clone()).collect();
            clear_selection(&dag, &base, r.include_upstream, r.include_downstream)
        });
        for t in tis {
            let state_ok = (!r.only_failed
                || matches!(t.state.as_deref(), Some("failed") | Some("upstream_failed")))
                && (!r.only_running || t.state.as_deref() == Some("running"));
            // A `[task_id, map_index]` pair narrows that task to one index.
            let index_ok = r.task_ids.as_ref().is_none_or(|sel| {
                let pairs: Vec<i64> = sel
                    .iter()
                    .filter(|(id, _)| *id == t.task_id)
                    .filter_map(|(_, m)| *m)
                    .collect();
                let whole = sel.iter().any(|(id, m)| *id == t.task_id && m.is_none());
                whole || pairs.is_empty() || pairs.contains(&t.map_index)
            });
            if state_ok && index_ok && wanted.as_ref().is_none_or(|w| w.contains(&t.task_id)) {
                out.push((t, run.clone(), dag.clone()));
            }
        }
    }
    if r.prevent_running_task
        && let Some((t, _, _)) = out
            .iter()
            .find(|(t, _, _)| t.state.as_deref() == Some("running"))
    {
        return Err(OpError::BadRequest(format!(
            "Currently running task instances cannot be cleared when prevent_running_task is set: {} of run {}",
            t.task_id, t.run_id
        )));
    }
    Ok(out)
}

/// `clearTaskInstances`: the instances selected (as they were), cleared unless `dry_run`.
pub async fn clear(
    ops: &Ops,
    who: &Identity,
    dag_id: &str,
    r: ClearRequest,
) -> Result<Vec<(TiRow, RunRow)>, OpError> {
    let (who, dag_id) = (who.clone(), dag_id.to_string());
    if r.dry_run {
        let chosen = ops.store.read(move |db| select(db, &dag_id, &r)).await?;
        return Ok(chosen.into_iter().map(|(t, run, _)| (t, run)).collect());
    }
    ops.commit(move |tx, fx| {
        let chosen = select(tx, &dag_id, &r)?;
        let by_dag: Vec<(TiRow, i64)> = chosen
            .iter()
            .map(|(t, _, d)| (t.clone(), retries_of(d)(t)))
            .collect();
        let retries = |t: &TiRow| {
            by_dag
                .iter()
                .find(|(x, _)| x.id == t.id)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        };
        let list: Vec<TiRow> = chosen.iter().map(|(t, _, _)| t.clone()).collect();
        tis::clear(tx, &list, &retries, r.reset_dag_runs)?;
        after_change(fx, &list, true);
        let mut entry = Entry::new("post_clear_task_instances").dag(&dag_id);
        if let Some(run) = &r.dag_run_id {
            entry = entry.run(run);
        }
        let extra = json!({"dry_run": false, "only_failed": r.only_failed,
            "task_ids": r.task_ids_raw, "method": "POST"});
        audit(tx, &who, entry.extra(extra))?;
        Ok(chosen.into_iter().map(|(t, run, _)| (t, run)).collect())
    })
    .await
}

/// A task instance's new state and/or note, for the task (one map index, or all of them)
/// and its relatives.
#[derive(Debug, Clone, Default)]
pub struct PatchRequest {
    pub new_state: Option<String>,
    pub note: Option<String>,
    pub include_upstream: bool,
    pub include_downstream: bool,
    /// Audited as `patch_task_instance_by_map_index` when the map index was in the path.
    pub by_map_index: bool,
}

/// The instances a patch touches, after checking the task exists in the run.
fn patch_scope(
    l: &LoadedRun,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: Option<i64>,
    r: &PatchRequest,
) -> Result<(BTreeSet<String>, Vec<TiRow>), OpError> {
    let in_scope = |t: &TiRow| t.task_id != task_id || map_index.is_none_or(|m| t.map_index == m);
    if !l.tis.iter().any(|t| t.task_id == task_id && in_scope(t)) {
        return Err(OpError::NotFound(format!(
            "Task Instance not found for dag_id={dag_id}, run_id={run_id}, task_id={task_id}{}",
            map_index
                .map(|m| format!(", map_index={m}"))
                .unwrap_or_default()
        )));
    }
    let ids = with_relatives(
        &l.dag,
        &BTreeSet::from([task_id.to_string()]),
        r.include_upstream,
        r.include_downstream,
    );
    let chosen = l
        .tis
        .iter()
        .filter(|t| ids.contains(&t.task_id) && in_scope(t))
        .cloned()
        .collect();
    Ok((ids, chosen))
}

/// Checks a patch's `new_state` (422 for anything but success, failed, skipped).
fn check_state(r: &PatchRequest) -> Result<(), OpError> {
    match r.new_state.as_deref() {
        None | Some("success" | "failed" | "skipped") => Ok(()),
        Some(other) => Err(OpError::invalid(
            "new_state",
            "enum",
            format!("Input should be 'success', 'failed' or 'skipped', not {other:?}"),
            json!(other),
        )),
    }
}

/// The instances a patch would change, unchanged (the dry run).
pub async fn patch_preview(
    ops: &Ops,
    (dag_id, run_id, task_id): (&str, &str, &str),
    map_index: Option<i64>,
    r: PatchRequest,
) -> Result<(RunRow, Vec<TiRow>), OpError> {
    let (d, run, t) = (dag_id.to_string(), run_id.to_string(), task_id.to_string());
    ops.store
        .read(move |db| {
            let l = load(db, &d, &run)?;
            let (_, chosen) = patch_scope(&l, &d, &run, &t, map_index, &r)?;
            check_state(&r)?;
            Ok((l.run, chosen))
        })
        .await
}

/// Marks and/or notes a task's instances (and relatives); returns them as they are after.
pub async fn patch(
    ops: &Ops,
    who: &Identity,
    (dag_id, run_id, task_id): (&str, &str, &str),
    map_index: Option<i64>,
    r: PatchRequest,
) -> Result<(RunRow, Vec<TiRow>), OpError> {
    let who = who.clone();
    let (d, run_id, t) = (dag_id.to_string(), run_id.to_string(), task_id.to_string());
    ops.commit(move |tx, fx| {
        let out = patch_in(tx, fx, (&d, &run_id, &t), map_index, &r)?;
        let event = if r.by_map_index {
            "patch_task_instance_by_map_index"
        } else {
            "patch_task_instance"
        };
        let mut entry = Entry::new(event).dag(&d).run(&run_id).task(&t);
        if let Some(m) = map_index {
            entry = entry.map_index(m);
        }
        let extra = json!({"new_state": r.new_state, "note": r.note, "method": "PATCH"});
        audit(tx, &who, entry.extra(extra))?;
        Ok(out)
    })
    .await
}

/// A patch inside the caller's transaction (without its audit row).
fn patch_in(
    tx: &Tx<'_>,
    fx: &mut Effects,
    (d, run_id, t): (&str, &str, &str),
    map_index: Option<i64>,
    r: &PatchRequest,
) -> Result<(RunRow, Vec<TiRow>), OpError> {
    let l = load(tx, d, run_id)?;
    let (ids, chosen) = patch_scope(&l, d, run_id, t, map_index, r)?;
    check_state(r)?;
    if let Some(st) = &r.new_state {
        tis::set_state(tx, &chosen, st)?;
        after_change(fx, &chosen, false);
    }
    if let Some(note) = &r.note {
        tis::set_note(tx, d, run_id, t, map_index, note)?;
    }
    let run = runs::get(tx, d, run_id)?.ok_or_else(|| no_run(d, run_id))?;
    let in_scope = |x: &TiRow| x.task_id != t || map_index.is_none_or(|m| x.map_index == m);
    let after = tis::of_run(tx, d, run_id)?
        .into_iter()
        .filter(|x| ids.contains(&x.task_id) && in_scope(x))
        .collect();
    Ok((run, after))
}

/// Airflow's 404 for a task instance.
pub fn no_ti(dag_id: &str, run_id: &str, task_id: &str, map_index: i64) -> OpError {
    OpError::NotFound(format!(
        "The Task Instance with dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: `{task_id}` and map_index: `{map_index}` was not found"
    ))
}

/// Deletes one task instance (its running try killed) and its XCom.
pub async fn delete(
    ops: &Ops,
    who: &Identity,
    (dag_id, run_id, task_id): (&str, &str, &str),
    map_index: i64,
) -> Result<(), OpError> {
    let who = who.clone();
    let (d, r, t) = (dag_id.to_string(), run_id.to_string(), task_id.to_string());
    ops.commit(move |tx, fx| {
        if runs::get(tx, &d, &r)?.is_none() {
            return Err(no_ti(&d, &r, &t, map_index));
        }
        let ti =
            tis::get(tx, &d, &r, &t, map_index)?.ok_or_else(|| no_ti(&d, &r, &t, map_index))?;
        delete_in(tx, fx, &ti)?;
        let entry = Entry::new("delete_task_instance")
            .dag(&d)
            .run(&r)
            .task(&t)
            .map_index(map_index);
        audit(tx, &who, entry.extra(json!({"method": "DELETE"})))
    })
    .await
}

/// Deletes `ti` inside the caller's transaction (without its audit row).
fn delete_in(tx: &Tx<'_>, fx: &mut Effects, ti: &TiRow) -> Result<(), OpError> {
    after_change(fx, std::slice::from_ref(ti), true);
    fx.wake = false;
    tis::delete(tx, &ti.id)?;
    fx.event(
        "task_instance",
        json!({"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": ti.map_index, "deleted": true}),
    );
    Ok(())
}

/// An entity of a bulk task-instance body (Airflow's `BulkTaskInstanceBody`): a patch of one
/// task (one map index, or all when `map_index` is absent) of the path's run, or of the run it
/// names when the path has `~`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkTi {
    pub task_id: String,
    #[serde(default)]
    pub map_index: Option<i64>,
    #[serde(default)]
    pub dag_id: Option<String>,
    #[serde(default)]
    pub dag_run_id: Option<String>,
    #[serde(default)]
    pub new_state: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub include_upstream: bool,
    #[serde(default)]
    pub include_downstream: bool,
    #[serde(default)]
    pub include_future: bool,
    #[serde(default)]
    pub include_past: bool,
}

type Key = (String, String, String, Option<i64>);

/// Where an entity points: `(dag_id, run_id, task_id, map_index)`, or Airflow's error for a
/// `~` the entity does not fill in.
fn bulk_key(path: (&str, &str), e: &super::resources::IdOr<BulkTi>) -> Result<Key, OpError> {
    use super::resources::IdOr;
    let (dag_id, run_id, task_id, map_index) = match e {
        IdOr::Id(t) => (path.0.to_string(), path.1.to_string(), t.clone(), None),
        IdOr::Entity(b) => (
            b.dag_id.clone().unwrap_or_else(|| path.0.to_string()),
            b.dag_run_id.clone().unwrap_or_else(|| path.1.to_string()),
            b.task_id.clone(),
            b.map_index,
        ),
    };
    if dag_id == "~" || run_id == "~" {
        return Err(OpError::BadRequest(match e {
            IdOr::Id(t) => format!(
                "When using wildcard in path, dag_id and dag_run_id must be specified in BulkTaskInstanceBody object, not as string for task_id: {t}"
            ),
            IdOr::Entity(b) => format!(
                "When using wildcard in path, dag_id and dag_run_id must be specified in request body for task_id: {}",
                b.task_id
            ),
        }));
    }
    Ok((dag_id, run_id, task_id, map_index))
}

/// The instances a key names (one map index, or all of the task's).
fn bulk_tis(tx: &Tx<'_>, (d, r, t, m): &Key) -> Result<Vec<TiRow>, OpError> {
    Ok(match m {
        Some(m) => tis::get(tx, d, r, t, *m)?.into_iter().collect(),
        None => tis::of_run(tx, d, r)?
            .into_iter()
            .filter(|x| &x.task_id == t)
            .collect(),
    })
}

/// Airflow's 404 for the keys of an action that name no instance.
fn bulk_missing(missing: &[Key]) -> OpError {
    if let [(d, r, t, None)] = missing {
        return OpError::NotFound(format!(
            "No task instances found for dag_id: {d}, run_id: {r}, task_id: {t}"
        ));
    }
    let ids: Vec<String> = missing
        .iter()
        .map(|(d, r, t, m)| {
            format!(
                "{{'dag_id': '{d}', 'dag_run_id': '{r}', 'task_id': '{t}', 'map_index': {}}}",
                m.map(|m| m.to_string()).unwrap_or_else(|| "None".into())
            )
        })
        .collect();
    OpError::NotFound(format!(
        "The task instances with these identifiers: [{}] were not found",
        ids.join(", ")
    ))
}

/// `PATCH .../taskInstances` (Airflow's bulk task instances): create is refused (405, as
/// Airflow), update patches each named instance as `PATCH .../{task_id}/{map_index}` does,
/// delete deletes them; all in one transaction with one audit row. Successes are named
/// `dag_id.run_id.task_id[map_index]`.
pub async fn bulk(
    ops: &Ops,
    who: &Identity,
    (dag_id, run_id): (&str, &str),
    body: super::resources::BulkBody<BulkTi>,
    raw: Value,
) -> Result<super::resources::BulkResults, OpError> {
    use super::resources::{BulkAction, BulkResult, IdOr, OnMissing};
    let who = who.clone();
    let path = (dag_id.to_string(), run_id.to_string());
    ops.commit(move |tx, fx| {
        let mut out: super::resources::BulkResults = [None, None, None];
        for action in body.actions {
            let (slot, entities, on_missing, mask) = match action {
                BulkAction::Create { .. } => {
                    out[0].get_or_insert_with(BulkResult::default).errors.push(
                        OpError::MethodNotAllowed(
                            "Task instances bulk create is not supported".into(),
                        ),
                    );
                    continue;
                }
                BulkAction::Update {
                    entities,
                    update_mask,
                    action_on_non_existence,
                } => (
                    1,
                    entities.into_iter().map(IdOr::Entity).collect::<Vec<_>>(),
                    action_on_non_existence,
                    update_mask,
                ),
                BulkAction::Delete {
                    entities,
                    action_on_non_existence,
                } => (2, entities, action_on_non_existence, None),
            };
            let r = out[slot].get_or_insert_with(BulkResult::default);
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for e in &entities {
                match bulk_key((&path.0, &path.1), e) {
                    Err(err) => r.errors.push(err),
                    Ok(key) => {
                        let tis = bulk_tis(tx, &key)?;
                        if tis.is_empty() {
                            missing.push(key);
                        } else {
                            found.push((e, tis));
                        }
                    }
                }
            }
            if on_missing == OnMissing::Fail && !missing.is_empty() {
                r.errors.push(bulk_missing(&missing));
                continue;
            }
            for (e, tis) in found {
                for ti in tis {
                    let name = format!(
                        "{}.{}.{}[{}]",
                        ti.dag_id, ti.run_id, ti.task_id, ti.map_index
                    );
                    let res = match e {
                        IdOr::Entity(b) if slot == 1 => {
                            let wants =
                                |f: &str| mask.as_ref().is_none_or(|m| m.iter().any(|x| x == f));
                            let req = PatchRequest {
                                new_state: b.new_state.clone().filter(|_| wants("new_state")),
                                note: b.note.clone().filter(|_| wants("note")),
                                include_upstream: b.include_upstream,
                                include_downstream: b.include_downstream,
                                by_map_index: true,
                            };
                            patch_in(
                                tx,
                                fx,
                                (&ti.dag_id, &ti.run_id, &ti.task_id),
                                Some(ti.map_index),
                                &req,
                            )
                            .map(|_| ())
                        }
                        _ => delete_in(tx, fx, &ti),
                    };
                    match res {
                        Ok(()) => r.success.push(name),
                        Err(err) => r.errors.push(err),
                    }
                }
            }
        }
        let entry = Entry::new("bulk_task_instances").dag(&path.0).run(&path.1);
        audit(
            tx,
            &who,
            entry.extra(json!({"method": "PATCH", "actions": raw["actions"]})),
        )?;
        Ok(out)
    })
    .await
}
