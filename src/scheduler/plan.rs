//! A scheduling pass as pure steps over rows the scheduler loaded: which queued runs start
//! ([`starts`]), what a running run's task instances become ([`evaluate`]), and which
//! scheduled tries are dispatched within the slots ([`dispatch`]). The scheduler loads the
//! rows (`store::sched`), calls these, and applies the answers in the pass's transaction.
//!
//! **Invariant:** no IO here. XCom values for mapped tasks come through the caller's lookup.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::mapping;
use super::rules::{self, Upstream, Verdict, state};
use crate::dag::Dag;
use crate::store::runs::RunRow;
use crate::store::sched::QueuedRun;
use crate::store::tis::TiRow;

/// Parses a stored timestamp.
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The queued runs that start now, oldest first: a backfill's runs within the backfill's
/// `max_active_runs`, other runs within their DAG's (`limit` of the run's DAG version), not
/// counting backfill runs, as Airflow 3 does. `running` counts the running runs outside
/// backfills per DAG.
pub fn starts<'a>(
    queued: &'a [QueuedRun],
    limit: &dyn Fn(&QueuedRun) -> i64,
    mut running: HashMap<String, i64>,
) -> Vec<&'a QueuedRun> {
    let mut in_backfill: HashMap<i64, i64> = HashMap::new();
    let mut out = Vec::new();
    for q in queued {
        let ok = match q.backfill {
            Some(b) => {
                let n = in_backfill.entry(b.id).or_insert(b.running);
                let ok = *n < b.max_active_runs;
                if ok {
                    *n += 1;
                }
                ok
            }
            None => {
                let n = running.entry(q.dag_id.clone()).or_insert(0);
                let ok = *n < limit(q).max(1);
                if ok {
                    *n += 1;
                }
                ok
            }
        };
        if ok {
            out.push(q);
        }
    }
    out
}

/// A running run as loaded for a pass.
pub struct RunInput<'a> {
    pub run: &'a RunRow,
    pub dag: &'a Dag,
    pub tis: Vec<TiRow>,
    /// For each deferred task instance: what it waits for and that run's state (`None`: the
    /// run was deleted).
    pub waits: HashMap<String, (Value, Option<String>)>,
}

