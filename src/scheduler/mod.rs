//! The scheduler: moves runs and task instances through Airflow 3's states.
//!
//! Event-driven: it wakes when a run is triggered, a task finishes (executor completion
//! channel), or the next retry is due — never on a fixed polling tick. Each pass is one SQLite
//! transaction (queued runs start within `max_active_runs`; task instances whose trigger rule
//! is met are scheduled, others skipped or upstream_failed; scheduled ones are dispatched up to
//! `parallelism` and `max_active_tasks`; finished runs get their final state), so a crash at
//! any point leaves a consistent database. On start, tries left running by a dead process are
//! failed and retried per policy.
//!
//! **Invariant:** the scheduler decides; executors run. `rules` is pure.

pub mod mapping;
pub mod rules;
pub mod timetable;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use crate::dag::Dag;
use crate::events::EventBus;
use crate::executor::template::Context;
use crate::executor::{Executor, ExecutorEvent, Outcome, TaskOutcome, TaskRequest};
use crate::health::{Component, Heartbeats};
use crate::store::runs::{self, RunRow, TiRow};
use crate::store::{Store, StoreError, now, sql};
use rules::{Upstream, Verdict, state};

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// How often the scheduler checks whether another process wrote to the database.
const EXTERNAL_WRITE_CHECK: Duration = Duration::from_millis(250);

/// How long after a DAG change the scheduler looks at schedules (changes arrive in bursts).
const DAG_CHANGE_DEBOUNCE: Duration = Duration::from_millis(50);

/// Settings the scheduler needs.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub parallelism: u32,
    pub logs_dir: PathBuf,
    pub dags_folder: PathBuf,
    /// Size cap of one try's log (0: none).
    pub log_max_bytes: u64,
}

/// The scheduler; share by `Arc`.
pub struct Scheduler {
    store: Store,
    events: EventBus,
    health: Arc<Heartbeats>,
    executor: Arc<dyn Executor>,
    /// Read to expand mapped tasks over their upstreams' XCom.
    xcom: crate::xcom::XcomStore,
    config: SchedulerConfig,
    wake: Notify,
    /// Parsed models by version id, with the content hash they were parsed from.
    specs: Mutex<HashMap<String, (String, Arc<Dag>)>>,
}

/// A task instance try to hand to the executor once the transaction commits.
struct Dispatch {
    ti: TiRow,
    run: RunRow,
    dag: Arc<Dag>,
}

/// What a scheduling pass decided, acted on once its transaction commits.
struct Pass {
    dispatch: Vec<Dispatch>,
    events: Vec<(&'static str, Value)>,
    /// Task instances whose processes must die (their run timed out).
    kills: Vec<String>,
    /// How long until the next retry, schedule tick or run deadline.
    wait: Option<Duration>,
}

/// Builds the default engine (a subprocess executor feeding a scheduler) and starts the
/// scheduler loop; the server and `leoflow dags test` both use it.
pub fn start_engine(
    store: Store,
    events: EventBus,
    health: Arc<Heartbeats>,
    xcom: crate::xcom::XcomStore,
    python: crate::executor::python::PyRuntime,
    config: SchedulerConfig,
) -> (Arc<Scheduler>, tokio::task::JoinHandle<()>) {
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let subprocess = crate::executor::subprocess::SubprocessExecutor::new(
        xcom.clone(),
        events.clone(),
        done_tx,
        python,
    );
    subprocess.warm_up();
    let executor: Arc<dyn Executor> = Arc::new(subprocess);
    let scheduler = Arc::new(Scheduler::new(
        store, events, health, executor, xcom, config,
    ));
    let task = tokio::spawn(scheduler.clone().run(done_rx));
    (scheduler, task)
}

impl Scheduler {
    pub fn new(
        store: Store,
        events: EventBus,
        health: Arc<Heartbeats>,
        executor: Arc<dyn Executor>,
        xcom: crate::xcom::XcomStore,
        config: SchedulerConfig,
    ) -> Scheduler {
        Scheduler {
            store,
            events,
            health,
            executor,
            xcom,
            config,
            wake: Notify::new(),
            specs: Mutex::default(),
        }
    }

    /// Asks for a scheduling pass now (a run was triggered, cleared, a DAG changed...).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Kills a running try (cleared or marked by hand); its outcome is ignored because its
    /// try number no longer matches.
    pub fn kill(&self, ti_id: &str) {
        self.executor.kill(ti_id);
    }

    /// Kills every running try's process group (server shutdown). Their task instances stay
    /// `running` in the database; the next start fails them and retries per policy.
    pub fn kill_all(&self) {
        self.executor.kill_all();
    }