/// A change to apply to the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The trigger rule decided: `scheduled`, `skipped` or `upstream_failed`.
    Decide { ti_id: String, state: &'static str },
    /// A deferred instance's awaited run ended.
    EndWait {
        ti_id: String,
        state: &'static str,
        error: Option<String>,
    },
    /// A mapped task's placeholder becomes map index 0, and `new_ids` indexes 1.. are added.
    Expand { ti_id: String, new_ids: Vec<String> },
    /// A task of a mapped task group: its placeholder becomes map index 0 and `new_ids`
    /// indexes 1.. are added, all without a state (their trigger rules decide them).
    ExpandPending { ti_id: String, new_ids: Vec<String> },
    /// An instance ends without running (nothing to map, an unmappable input, a timeout).
    EndUnrun {
        ti_id: String,
        state: &'static str,
        error: Option<String>,
    },
    /// The run ends (`success` or `failed`).
    FinishRun(&'static str),
}

/// What [`evaluate`] decided for one run.
#[derive(Debug, Default)]
pub struct RunPlan {
    pub changes: Vec<Change>,
    pub events: Vec<(&'static str, Value)>,
    /// Tries to kill once the transaction commits (the run timed out).
    pub kills: Vec<String>,
    /// Scheduled instances, ready to dispatch.
    pub ready: Vec<TiRow>,
    /// When this run next needs a look (a retry, its timeout).
    pub wake: Option<DateTime<Utc>>,
    /// Whether the run ended.
    pub ended: bool,
}

/// The XCom lookup of a run for mapping: `(task_id, key)` → the value an unmapped upstream
/// pushed.
pub type XcomLookup<'a> = dyn Fn(&str, &str) -> Result<Option<Value>, String> + 'a;

/// Decides what a running run's task instances become now: deferred waits that ended,
/// trigger rules (repeated while decisions unlock others), mapped tasks expanded, retries due,
/// the run's timeout, and its end when every instance finished. `new_id` names new instances.
pub fn evaluate(
    input: RunInput<'_>,
    now: DateTime<Utc>,
    xcom: &XcomLookup<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> RunPlan {
    let RunInput {
        run,
        dag,
        mut tis,
        waits,
    } = input;
    let mut p = RunPlan::default();
    if let (Some(limit), Some(started)) = (
        dag.dagrun_timeout.filter(|t| *t > 0.0),
        run.start_date.as_deref().and_then(parse_ts),
    ) {
        let deadline = started + chrono::Duration::microseconds((limit * 1e6) as i64);
        if deadline <= now {
            time_out(run, &tis, &mut p);
            return p;
        }
        p.wake = Some(deadline);
    }
    for ti in tis
        .iter_mut()
        .filter(|t| t.state.as_deref() == Some(state::DEFERRED))
    {
        if let Some((wait, run_state)) = waits.get(&ti.id)
            && let Some((st, error)) = wait_outcome(wait, run_state.as_deref())
        {
            ti.state = Some(st.to_string());
            p.changes.push(Change::EndWait {
                ti_id: ti.id.clone(),
                state: st,
                error,
            });
            p.events.push(("task_instance", ti_event(ti)));
        }
    }
    let mut changed = true;
    while changed {
        changed = false;
        // Every map index of a mapped upstream counts, as in Airflow; within a mapped task
        // group, only the same map index of an upstream in the same group.
        let mut states: HashMap<String, Vec<(i64, Option<String>)>> = HashMap::new();
        for t in &tis {
            states
                .entry(t.task_id.clone())
                .or_default()
                .push((t.map_index, t.state.clone()));
        }
        let mut expand = Vec::new();
        let mut expand_group = Vec::new();
        for (i, ti) in tis.iter_mut().enumerate() {
            let verdict = match ti.state.as_deref() {
                None => {
                    let Some(task) = dag.task(&ti.task_id) else {
                        continue;
                    };
                    let group = task.mapped_group();
                    if let Some(g) = group
                        && ti.map_index == -1
                    {
                        match group_inputs_ready(dag, g, &states) {
                            Some(true) => {
                                expand_group.push(i);
                                continue;
                            }
                            Some(false) => continue,
                            // An input failed or was skipped: the trigger rule decides.
                            None => {}
                        }
                    }
                    let of = |u: &String| -> Vec<Option<&str>> {
                        let all = states.get(u).map(Vec::as_slice).unwrap_or_default();
                        let same_group = group.is_some()
                            && ti.map_index >= 0
                            && dag.task(u).and_then(|t| t.mapped_group()) == group;
                        if !same_group {
                            return all.iter().map(|(_, s)| s.as_deref()).collect();
                        }
                        let mine: Vec<Option<&str>> = all
                            .iter()
                            .filter(|(m, _)| *m == ti.map_index)
                            .map(|(_, s)| s.as_deref())
                            .collect();
                        if mine.is_empty() {
                            // Not expanded (it ended unexpanded): its placeholder decides.
                            all.iter().map(|(_, s)| s.as_deref()).collect()
                        } else {
                            mine
                        }
                    };
                    let mut up = Upstream::tally(task.upstream.iter().flat_map(&of));
                    for u in task
                        .upstream
                        .iter()
                        .filter(|u| dag.task(u).is_some_and(|t| t.is_setup()))
                    {
                        for s in of(u) {
                            up.add_setup(s);
                        }
                    }
                    let v = rules::evaluate(&task.trigger_rule, &up);
                    if v == Verdict::Run && ti.map_index == -1 && task.mapped.is_some() {
                        expand.push(i);
                        continue;
                    }
                    v
                }
                // A retry waits its delay; a rescheduled sensor its next poke time.
                Some(state::UP_FOR_RETRY | state::UP_FOR_RESCHEDULE) => {
                    match ti.next_retry_at.as_deref().and_then(parse_ts) {
                        Some(t) if t > now => {
                            p.wake = Some(p.wake.map_or(t, |n| n.min(t)));
                            Verdict::Wait
                        }
                        _ => Verdict::Run,
                    }
                }
                _ => Verdict::Wait,
            };
            let new = match verdict {
                Verdict::Run => state::SCHEDULED,
                Verdict::Skip => state::SKIPPED,
                Verdict::UpstreamFailed => state::UPSTREAM_FAILED,
                Verdict::Wait => continue,
            };
            ti.state = Some(new.to_string());
            p.changes.push(Change::Decide {
                ti_id: ti.id.clone(),
                state: new,
            });
            p.events.push(("task_instance", ti_event(ti)));
            changed = true;
        }
        for i in expand {
            let added = expand_one(run, dag, &mut tis, i, xcom, new_id, &mut p);
            tis.extend(added);
            changed = true;
        }
        for i in expand_group {
            let added = expand_in_group(run, dag, &mut tis, i, xcom, new_id, &mut p);
            tis.extend(added);
            changed = true;
        }
    }
    p.ready = tis
        .iter()
        .filter(|t| t.state.as_deref() == Some(state::SCHEDULED))
        .cloned()
        .collect();
    if let Some(final_state) = verdict_of_run(dag, &tis) {
        p.ended = true;
        p.changes.push(Change::FinishRun(final_state));
        p.events.push((
            "dag_run",
            json!({"dag_id": run.dag_id, "run_id": run.run_id, "state": final_state}),
        ));
    }
    p
}

/// `dagrun_timeout` passed: as Airflow, the run fails and its unfinished task instances are
/// skipped; the running ones are killed once the transaction commits.
fn time_out(run: &RunRow, tis: &[TiRow], p: &mut RunPlan) {
    for ti in tis
        .iter()
        .filter(|t| !state::is_finished(t.state.as_deref()))
    {
        if matches!(ti.state.as_deref(), Some(state::RUNNING | state::QUEUED)) {
            p.kills.push(ti.id.clone());
        }
        p.changes.push(Change::EndUnrun {
            ti_id: ti.id.clone(),
            state: state::SKIPPED,
            error: Some("dagrun_timeout: the run timed out".into()),
        });
        let mut t = ti.clone();
        t.state = Some(state::SKIPPED.into());
        p.events.push(("task_instance", ti_event(&t)));
    }
    p.changes.push(Change::FinishRun(state::FAILED));
    p.events.push((
        "dag_run",
        json!({"dag_id": run.dag_id, "run_id": run.run_id, "state": "failed"}),
    ));
    p.ended = true;
}

/// How a deferred `wait_for_completion` instance ends given the awaited run's state: success
/// in an allowed state, failed in a failed state or when the run is gone; `None` to wait on.
fn wait_outcome(wait: &Value, run_state: Option<&str>) -> Option<(&'static str, Option<String>)> {
    let listed = |key: &str, st: &str| {
        wait[key]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s == st))
    };
    let name = |k: &str| wait[k].as_str().unwrap_or_default().to_string();
    match run_state {
        Some(st) if listed("allowed_states", st) => Some((state::SUCCESS, None)),
        Some(st) if listed("failed_states", st) => Some((
            state::FAILED,
            Some(format!(
                "{} finished with failed state {st}",
                name("dag_id")
            )),
        )),
        None => Some((
            state::FAILED,
            Some(format!(
                "the run {} of {} it waited for was deleted",
                name("run_id"),
                name("dag_id")
            )),
        )),
        Some(_) => None,
    }
}

/// Expands the placeholder `tis[i]` of a mapped task whose upstreams are done into map
/// indexes 0..n, all scheduled; zero items skip it, an unmappable input fails it. Returns the
/// added instances.
fn expand_one(
    run: &RunRow,
    dag: &Dag,
    tis: &mut [TiRow],
    i: usize,
    xcom: &XcomLookup<'_>,
    new_id: &mut dyn FnMut() -> String,
    p: &mut RunPlan,
) -> Vec<TiRow> {
    let Some(task) = dag.task(&tis[i].task_id) else {
        return Vec::new();
    };
    let mapped = task.mapped.clone().unwrap_or_default();
    let src = RunXcom {
        tis,
        run,
        dag,
        xcom,
    };
    let result = mapping::expand_len(&task.task_id, &mapped, &src);
    let ti = &mut tis[i];
    let (end, n) = match result {
        Ok(0) => (Some((state::SKIPPED, None)), 0),
        Ok(n) => (None, n),
        Err(e) => (Some((state::FAILED, Some(e))), 0),
    };
    if let Some((st, error)) = end {
        ti.state = Some(st.into());
        p.changes.push(Change::EndUnrun {
            ti_id: ti.id.clone(),
            state: st,
            error,
        });
        p.events.push(("task_instance", ti_event(ti)));
        return Vec::new();
    }
    ti.map_index = 0;
    ti.state = Some(state::SCHEDULED.into());
    let (new_ids, added) = fan_out(ti, n, new_id);
    p.changes.push(Change::Expand {
        ti_id: ti.id.clone(),
        new_ids,
    });
    p.events.push((
        "task_instance",
        json!({"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": -1, "state": "scheduled", "expanded": n}),
    ));
    added
}

/// A run's final state once every task instance finished: failed when a leaf failed or
/// upstream-failed, else success; `None` while any is unfinished. Leaves are Airflow's
/// effective leaves: teardowns are ignored unless `on_failure_fail_dagrun`.
fn verdict_of_run(dag: &Dag, tis: &[TiRow]) -> Option<&'static str> {
    if !tis.iter().all(|t| state::is_finished(t.state.as_deref())) {
        return None;
    }
    let leaves = dag.effective_leaves();
    let leaf = |t: &TiRow| leaves.contains(t.task_id.as_str()) || dag.task(&t.task_id).is_none();
    let failed = tis.iter().filter(|t| leaf(t)).any(|t| {
        matches!(
            t.state.as_deref(),
            Some(state::FAILED | state::UPSTREAM_FAILED)
        )
    });
    Some(if failed {
        state::FAILED
    } else {
        state::SUCCESS
    })
}

/// Whether the expand input of mapped task group `group` can be resolved: `None` when the
/// group is not mapped (the DAG changed), `Some(false)` while a task it reads XCom from has
/// not finished, `Some(true)` once all of them succeeded. When one of them did not succeed,
/// the group's tasks are left to their trigger rules (`None` as well), as in Airflow.
fn group_inputs_ready(
    dag: &Dag,
    group: &str,
    states: &HashMap<String, Vec<(i64, Option<String>)>>,
) -> Option<bool> {
    let spec = dag.group_mapping(group)?;
    let mut refs = Vec::new();
    xcom_refs(spec, &mut refs);
    let mut all_success = true;
    for r in refs {
        for (_, s) in states.get(r).map(Vec::as_slice).unwrap_or_default() {
            if !state::is_finished(s.as_deref()) {
                return Some(false);
            }
            all_success &= s.as_deref() == Some(state::SUCCESS);
        }
    }
    all_success.then_some(true)
}

/// The task ids an expand spec reads XCom from.
fn xcom_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(id) = m
                .get("__xcomarg__")
                .and_then(|a| a.get("task_id"))
                .and_then(Value::as_str)
            {
                out.push(id);
            }
            m.values().for_each(|x| xcom_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| xcom_refs(x, out)),
        _ => {}
    }
}