    /// Runs until `done` closes.
    pub async fn run(self: Arc<Self>, mut done: mpsc::UnboundedReceiver<ExecutorEvent>) {
        if let Err(e) = self.recover().await {
            tracing::error!(error = %e, "recovering task instances after a restart failed");
        }
        // A DAG that appears, changes or is unpaused may have a schedule to act on.
        let mut bus = self.events.subscribe();
        // Another process writing the database (`leoflow dags trigger`) calls for a pass too.
        let mut outside = tokio::time::interval(EXTERNAL_WRITE_CHECK);
        outside.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen = self.store.data_version().ok();
        loop {
            self.health.beat(Component::Scheduler);
            let wait = match self.pass().await {
                Ok(w) => w,
                Err(e) => {
                    tracing::error!(error = %e, "scheduling pass failed");
                    Some(Duration::from_secs(1))
                }
            };
            // Sleep until an event, the next retry, or a heartbeat.
            let wait = wait
                .unwrap_or(Duration::from_secs(5))
                .min(Duration::from_secs(5));
            let mut deadline = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    o = done.recv() => match o {
                        Some(o) => {
                            self.on_executor_event(o).await;
                            while let Ok(o) = done.try_recv() {
                                self.on_executor_event(o).await;
                            }
                            break;
                        }
                        None => return,
                    },
                    _ = self.wake.notified() => break,
                    _ = outside.tick() => {
                        let store = self.store.clone();
                        let v = tokio::task::spawn_blocking(move || store.data_version().ok())
                            .await
                            .ok()
                            .flatten();
                        if v != seen {
                            seen = v;
                            // Cached API answers are stale too.
                            self.store.bump_generation();
                            break;
                        }
                    }
                    ev = bus.recv() => match ev {
                        // Its own task and run events do not call for another pass.
                        Ok(e) if e.kind != "dag_updated" => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                        // A burst of DAG changes (an initial scan) makes one pass, shortly after.
                        _ => {
                            deadline = deadline.min(tokio::time::Instant::now() + DAG_CHANGE_DEBOUNCE);
                            continue;
                        }
                    },
                    _ = tokio::time::sleep_until(deadline) => break,
                }
            }
        }
    }

    fn spec(&self, tx: &Transaction<'_>, version_id: &str) -> Result<Arc<Dag>, StoreError> {
        // A version without runs is rewritten in place, so the cache is keyed by content too.
        let (hash, spec): (String, Option<String>) = {
            let hash: String = tx
                .query_row(
                    "SELECT spec_hash FROM dag_version WHERE id = ?1",
                    [version_id],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            let cached = self
                .specs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(version_id)
                .cloned();
            match cached {
                Some((h, d)) if h == hash => return Ok(d),
                _ => (hash, None),
            }
        };
        let spec = match spec {
            Some(s) => s,
            None => tx
                .query_row(
                    "SELECT spec FROM dag_version WHERE id = ?1",
                    [version_id],
                    |r| r.get(0),
                )
                .map_err(sql)?,
        };
        let dag: Dag = serde_json::from_str(&spec)
            .map_err(|e| sql(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let dag = Arc::new(dag);
        self.specs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(version_id.to_string(), (hash, dag.clone()));
        Ok(dag)
    }

    /// Tries that were queued or running when the previous process died: their process groups
    /// are killed and the try fails (and is retried per policy).
    async fn recover(&self) -> Result<(), StoreError> {
        let orphans = self
            .store
            .read(|c| runs::tis_where(c, "state IN ('queued', 'running')", &[]))
            .await?;
        for ti in orphans {
            if let Some(pid) = ti.pid.filter(|p| *p > 0) {
                crate::executor::process::kill_group(pid).unwrap_or_else(|e| {
                    tracing::warn!(
                        pid,
                        "not killing the process group of a try the previous server ran: {e}"
                    )
                });
            }
            tracing::warn!(
                dag_id = ti.dag_id,
                run_id = ti.run_id,
                task_id = ti.task_id,
                "task was running when the server stopped; failing this try"
            );
            self.finish(TaskOutcome {
                ti_id: ti.id.clone(),
                try_number: ti.try_number,
                outcome: Outcome::Failed {
                    error: "the server stopped while this task was running".into(),
                    retryable: true,
                },
                rendered: Default::default(),
                skip: Vec::new(),
                trigger: None,
            })
            .await?;
        }
        Ok(())
    }

    /// One scheduling pass; returns how long until the next retry is due, if any.
    async fn pass(self: &Arc<Self>) -> Result<Option<Duration>, StoreError> {
        let this = self.clone();
        let pass = self.store.write(move |tx| this.schedule(tx)).await?;
        for (kind, data) in pass.events {
            self.events.publish(kind, data);
        }
        for ti_id in pass.kills {
            self.executor.kill(&ti_id);
        }
        for d in pass.dispatch {
            self.start(d);
        }
        Ok(pass.wait)
    }

    fn schedule(&self, tx: &Transaction<'_>) -> Result<Pass, StoreError> {
        let now_s = now();
        let now_t = Utc::now();
        let mut events = Vec::new();
        // 0. Create the scheduled runs whose time has come (unpaused DAGs with a clock).
        let next_tick = self.create_scheduled_runs(tx, now_t, &mut events)?;
        // 1. Start queued runs within max_active_runs, oldest first; as in Airflow 3, runs of a
        //    paused (or stale) DAG wait, whatever their type.
        let queued: Vec<(String, String, String)> = {
            let mut st = tx
                .prepare(&format!(
                    "SELECT dag_id, run_id, dag_version_id FROM dag_run WHERE state = 'queued' AND {}
                         AND EXISTS (SELECT 1 FROM dag d WHERE d.dag_id = dag_run.dag_id AND d.is_paused = 0 AND d.is_stale = 0)
                     ORDER BY run_after, id",
                    crate::store::backfills::RUNNABLE
                ))
                .map_err(sql)?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?
        };
        for (dag_id, run_id, version) in queued {
            let dag = self.spec(tx, &version)?;
            // A backfill's runs follow the backfill's max_active_runs; other runs the DAG's,
            // backfill runs not counted (Airflow 3).
            let may_start = match crate::store::backfills::may_start(tx, &dag_id, &run_id)? {
                Some(ok) => ok,
                None => {
                    let active: i64 = tx
                        .query_row(
                            "SELECT COUNT(*) FROM dag_run WHERE dag_id = ?1 AND state = 'running' AND backfill_id IS NULL",
                            [&dag_id],
                            |r| r.get(0),
                        )
                        .map_err(sql)?;
                    active < dag.max_active_runs.max(1) as i64
                }
            };
            if may_start {
                tx.execute("UPDATE dag_run SET state = 'running', start_date = ?3 WHERE dag_id = ?1 AND run_id = ?2", params![dag_id, run_id, now_s]).map_err(sql)?;
                events.push((
                    "dag_run",
                    json!({"dag_id": dag_id, "run_id": run_id, "state": "running"}),
                ));
            }
        }
        // 2. Evaluate trigger rules in running runs.
        let running: Vec<RunRow> = runs::list(
            tx,
            &runs::RunFilter {
                states: vec!["running".into()],
                limit: i64::MAX,
                ..Default::default()
            },
        )?
        .0;
        let mut next_retry: Option<DateTime<Utc>> = None;
        let mut kills: Vec<String> = Vec::new();
        let mut run_ended = false;
        let mut ready: Vec<(TiRow, RunRow, Arc<Dag>)> = Vec::new();
        let paused: std::collections::HashSet<String> = {
            let mut st = tx
                .prepare_cached("SELECT dag_id FROM dag WHERE is_paused = 1")
                .map_err(sql)?;
            st.query_map([], |r| r.get(0))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?
        };
        for run in &running {
            // A paused DAG's running runs are not examined (Airflow 3): nothing new is
            // scheduled until it is unpaused; tries already running finish.
            if paused.contains(&run.dag_id) {
                continue;
            }
            let dag = self.spec(tx, &run.dag_version_id)?;
            let mut tis = runs::tis_of_run(tx, &run.dag_id, &run.run_id)?;
            if let (Some(limit), Some(started)) = (
                dag.dagrun_timeout.filter(|t| *t > 0.0),
                run.start_date.as_deref().and_then(parse_ts),
            ) {
                let deadline = started + chrono::Duration::microseconds((limit * 1e6) as i64);
                if deadline <= now_t {
                    self.time_out(tx, run, &tis, &now_s, &mut events, &mut kills)?;
                    continue;
                }
                next_retry = Some(next_retry.map_or(deadline, |n| n.min(deadline)));
            }
            for ti in tis
                .iter_mut()
                .filter(|t| t.state.as_deref() == Some(state::DEFERRED))
            {
                if let Some(done) = waited_run_ended(tx, &ti.id, &now_s)? {
                    ti.state = Some(done.to_string());
                    events.push(("task_instance", ti_event(ti)));
                }
            }
            let mut changed = true;
            while changed {
                changed = false;
                // Every map index of a mapped upstream counts, as in Airflow.
                let mut states: HashMap<String, Vec<Option<String>>> = HashMap::new();
                for t in &tis {
                    states
                        .entry(t.task_id.clone())
                        .or_default()
                        .push(t.state.clone());
                }
                let mut expand = Vec::new();
                for ti in tis.iter_mut() {
                    let verdict = match ti.state.as_deref() {
                        None => {
                            let Some(task) = dag.task(&ti.task_id) else {
                                continue;
                            };
                            let up = Upstream::tally(task.upstream.iter().flat_map(|u| {
                                states.get(u).into_iter().flatten().map(|s| s.as_deref())
                            }));
                            let v = rules::evaluate(&task.trigger_rule, &up);
                            if v == Verdict::Run && ti.map_index == -1 && task.mapped.is_some() {
                                expand.push(ti.id.clone());
                                continue;
                            }
                            v
                        }
                        Some(state::UP_FOR_RETRY) => {
                            match ti.next_retry_at.as_deref().and_then(parse_ts) {
                                Some(t) if t > now_t => {
                                    next_retry = Some(next_retry.map_or(t, |n| n.min(t)));
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
                    let finished = new != state::SCHEDULED;
                    tx.execute(
                        "UPDATE task_instance SET state = ?2, scheduled_dttm = CASE WHEN ?2 = 'scheduled' THEN ?3 ELSE scheduled_dttm END,
                             end_date = CASE WHEN ?4 THEN ?3 ELSE end_date END, start_date = CASE WHEN ?4 THEN COALESCE(start_date, ?3) ELSE start_date END
                         WHERE id = ?1",
                        params![ti.id, new, now_s, finished],
                    ).map_err(sql)?;
                    ti.state = Some(new.to_string());
                    events.push(("task_instance", ti_event(ti)));
                    changed = true;
                }
                if !expand.is_empty() {
                    for ti_id in expand {
                        self.expand(tx, run, &dag, &ti_id, &now_s, &mut events)?;
                    }
                    tis = runs::tis_of_run(tx, &run.dag_id, &run.run_id)?;
                    changed = true;
                }
            }
            for ti in tis
                .iter()
                .filter(|t| t.state.as_deref() == Some(state::SCHEDULED))
            {
                ready.push((ti.clone(), run.clone(), dag.clone()));
            }
            // 4. Finish the run when every task instance is done.
            if tis.iter().all(|t| state::is_finished(t.state.as_deref())) {
                let down = dag.downstream();
                let leaves: Vec<&TiRow> = tis
                    .iter()
                    .filter(|t| down.get(t.task_id.as_str()).is_none_or(|d| d.is_empty()))
                    .collect();
                let failed = tis.iter().any(|t| {
                    t.state.as_deref() == Some(state::FAILED) && leaves.iter().any(|l| l.id == t.id)
                }) || leaves
                    .iter()
                    .any(|t| t.state.as_deref() == Some(state::UPSTREAM_FAILED));
                let final_state = if failed { "failed" } else { "success" };
                run_ended = true;
                tx.execute("UPDATE dag_run SET state = ?3, end_date = ?4, last_scheduling_decision = ?4 WHERE dag_id = ?1 AND run_id = ?2", params![run.dag_id, run.run_id, final_state, now_s]).map_err(sql)?;
                events.push((
                    "dag_run",
                    json!({"dag_id": run.dag_id, "run_id": run.run_id, "state": final_state}),
                ));
            }
        }
        // 3. Dispatch within parallelism and max_active_tasks, highest priority first.
        let mut active: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM task_instance WHERE state IN ('queued', 'running')",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        ready.sort_by(|a, b| {
            b.0.priority_weight
                .cmp(&a.0.priority_weight)
                .then(a.1.run_after.cmp(&b.1.run_after))
        });
        let mut per_dag: HashMap<String, i64> = HashMap::new();
        // Free slots per pool: its size minus the slots of queued and running tries.
        let mut pool_free: HashMap<String, i64> = {
            let mut st = tx
                .prepare(
                    "SELECT p.pool, p.slots - COALESCE((SELECT SUM(t.pool_slots) FROM task_instance t
                         WHERE t.pool = p.pool AND t.state IN ('queued', 'running')), 0) FROM slot_pool p",
                )
                .map_err(sql)?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?
        };
        let mut dispatch = Vec::new();
        for (mut ti, run, dag) in ready {
            if active >= self.config.parallelism as i64 {
                break;
            }
            match pool_free.get_mut(&ti.pool) {
                None => {
                    tracing::warn!(
                        task_id = ti.task_id,
                        pool = ti.pool,
                        "task uses a pool that does not exist; it stays scheduled until the pool is created"
                    );
                    continue;
                }
                Some(free) if *free < ti.pool_slots => continue,
                Some(free) => *free -= ti.pool_slots,
            }
            let running_in_dag = match per_dag.get(&ti.dag_id) {
                Some(n) => *n,
                None => tx.query_row("SELECT COUNT(*) FROM task_instance WHERE dag_id = ?1 AND state IN ('queued', 'running')", [&ti.dag_id], |r| r.get(0)).map_err(sql)?,
            };
            if running_in_dag >= dag.max_active_tasks.max(1) as i64 {
                continue;
            }
            per_dag.insert(ti.dag_id.clone(), running_in_dag + 1);
            active += 1;
            ti.try_number += 1;
            tx.execute(
                "UPDATE task_instance SET state = 'running', try_number = ?2, queued_dttm = ?3, start_date = ?3, end_date = NULL, duration = NULL, next_retry_at = NULL, error = NULL, hostname = ?4 WHERE id = ?1",
                params![ti.id, ti.try_number, now_s, hostname()],
            ).map_err(sql)?;
            ti.state = Some(state::RUNNING.into());
            events.push(("task_instance", ti_event(&ti)));
            dispatch.push(Dispatch { ti, run, dag });
        }
        let next = match (next_retry, next_tick) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let wait = next.map(|t| (t - Utc::now()).to_std().unwrap_or_default());
        // A run that ended may be what a deferred TriggerDagRunOperator waits for.
        let wait = if run_ended {
            Some(Duration::ZERO)
        } else {
            wait
        };
        Ok(Pass {
            dispatch,
            events,
            kills,
            wait,
        })
    }

    /// `dagrun_timeout` passed: as Airflow, the run fails and its unfinished task instances
    /// are skipped; the running ones are killed once the transaction commits.
    fn time_out(
        &self,
        tx: &Transaction<'_>,
        run: &RunRow,
        tis: &[TiRow],
        now_s: &str,
        events: &mut Vec<(&'static str, Value)>,
        kills: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        for ti in tis
            .iter()
            .filter(|t| !state::is_finished(t.state.as_deref()))
        {
            if matches!(ti.state.as_deref(), Some(state::RUNNING | state::QUEUED)) {
                kills.push(ti.id.clone());
            }
            tx.execute(
                "UPDATE task_instance SET state = 'skipped', end_date = ?2, error = 'dagrun_timeout: the run timed out' WHERE id = ?1",
                params![ti.id, now_s],
            )
            .map_err(sql)?;
            let mut t = ti.clone();
            t.state = Some(state::SKIPPED.into());
            events.push(("task_instance", ti_event(&t)));
        }
        tx.execute(
            "UPDATE dag_run SET state = 'failed', end_date = ?3, last_scheduling_decision = ?3 WHERE dag_id = ?1 AND run_id = ?2",
            params![run.dag_id, run.run_id, now_s],
        )
        .map_err(sql)?;
        tracing::warn!(
            dag_id = run.dag_id,
            run_id = run.run_id,
            "run timed out (dagrun_timeout); unfinished tasks skipped"
        );
        events.push((
            "dag_run",
            json!({"dag_id": run.dag_id, "run_id": run.run_id, "state": "failed"}),
        ));
        Ok(())
    }

    /// Expands the placeholder (`map_index` -1) of a mapped task whose upstreams are done into
    /// map indexes 0..n, all scheduled; zero items skip it, an unmappable input fails it.
    fn expand(
        &self,
        tx: &Transaction<'_>,
        run: &RunRow,
        dag: &Dag,
        ti_id: &str,
        now_s: &str,
        events: &mut Vec<(&'static str, Value)>,
    ) -> Result<(), StoreError> {
        let Some(ti) = runs::tis_where(tx, "id = ?1", &[&ti_id])?
            .into_iter()
            .next()
        else {
            return Ok(());
        };
        let Some(task) = dag.task(&ti.task_id) else {
            return Ok(());
        };
        let src = RunXcom {
            xcom: &self.xcom,
            tx,
            run,
            dag,
        };
        let mapped = task.mapped.clone().unwrap_or_default();
        let (state, error, n) = match mapping::expand_len(&ti.task_id, &mapped, &src) {
            Ok(0) => (state::SKIPPED, None, 0),
            Ok(n) => (state::SCHEDULED, None, n),
            Err(e) => (state::FAILED, Some(e), 0),
        };
        if n == 0 {
            tx.execute(
                "UPDATE task_instance SET state = ?2, error = ?3, start_date = ?4, end_date = ?4 WHERE id = ?1",
                params![ti.id, state, error, now_s],
            )
            .map_err(sql)?;
            let mut done = ti.clone();
            done.state = Some(state.into());
            events.push(("task_instance", ti_event(&done)));
            return Ok(());
        }
        tx.execute(
            "UPDATE task_instance SET map_index = 0, state = 'scheduled', scheduled_dttm = ?2 WHERE id = ?1",
            params![ti.id, now_s],
        )
        .map_err(sql)?;
        for i in 1..n as i64 {
            tx.execute(
                "INSERT INTO task_instance(id, dag_id, run_id, task_id, map_index, max_tries, operator, pool, pool_slots, priority_weight, dag_version_id, state, scheduled_dttm)
                 SELECT ?2, dag_id, run_id, task_id, ?3, max_tries, operator, pool, pool_slots, priority_weight, dag_version_id, 'scheduled', ?4 FROM task_instance WHERE id = ?1",
                params![ti.id, uuid::Uuid::new_v4().to_string(), i, now_s],
            )
            .map_err(sql)?;
        }
        events.push((
            "task_instance",
            json!({"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": -1, "state": "scheduled", "expanded": n}),
        ));
        Ok(())
    }

    /// Creates `scheduled__<tick>` runs for every due tick of unpaused DAGs, records each
    /// DAG's next run, and returns the earliest next tick.
    fn create_scheduled_runs(
        &self,
        tx: &Transaction<'_>,
        now_t: DateTime<Utc>,
        events: &mut Vec<(&'static str, Value)>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let dags: Vec<(String, String)> = {
            let mut st = tx
                .prepare("SELECT dag_id, latest_version_id FROM dag WHERE is_stale = 0 AND latest_version_id IS NOT NULL AND timetable_summary IS NOT NULL")
                .map_err(sql)?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?
        };
        let mut earliest: Option<DateTime<Utc>> = None;
        for (dag_id, version) in dags {
            let dag = self.spec(tx, &version)?;
            let paused: bool = tx
                .query_row(
                    "SELECT is_paused FROM dag WHERE dag_id = ?1",
                    [&dag_id],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(sql)?
                != 0;
            let last: Option<DateTime<Utc>> = tx
                .query_row("SELECT MAX(logical_date) FROM dag_run WHERE dag_id = ?1 AND run_type = 'scheduled'", [&dag_id], |r| r.get::<_, Option<String>>(0))
                .map_err(sql)?
                .as_deref()
                .and_then(parse_ts);
            let mut newest = last;
            if !paused {
                for tick in timetable::due(&dag, last, now_t, 1000) {
                    let iso = tick.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                    let new = runs::NewRun {
                        dag_id: dag_id.clone(),
                        run_id: format!(
                            "scheduled__{}",
                            tick.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
                        ),
                        run_type: "scheduled".into(),
                        logical_date: Some(iso.clone()),
                        run_after: iso.clone(),
                        data_interval_start: Some(iso.clone()),
                        data_interval_end: Some(iso),
                        conf: json!({}),
                        note: None,
                        triggered_by: "timetable".into(),
                        triggering_user_name: None,
                    };
                    match runs::create(tx, &new) {
                        Ok(run) => events.push((
                            "dag_run",
                            json!({"dag_id": run.dag_id, "run_id": run.run_id, "state": run.state}),
                        )),
                        Err(runs::CreateRunError::Duplicate { .. }) => {}
                        Err(runs::CreateRunError::NoDag(_)) => break,
                        Err(runs::CreateRunError::Store(e)) => return Err(e),
                    }
                    newest = Some(tick);
                }
            }
            let next = timetable::next_tick(&dag, newest);
            let fmt = next.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
            tx.execute(
                "UPDATE dag SET next_dagrun_logical_date = ?2, next_dagrun_data_interval_start = ?2, next_dagrun_data_interval_end = ?2, next_dagrun_run_after = ?2 WHERE dag_id = ?1",
                params![dag_id, fmt],
            )
            .map_err(sql)?;
            if !paused && let Some(n) = next {
                earliest = Some(earliest.map_or(n, |e| e.min(n)));
            }
        }
        Ok(earliest)
    }

    fn start(&self, d: Dispatch) {
        let Some(task) = d.dag.task(&d.ti.task_id).cloned() else {
            return;
        };
        let date = d
            .run
            .logical_date
            .as_deref()
            .and_then(parse_ts)
            .or_else(|| parse_ts(&d.run.run_after))
            .unwrap_or_else(Utc::now);
        let mut params = serde_json::Map::new();
        for (k, p) in &d.dag.params {
            params.insert(k.clone(), p.get("value").cloned().unwrap_or(Value::Null));
        }
        if let Value::Object(conf) = &d.run.conf {
            for (k, v) in conf {
                params.insert(k.clone(), v.clone());
            }
        }
        let (variables, connections) = crate::secrets::for_tasks(&self.store);
        let context = Context {
            dag_id: d.ti.dag_id.clone(),
            run_id: d.ti.run_id.clone(),
            task_id: d.ti.task_id.clone(),
            map_index: d.ti.map_index,
            try_number: d.ti.try_number,
            date,
            data_interval_start: d.run.data_interval_start.clone(),
            data_interval_end: d.run.data_interval_end.clone(),
            params: Value::Object(params),
            conf: d.run.conf.clone(),
            variables,
            connections,
        };
        let mut log_path = self
            .config
            .logs_dir
            .join(format!("dag_id={}", d.ti.dag_id))
            .join(format!("run_id={}", d.ti.run_id))
            .join(format!("task_id={}", d.ti.task_id));
        if d.ti.map_index >= 0 {
            log_path = log_path.join(format!("map_index={}", d.ti.map_index));
        }
        let log_path = log_path.join(format!("attempt={}.log", d.ti.try_number));
        // A new try starts without the XCom of earlier ones, as in Airflow.
        if let Err(e) = self.xcom.delete_task(
            &d.ti.dag_id,
            &d.ti.run_id,
            &d.ti.task_id,
            Some(d.ti.map_index),
        ) {
            tracing::warn!(error = %e, task_id = d.ti.task_id, "could not clear the XCom of earlier tries");
        }
        self.executor.start(TaskRequest {
            ti_id: d.ti.id.clone(),
            try_number: d.ti.try_number,
            max_tries: d.ti.max_tries,
            log_max_bytes: self.config.log_max_bytes,
            timeout: task
                .execution_timeout
                .filter(|s| *s > 0.0)
                .map(Duration::from_secs_f64),
            task: Arc::new(task),
            context,
            log_path,
            dag_file: PathBuf::from(&d.dag.fileloc),
            dags_folder: self.config.dags_folder.clone(),
        });
    }

    async fn on_executor_event(&self, e: ExecutorEvent) {
        let r = match e {
            ExecutorEvent::Finished(o) => self.finish(o).await,
            ExecutorEvent::Started {
                ti_id,
                try_number,
                pid,
            } => {
                self.store
                    .write(move |tx| {
                        tx.execute(
                            "UPDATE task_instance SET pid = ?3 WHERE id = ?1 AND try_number = ?2",
                            params![ti_id, try_number, pid],
                        )
                        .map_err(sql)?;
                        Ok(())
                    })
                    .await
            }
        };
        if let Err(e) = r {
            tracing::error!(error = %e, "recording an executor event failed");
        }
    }

    /// Records how a try ended: success, skipped, up_for_retry (with its retry time) or failed.
    pub async fn finish(&self, o: TaskOutcome) -> Result<(), StoreError> {
        let (event, woke) = self
            .store
            .write(move |tx| {
                let Some(ti) = runs::tis_where(tx, "id = ?1", &[&o.ti_id])?.into_iter().next() else {
                    return Ok((None, false));
                };
                // A try cleared or marked by hand while it ran: its late outcome is dropped.
                if ti.try_number != o.try_number || ti.state.as_deref() != Some(state::RUNNING) {
                    return Ok((None, false));
                }
                let now_t = Utc::now();
                let start = ti.start_date.as_deref().and_then(parse_ts).unwrap_or(now_t);
                let duration = (now_t - start).num_microseconds().unwrap_or(0) as f64 / 1e6;
                let mut outcome = o.outcome.clone();
                let mut triggered = None;
                if outcome == Outcome::Success
                    && let Some(t) = &o.trigger
                {
                    match trigger_run(tx, t) {
                        Ok(Some(run)) => triggered = Some(run),
                        Ok(None) => outcome = Outcome::Skipped,
                        Err(e) => outcome = Outcome::Failed { error: e, retryable: true },
                    }
                }
                if outcome == Outcome::Success
                    && let Some(t) = o.trigger.as_ref().filter(|t| t["wait_for_completion"] == true)
                    && let Some(run) = &triggered
                {
                    // Airflow's wait_for_completion: the task waits, deferred, until that run ends.
                    let wait = json!({
                        "dag_id": run["dag_id"], "run_id": run["run_id"],
                        "allowed_states": non_empty(&t["allowed_states"], "success"),
                        "failed_states": non_empty(&t["failed_states"], "failed"),
                    });
                    tx.execute(
                        "UPDATE task_instance SET state = 'deferred', trigger_wait = ?2, rendered_fields = ?3 WHERE id = ?1",
                        params![ti.id, wait.to_string(), serde_json::to_string(&o.rendered).unwrap_or_else(|_| "{}".into())],
                    )
                    .map_err(sql)?;
                    let mut ti = ti;
                    ti.state = Some(state::DEFERRED.to_string());
                    return Ok((Some((ti_event(&ti), triggered)), true));
                }
                let (new_state, error, retry_at) = match &outcome {
                    Outcome::Success => (state::SUCCESS, None, None),
                    Outcome::Skipped => (state::SKIPPED, None, None),
                    Outcome::Failed { error, retryable } => {
                        if *retryable && ti.try_number <= ti.max_tries {
                            let spec: Option<(f64, bool, Option<f64>)> = tx
                                .query_row("SELECT spec FROM dag_version WHERE id = ?1", [ti.dag_version_id.clone().unwrap_or_default()], |r| r.get::<_, String>(0))
                                .optional()
                                .map_err(sql)?
                                .and_then(|s| serde_json::from_str::<Dag>(&s).ok())
                                .and_then(|d| d.task(&ti.task_id).map(|t| (t.retry_delay, t.retry_exponential_backoff, t.max_retry_delay)));
                            let delay = spec.map(|(d, exp, max)| retry_delay(d, exp, max, ti.try_number)).unwrap_or(300.0);
                            let at = now_t + chrono::Duration::microseconds((delay * 1e6) as i64);
                            (state::UP_FOR_RETRY, Some(error.clone()), Some(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)))
                        } else {
                            (state::FAILED, Some(error.clone()), None)
                        }
                    }
                };
                let now_s = now();
                tx.execute(
                    "UPDATE task_instance SET state = ?2, end_date = ?3, duration = ?4, error = ?5, next_retry_at = ?6, rendered_fields = ?7 WHERE id = ?1",
                    params![ti.id, new_state, now_s, duration, error, retry_at, serde_json::to_string(&o.rendered).unwrap_or_else(|_| "{}".into())],
                ).map_err(sql)?;
                tx.execute(
                    "INSERT OR REPLACE INTO task_instance_history(ti_id, try_number, state, start_date, end_date, duration, pid, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![ti.id, ti.try_number, new_state, ti.start_date, now_s, duration, ti.pid, error],
                ).map_err(sql)?;
                if new_state == state::SUCCESS {
                    let now_s = now();
                    for t in &o.skip {
                        tx.execute(
                            "UPDATE task_instance SET state = 'skipped', start_date = ?4, end_date = ?4 WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND state IS NULL",
                            params![ti.dag_id, ti.run_id, t, now_s],
                        )
                        .map_err(sql)?;
                    }
                }
                let mut ti = ti;
                ti.state = Some(new_state.to_string());
                Ok((Some((ti_event(&ti), triggered)), true))
            })
            .await?;
        if let Some((e, triggered)) = event {
            self.events.publish("task_instance", e);
            if let Some(run) = triggered {
                self.events.publish("dag_run", run);
            }
        }
        if woke {
            self.wake();
        }
        Ok(())
    }
}

/// `value` as a list of states, or `[default]` when absent or empty.
fn non_empty(value: &Value, default: &str) -> Value {
    match value {
        Value::Array(a) if !a.is_empty() => value.clone(),
        _ => json!([default]),
    }
}

/// Ends a deferred `wait_for_completion` task instance whose triggered run reached one of its
/// allowed (success) or failed states; the state it took, if it ended.
fn waited_run_ended(
    tx: &Transaction<'_>,
    ti_id: &str,
    now_s: &str,
) -> Result<Option<&'static str>, StoreError> {
    let wait: Option<String> = tx
        .query_row(
            "SELECT trigger_wait FROM task_instance WHERE id = ?1",
            [ti_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let Some(wait) = wait.and_then(|w| serde_json::from_str::<Value>(&w).ok()) else {
        return Ok(None);
    };
    let run_state: Option<String> = tx
        .query_row(
            "SELECT state FROM dag_run WHERE dag_id = ?1 AND run_id = ?2",
            params![wait["dag_id"].as_str(), wait["run_id"].as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let listed = |key: &str, st: &str| {
        wait[key]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s == st))
    };
    let (new_state, error) = match run_state.as_deref() {
        Some(st) if listed("allowed_states", st) => (state::SUCCESS, None),
        Some(st) if listed("failed_states", st) => (
            state::FAILED,
            Some(format!(
                "{} finished with failed state {st}",
                wait["dag_id"].as_str().unwrap_or_default()
            )),
        ),
        None => (
            state::FAILED,
            Some(format!(
                "the run {} of {} it waited for was deleted",
                wait["run_id"].as_str().unwrap_or_default(),
                wait["dag_id"].as_str().unwrap_or_default()
            )),
        ),
        Some(_) => return Ok(None),
    };
    tx.execute(
        "UPDATE task_instance SET state = ?2, error = ?3, end_date = ?4, trigger_wait = NULL,
             duration = (julianday(?4) - julianday(start_date)) * 86400.0 WHERE id = ?1",
        params![ti_id, new_state, error, now_s],
    )
    .map_err(sql)?;
    Ok(Some(new_state))
}

/// Creates the run a `TriggerDagRunOperator` asked for: `Some(event)` when created,
/// `None` when it exists and `skip_when_already_exists` (the task is skipped), else an error
/// that fails the task as Airflow's `DagRunAlreadyExists` / `DagNotFound` do.
fn trigger_run(tx: &Transaction<'_>, t: &Value) -> Result<Option<Value>, String> {
    let dag_id = t["dag_id"].as_str().unwrap_or_default().to_string();
    let now = Utc::now();
    let logical = t["logical_date"].as_str().and_then(parse_ts);
    let fmt = |d: DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let run_id = t["run_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(String::from)
        .unwrap_or_else(|| {
            format!(
                "manual__{}",
                logical
                    .unwrap_or(now)
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
            )
        });
    let new = runs::NewRun {
        dag_id: dag_id.clone(),
        run_id: run_id.clone(),
        run_type: "manual".into(),
        logical_date: logical.map(fmt),
        run_after: fmt(logical.unwrap_or(now)),
        data_interval_start: logical.map(fmt),
        data_interval_end: logical.map(fmt),
        conf: match &t["conf"] {
            v @ Value::Object(_) => v.clone(),
            _ => json!({}),
        },
        note: t["note"].as_str().map(String::from),
        triggered_by: "operator".into(),
        triggering_user_name: None,
    };
    match runs::create(tx, &new) {
        Ok(run) => Ok(Some(
            json!({"dag_id": run.dag_id, "run_id": run.run_id, "state": run.state}),
        )),
        Err(runs::CreateRunError::Duplicate { .. }) if t["skip_when_already_exists"] == true => {
            Ok(None)
        }
        Err(runs::CreateRunError::Duplicate { .. }) => Err(format!(
            "A Dag Run already exists for Dag {dag_id} with run id {run_id}"
        )),
        Err(runs::CreateRunError::NoDag(_)) => Err(format!(
            "Dag {dag_id:?} to trigger is not found (TriggerDagRunOperator trigger_dag_id)"
        )),
        Err(runs::CreateRunError::Store(e)) => Err(e.to_string()),
    }
}

/// Airflow's retry delay: `retry_delay`, doubled per try with exponential backoff, capped by
/// `max_retry_delay`.
pub fn retry_delay(delay: f64, exponential: bool, max: Option<f64>, try_number: i64) -> f64 {
    let d = if exponential {
        delay * 2f64.powi((try_number - 1).clamp(0, 30) as i32)
    } else {
        delay
    };
    match max {
        Some(m) if m > 0.0 => d.min(m),
        _ => d,
    }
}

/// The XCom of one run, as the mapping code reads it.
struct RunXcom<'a> {
    xcom: &'a crate::xcom::XcomStore,
    tx: &'a Transaction<'a>,
    run: &'a RunRow,
    dag: &'a Dag,
}

impl mapping::XcomSource for RunXcom<'_> {
    fn values(&self, task_id: &str, key: &str) -> Result<mapping::Pulled, String> {
        let mapped: i64 = self
            .tx
            .query_row(
                "SELECT COUNT(*) FROM task_instance WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_index >= 0",
                params![self.run.dag_id, self.run.run_id, task_id],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        if mapped > 0 {
            return Ok(mapping::Pulled::Mapped(mapped as usize));
        }
        let k = crate::xcom::XcomKey {
            dag_id: self.run.dag_id.clone(),
            run_id: self.run.run_id.clone(),
            task_id: task_id.to_string(),
            map_index: -1,
            key: key.to_string(),
        };
        self.xcom
            .get(&k)
            .map(mapping::Pulled::Single)
            .map_err(|e| e.to_string())
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn ti_event(ti: &TiRow) -> Value {
    json!({"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": ti.map_index, "state": ti.state, "try_number": ti.try_number})
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_delay_backs_off_and_caps() {
        assert_eq!(super::retry_delay(10.0, false, None, 3), 10.0);
        assert_eq!(super::retry_delay(10.0, true, None, 1), 10.0);
        assert_eq!(super::retry_delay(10.0, true, None, 3), 40.0);
        assert_eq!(super::retry_delay(10.0, true, Some(25.0), 3), 25.0);
    }
}