/// Expands the placeholder `tis[i]` of a task in a mapped task group into the group's map
/// indexes 0..n, each left without a state so that its trigger rule decides it against the
/// same map index of its upstreams in the group; zero items skip it, an unmappable input
/// fails it. Returns the added instances.
fn expand_in_group(
    run: &RunRow,
    dag: &Dag,
    tis: &mut [TiRow],
    i: usize,
    xcom: &XcomLookup<'_>,
    new_id: &mut dyn FnMut() -> String,
    p: &mut RunPlan,
) -> Vec<TiRow> {
    let Some(group) = dag.task(&tis[i].task_id).and_then(|t| t.mapped_group()) else {
        return Vec::new();
    };
    let spec = dag.group_mapping(group).cloned().unwrap_or_default();
    let src = RunXcom {
        tis,
        run,
        dag,
        xcom,
    };
    let result = mapping::expand_len(group, &spec, &src);
    let ti = &mut tis[i];
    let n = match result {
        Ok(0) | Err(_) => {
            let (st, error) = match result {
                Err(e) => (state::FAILED, Some(e)),
                _ => (state::SKIPPED, None),
            };
            ti.state = Some(st.into());
            p.changes.push(Change::EndUnrun {
                ti_id: ti.id.clone(),
                state: st,
                error,
            });
            p.events.push(("task_instance", ti_event(ti)));
            return Vec::new();
        }
        Ok(n) => n,
    };
    ti.map_index = 0;
    let (new_ids, added) = fan_out(ti, n, new_id);
    p.changes.push(Change::ExpandPending {
        ti_id: ti.id.clone(),
        new_ids,
    });
    p.events.push((
        "task_instance",
        json!({"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": -1, "state": null, "expanded": n}),
    ));
    added
}

/// The XCom of one run, as the mapping code reads it: a mapped upstream by its number of map
/// indexes (from the run's instances), an unmapped one by its value.
struct RunXcom<'a> {
    tis: &'a [TiRow],
    run: &'a RunRow,
    dag: &'a Dag,
    xcom: &'a XcomLookup<'a>,
}

impl mapping::XcomSource for RunXcom<'_> {
    fn values(&self, task_id: &str, key: &str) -> Result<mapping::Pulled, String> {
        let mapped = self
            .tis
            .iter()
            .filter(|t| t.task_id == task_id && t.map_index >= 0)
            .count();
        if mapped > 0 {
            return Ok(mapping::Pulled::Mapped(mapped));
        }
        (self.xcom)(task_id, key).map(mapping::Pulled::Single)
    }

    fn param(&self, name: &str) -> Option<Value> {
        self.run.conf.get(name).cloned().or_else(|| {
            self.dag
                .params
                .get(name)
                .and_then(|p| p.get("value").cloned())
        })
    }
}

/// A scheduled try ready to go, with its run and DAG.
#[derive(Clone)]
pub struct Ready {
    pub ti: TiRow,
    pub run: RunRow,
    pub dag: Arc<Dag>,
    /// Set when the try started: a rescheduled sensor continuing its try.
    pub resumed: Option<crate::store::sched::Resumed>,
    /// A deferred try that resumes (set when it is dispatched): `{"method", "event"}`.
    pub resume: Option<serde_json::Value>,
}

/// The slots a dispatch fills.
#[derive(Debug, Clone, Default)]
pub struct Slots {
    pub parallelism: i64,
    /// Queued or running tries, in all and per DAG.
    pub active: i64,
    pub active_by_dag: HashMap<String, i64>,
    /// Free slots per pool.
    pub pool_free: HashMap<String, i64>,
}

/// The ready tries that start now, highest priority first (then oldest run), within
/// `parallelism`, each DAG's `max_active_tasks` and their pools' free slots; also the pools
/// named by tries that do not exist (those tries stay scheduled).
pub fn dispatch(mut ready: Vec<Ready>, mut slots: Slots) -> (Vec<Ready>, Vec<(String, String)>) {
    ready.sort_by(|a, b| {
        b.ti.priority_weight
            .cmp(&a.ti.priority_weight)
            .then(a.run.run_after.cmp(&b.run.run_after))
    });
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for r in ready {
        if slots.active >= slots.parallelism {
            break;
        }
        match slots.pool_free.get_mut(&r.ti.pool) {
            None => {
                missing.push((r.ti.task_id.clone(), r.ti.pool.clone()));
                continue;
            }
            Some(free) if *free < r.ti.pool_slots => continue,
            Some(_) => {}
        }
        let in_dag = slots.active_by_dag.entry(r.ti.dag_id.clone()).or_insert(0);
        if *in_dag >= r.dag.max_active_tasks.max(1) as i64 {
            continue;
        }
        *in_dag += 1;
        if let Some(free) = slots.pool_free.get_mut(&r.ti.pool) {
            *free -= r.ti.pool_slots;
        }
        slots.active += 1;
        out.push(r);
    }
    (out, missing)
}

/// The event a task instance's change publishes.
pub fn ti_event(ti: &TiRow) -> Value {
    json!({"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": ti.map_index, "state": ti.state, "try_number": ti.try_number})
}

/// Map indexes 1..n of a placeholder that became index 0: their new ids and rows.
fn fan_out(ti: &TiRow, n: usize, new_id: &mut dyn FnMut() -> String) -> (Vec<String>, Vec<TiRow>) {
    let new_ids: Vec<String> = (1..n).map(|_| new_id()).collect();
    let added = new_ids
        .iter()
        .enumerate()
        .map(|(k, id)| TiRow {
            id: id.clone(),
            map_index: k as i64 + 1,
            ..ti.clone()
        })
        .collect();
    (new_ids, added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sched::BackfillSlots;

    fn dag(json: Value) -> Dag {
        serde_json::from_value(json).unwrap()
    }

    fn chain() -> Dag {
        dag(json!({
            "dag_id": "d", "fileloc": "/d.py",
            "tasks": [
                {"task_id": "a", "operator": "EmptyOperator", "kind": "empty"},
                {"task_id": "b", "operator": "EmptyOperator", "kind": "empty", "upstream": ["a"]},
                {"task_id": "m", "operator": "PythonOperator", "kind": "python", "upstream": ["a"],
                 "mapped": {"expand": {"x": {"__xcomarg__": {"task_id": "a", "key": "return_value"}}}}}
            ]
        }))
    }

    fn run() -> RunRow {
        RunRow {
            dag_id: "d".into(),
            run_id: "r".into(),
            dag_version_id: "v".into(),
            version_number: Some(1),
            version_created_at: None,
            version_bundle_name: None,
            version_bundle_version: None,
            run_type: "manual".into(),
            state: "running".into(),
            logical_date: None,
            run_after: "2026-01-01T00:00:00Z".into(),
            data_interval_start: None,
            data_interval_end: None,
            queued_at: None,
            start_date: Some("2026-01-01T00:00:00Z".into()),
            end_date: None,
            conf: json!({}),
            note: None,
            triggered_by: None,
            triggering_user_name: None,
            last_scheduling_decision: None,
        }
    }

    fn ti(task: &str, st: Option<&str>) -> TiRow {
        TiRow {
            id: format!("id-{task}"),
            dag_id: "d".into(),
            run_id: "r".into(),
            task_id: task.into(),
            map_index: -1,
            try_number: 0,
            max_tries: 0,
            state: st.map(String::from),
            start_date: None,
            end_date: None,
            duration: None,
            queued_dttm: None,
            scheduled_dttm: None,
            next_retry_at: None,
            pid: None,
            operator: None,
            pool: "default_pool".into(),
            pool_slots: 1,
            priority_weight: 1,
            dag_version_id: Some("v".into()),
            rendered_fields: json!({}),
            note: None,
            error: None,
        }
    }

    fn now() -> DateTime<Utc> {
        parse_ts("2026-01-01T00:01:00Z").unwrap()
    }

    fn plan_of(d: &Dag, r: &RunRow, tis: Vec<TiRow>, xcom: Option<Value>) -> RunPlan {
        let mut n = 0;
        let lookup = move |_: &str, _: &str| Ok(xcom.clone());
        evaluate(
            RunInput {
                run: r,
                dag: d,
                tis,
                waits: HashMap::new(),
            },
            now(),
            &lookup,
            &mut || {
                n += 1;
                format!("new-{n}")
            },
        )
    }

    #[test]
    fn roots_are_scheduled_and_their_downstreams_wait() {
        let (d, r) = (chain(), run());
        let p = plan_of(
            &d,
            &r,
            vec![ti("a", None), ti("b", None), ti("m", None)],
            None,
        );
        assert_eq!(
            p.changes,
            vec![Change::Decide {
                ti_id: "id-a".into(),
                state: "scheduled"
            }]
        );
        assert_eq!(p.ready.len(), 1);
        assert!(!p.ended);
    }

    #[test]
    fn a_mapped_task_expands_over_its_upstreams_list() {
        let (d, r) = (chain(), run());
        let tis = vec![ti("a", Some("success")), ti("b", None), ti("m", None)];
        let p = plan_of(&d, &r, tis, Some(json!([10, 20, 30])));
        assert!(p.changes.contains(&Change::Expand {
            ti_id: "id-m".into(),
            new_ids: vec!["new-1".into(), "new-2".into()]
        }));
        let mapped: Vec<i64> = p
            .ready
            .iter()
            .filter(|t| t.task_id == "m")
            .map(|t| t.map_index)
            .collect();
        assert_eq!(mapped, [0, 1, 2]);
        // An empty list skips it, and the run can end.
        let tis = vec![
            ti("a", Some("success")),
            ti("b", Some("success")),
            ti("m", None),
        ];
        let p = plan_of(&d, &r, tis, Some(json!([])));
        assert!(p.changes.contains(&Change::EndUnrun {
            ti_id: "id-m".into(),
            state: "skipped",
            error: None
        }));
        assert_eq!(p.changes.last(), Some(&Change::FinishRun("success")));
    }

    #[test]
    fn a_failed_leaf_fails_the_run_and_a_timeout_skips_and_kills() {
        let (d, r) = (chain(), run());
        let tis = vec![
            ti("a", Some("success")),
            ti("b", Some("failed")),
            ti("m", Some("skipped")),
        ];
        let p = plan_of(&d, &r, tis, None);
        assert_eq!(p.changes, vec![Change::FinishRun("failed")]);
        let mut timed = chain();
        timed.dagrun_timeout = Some(30.0);
        let tis = vec![ti("a", Some("running")), ti("b", None), ti("m", None)];
        let p = plan_of(&timed, &r, tis, None);
        assert_eq!(p.kills, ["id-a"]);
        assert_eq!(p.changes.last(), Some(&Change::FinishRun("failed")));
        assert_eq!(p.changes.len(), 4);
    }

    #[test]
    fn retries_wait_for_their_time() {
        let (d, r) = (chain(), run());
        let mut a = ti("a", Some("up_for_retry"));
        a.next_retry_at = Some("2026-01-01T00:05:00Z".into());
        let p = plan_of(&d, &r, vec![a, ti("b", None), ti("m", None)], None);
        assert!(p.changes.is_empty());
        assert_eq!(p.wake, parse_ts("2026-01-01T00:05:00Z"));
    }

    #[test]
    fn starts_respect_dag_and_backfill_limits() {
        let q = |dag: &str, run: &str, b: Option<BackfillSlots>| QueuedRun {
            dag_id: dag.into(),
            run_id: run.into(),
            version_id: "v".into(),
            backfill: b,
        };
        let b = BackfillSlots {
            id: 7,
            max_active_runs: 2,
            running: 1,
        };
        let queued = vec![
            q("d", "1", None),
            q("d", "2", None),
            q("d", "b1", Some(b)),
            q("d", "b2", Some(b)),
            q("e", "1", None),
        ];
        let running = HashMap::from([("e".to_string(), 1)]);
        let started: Vec<&str> = starts(&queued, &|_| 1, running)
            .iter()
            .map(|q| q.run_id.as_str())
            .collect();
        assert_eq!(started, ["1", "b1"]);
    }

    #[test]
    fn dispatch_fills_parallelism_pools_and_dag_limits_by_priority() {
        let d = Arc::new(chain());
        let r = run();
        let mut hi = ti("a", Some("scheduled"));
        hi.priority_weight = 5;
        let mut pooled = ti("b", Some("scheduled"));
        pooled.pool = "small".into();
        pooled.pool_slots = 2;
        let mut ghost = ti("m", Some("scheduled"));
        ghost.pool = "nope".into();
        let ready: Vec<Ready> = [ti("x", Some("scheduled")), hi, pooled, ghost]
            .into_iter()
            .map(|ti| Ready {
                ti,
                run: r.clone(),
                dag: d.clone(),
                resumed: None,
                resume: None,
            })
            .collect();
        let slots = Slots {
            parallelism: 10,
            active: 0,
            active_by_dag: HashMap::new(),
            pool_free: HashMap::from([("default_pool".into(), 128), ("small".into(), 1)]),
        };
        let (go, missing) = dispatch(ready, slots);
        let ids: Vec<&str> = go.iter().map(|r| r.ti.task_id.as_str()).collect();
        assert_eq!(ids, ["a", "x"]);
        assert_eq!(missing, [("m".to_string(), "nope".to_string())]);
    }
}
