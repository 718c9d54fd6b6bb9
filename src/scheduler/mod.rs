//! The scheduler: moves runs and task instances through Airflow 3's states.
//!
//! Event-driven: it wakes when a run is triggered, a task finishes (executor completion
//! channel), or the next retry is due — never on a fixed polling tick. Each pass is one SQLite
//! transaction that loads rows (`store::sched`), decides with the pure steps of [`plan`]
//! (queued runs start within `max_active_runs`; task instances whose trigger rule is met are
//! scheduled, others skipped or upstream_failed; scheduled ones are dispatched up to
//! `parallelism` and `max_active_tasks`; finished runs get their final state) and applies the
//! decisions, so a crash at any point leaves a consistent database. On start, tries left
//! running by a dead process are failed and retried per policy.
//!
//! **Invariant:** the scheduler decides; executors run. `rules`, `mapping`, `plan` and
//! `timetable` are pure.

pub mod assets;
pub mod deps;
pub mod hitl;
pub mod mapping;
pub mod plan;
pub mod rules;
pub mod timetable;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use crate::dag::Dag;
use crate::events::EventBus;
use crate::executor::template::Context;
use crate::executor::{Executor, ExecutorEvent, Outcome, TaskOutcome, TaskRequest};
use crate::health::{Component, Heartbeats};
use crate::store::assets as store_assets;
use crate::store::runs::{self, RunFilter};
use crate::store::tis::{self, TiRow};
use crate::store::{Store, StoreError, Tx, dags, now, sched};
use plan::{Change, Ready, parse_ts, ti_event};
use rules::state;

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
    /// Tasks that name an image run in it (`--executor docker`).
    pub in_image: bool,
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

/// What a scheduling pass decided, acted on once its transaction commits.
struct Pass {
    dispatch: Vec<Ready>,
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
    containers: Arc<crate::executor::container::Containers>,
    config: SchedulerConfig,
) -> (Arc<Scheduler>, tokio::task::JoinHandle<()>) {
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let subprocess = crate::executor::subprocess::SubprocessExecutor::new(
        xcom.clone(),
        events.clone(),
        done_tx,
        python,
        containers,
        config.in_image,
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
            // The scheduler also plays the triggerer: it ends deferred waits (a triggered run
            // that finished, a Human-in-the-loop answer or deadline).
            self.health.beat(Component::Triggerer);
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

    fn spec(&self, db: &Tx<'_>, version_id: &str) -> Result<Arc<Dag>, StoreError> {
        // A version without runs is rewritten in place, so the cache is keyed by content too.
        let hash = dags::version_hash(db, version_id)?.unwrap_or_default();
        let cached = self
            .specs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(version_id)
            .cloned();
        if let Some((h, d)) = cached
            && h == hash
        {
            return Ok(d);
        }
        let dag = dags::version_model(db, version_id)?.ok_or_else(|| StoreError::Model {
            what: format!("DAG version {version_id}"),
            err: "it does not exist".into(),
        })?;
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
        let orphans = self.store.read(tis::active).await?;
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
                outlet_events: Vec::new(),
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
            self.start(d).await;
        }
        Ok(pass.wait)
    }

    /// A pass: scheduled runs are created, queued runs start, running runs are evaluated,
    /// ready tries are dispatched — each step loads rows, decides in [`plan`], applies.
    fn schedule(&self, tx: &Tx<'_>) -> Result<Pass, StoreError> {
        let now_t = Utc::now();
        let now_s = now();
        let mut events = Vec::new();
        let next_tick = self.create_scheduled_runs(tx, now_t, &mut events)?;
        self.create_asset_triggered_runs(tx, &mut events)?;
        self.start_queued_runs(tx, &now_s, &mut events)?;
        let mut kills = Vec::new();
        let mut ready = Vec::new();
        // Human-in-the-loop waits past their deadline resume (scheduled again) before the runs
        // are evaluated, so they are dispatched in this pass.
        let (resumed, mut wake) = hitl::time_out(tx, now_t)?;
        if !resumed.is_empty() {
            tracing::info!(n = resumed.len(), "Human-in-the-loop waits timed out");
        }
        let mut run_ended = false;
        let running = runs::list(tx, &RunFilter::all(filter_state("running")))?.0;
        let paused = sched::paused_dags(tx)?;
        // A paused DAG's running runs are not examined (Airflow 3): nothing new is scheduled
        // until it is unpaused; tries already running finish.
        for run in running.iter().filter(|r| !paused.contains(&r.dag_id)) {
            let dag = self.spec(tx, &run.dag_version_id)?;
            let tis = tis::of_run(tx, &run.dag_id, &run.run_id)?;
            let mut waits = HashMap::new();
            for t in tis
                .iter()
                .filter(|t| t.state.as_deref() == Some(state::DEFERRED))
            {
                if let Some(w) = sched::awaited_run(tx, &t.id)? {
                    waits.insert(t.id.clone(), w);
                }
            }
            let xcom = |task_id: &str, key: &str| {
                let k = crate::xcom::XcomKey {
                    dag_id: run.dag_id.clone(),
                    run_id: run.run_id.clone(),
                    task_id: task_id.to_string(),
                    map_index: -1,
                    key: key.to_string(),
                };
                self.xcom.get(&k).map_err(|e| e.to_string())
            };
            let input = plan::RunInput {
                run,
                dag: &dag,
                tis,
                waits,
            };
            let p = plan::evaluate(input, now_t, &xcom, &mut || {
                uuid::Uuid::new_v4().to_string()
            });
            apply(tx, run, &p.changes, &now_s)?;
            if !p.kills.is_empty() {
                tracing::warn!(
                    dag_id = run.dag_id,
                    run_id = run.run_id,
                    "run timed out (dagrun_timeout); unfinished tasks skipped"
                );
            }
            run_ended |= p.ended;
            events.extend(p.events);
            kills.extend(p.kills);
            wake = earliest(wake, p.wake);
            ready.extend(p.ready.into_iter().map(|ti| Ready {
                ti,
                run: run.clone(),
                dag: dag.clone(),
                resumed: None,
                resume: None,
            }));
        }
        let dispatch = self.dispatch(tx, ready, &now_s, &mut events)?;
        let next = earliest(wake, next_tick);
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

    /// Creates a run of every unpaused asset-scheduled DAG whose condition the queued assets
    /// satisfy (Airflow's `dags_needing_dagruns` and `_create_dag_runs_asset_triggered`): run
    /// type `asset_triggered`, `run_after` the newest queued time, no logical date; it consumes
    /// the events since the DAG's previous asset-triggered run, and the queue rows it used go.
    fn create_asset_triggered_runs(
        &self,
        tx: &Tx<'_>,
        events: &mut Vec<(&'static str, Value)>,
    ) -> Result<(), StoreError> {
        let queued = store_assets::queued(tx)?;
        if queued.is_empty() {
            return Ok(());
        }
        let aliases = store_assets::alias_targets(tx)?;
        for q in queued {
            let Some(version) = q.version_id.as_deref().filter(|_| !q.paused && !q.stale) else {
                continue;
            };
            let dag = self.spec(tx, version)?;
            let Some(cond) = dag.schedule.as_ref().and_then(|s| s.asset_condition()) else {
                // The DAG no longer depends on assets: its queue is stale (as Airflow drops it).
                store_assets::dequeue(tx, Some(&q.dag_id), None, None)?;
                continue;
            };
            let statuses = assets::Statuses {
                queued: q
                    .assets
                    .iter()
                    .map(|a| (a.name.clone(), a.uri.clone()))
                    .collect(),
                aliases: aliases.clone(),
            };
            if !assets::ready(&cond, &statuses) {
                continue;
            }
            let triggered = q
                .assets
                .iter()
                .map(|a| a.created_at.clone())
                .max()
                .unwrap_or_else(now);
            let at = parse_ts(&triggered).unwrap_or_else(Utc::now);
            let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
            let consumed = store_assets::consumed_events(tx, &q.dag_id, &triggered)?;
            let new = runs::NewRun {
                dag_id: q.dag_id.clone(),
                run_id: assets::run_id(&at, &suffix),
                run_type: "asset_triggered".into(),
                logical_date: None,
                run_after: triggered.clone(),
                data_interval_start: None,
                data_interval_end: None,
                conf: json!({}),
                note: None,
                triggered_by: "asset".into(),
                triggering_user_name: None,
            };
            let run = match runs::create(tx, &new) {
                Ok(run) => run,
                Err(runs::CreateRunError::Store(e)) => return Err(e),
                Err(e) => {
                    tracing::warn!(dag_id = q.dag_id, "no asset-triggered run: {e}");
                    continue;
                }
            };
            store_assets::link_run(tx, &run.dag_id, &run.run_id, &consumed)?;
            let used: Vec<i64> = q.assets.iter().map(|a| a.asset_id).collect();
            store_assets::dequeue(tx, Some(&q.dag_id), Some(&used), None)?;
            tracing::info!(
                dag_id = run.dag_id,
                run_id = run.run_id,
                events = consumed.len(),
                "created an asset-triggered run"
            );
            events.push((
                "dag_run",
                json!({"dag_id": run.dag_id, "run_id": run.run_id, "state": run.state}),
            ));
        }
        Ok(())
    }

    /// Creates the next run of a `@continuous` DAG when it has none queued or running: its
    /// data interval runs from the previous run's end (or `start_date`) to now, as Airflow's
    /// `ContinuousTimetable`; `run_after` is now.
    fn create_continuous_run(
        &self,
        tx: &Tx<'_>,
        dag: &Dag,
        now_t: DateTime<Utc>,
        events: &mut Vec<(&'static str, Value)>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let (active, last_end) = sched::continuous_state(tx, &dag.dag_id)?;
        if active > 0 {
            return Ok(None);
        }
        let start_date = dag.start_date.as_deref().and_then(parse_ts);
        if let Some(s) = start_date.filter(|s| *s > now_t) {
            return Ok(Some(s));
        }
        if dag
            .end_date
            .as_deref()
            .and_then(parse_ts)
            .is_some_and(|e| now_t > e)
        {
            return Ok(None);
        }
        let start = last_end
            .as_deref()
            .and_then(parse_ts)
            .filter(|t| *t <= now_t)
            .or(start_date)
            .unwrap_or(now_t);
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let new = runs::NewRun {
            dag_id: dag.dag_id.clone(),
            run_id: format!(
                "scheduled__{}",
                start.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
            ),
            run_type: "scheduled".into(),
            logical_date: Some(fmt(start)),
            run_after: fmt(now_t),
            data_interval_start: Some(fmt(start)),
            data_interval_end: Some(fmt(now_t)),
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
            Err(runs::CreateRunError::Store(e)) => return Err(e),
            Err(e) => tracing::warn!(dag_id = dag.dag_id, "no continuous run: {e}"),
        }
        Ok(None)
    }

    /// Starts the queued runs [`plan::starts`] picks.
    fn start_queued_runs(
        &self,
        tx: &Tx<'_>,
        now_s: &str,
        events: &mut Vec<(&'static str, Value)>,
    ) -> Result<(), StoreError> {
        let queued = sched::queued_runs(tx)?;
        let mut limits: HashMap<String, i64> = HashMap::new();
        for q in queued.iter().filter(|q| q.backfill.is_none()) {
            if !limits.contains_key(&q.version_id) {
                let dag = self.spec(tx, &q.version_id)?;
                limits.insert(q.version_id.clone(), dag.max_active_runs as i64);
            }
        }
        let running = sched::running_runs(tx)?;
        let limit = |q: &sched::QueuedRun| limits.get(&q.version_id).copied().unwrap_or(1);
        for q in plan::starts(&queued, &limit, running) {
            sched::start_run(tx, &q.dag_id, &q.run_id, now_s)?;
            events.push((
                "dag_run",
                json!({"dag_id": q.dag_id, "run_id": q.run_id, "state": "running"}),
            ));
        }
        Ok(())
    }

    /// Starts the tries [`plan::dispatch`] picks among `ready`.
    fn dispatch(
        &self,
        tx: &Tx<'_>,
        ready: Vec<Ready>,
        now_s: &str,
        events: &mut Vec<(&'static str, Value)>,
    ) -> Result<Vec<Ready>, StoreError> {
        if ready.is_empty() {
            return Ok(Vec::new());
        }
        let (active, active_by_dag) = sched::active_counts(tx)?;
        let slots = plan::Slots {
            parallelism: self.config.parallelism as i64,
            active,
            active_by_dag,
            pool_free: sched::pool_free(tx)?,
        };
        let (mut chosen, missing) = plan::dispatch(ready, slots);
        for (task_id, pool) in missing {
            tracing::warn!(
                task_id,
                pool,
                "task uses a pool that does not exist; it stays scheduled until the pool is created"
            );
        }
        let host = hostname();
        for d in &mut chosen {
            // A deferred try that resumes is the same try (Airflow keeps its try number).
            d.resume = sched::resume_of(tx, &d.ti.id)?;
            let started = sched::start_try(tx, &d.ti.id, now_s, &host, d.resume.is_some())?;
            d.ti.try_number = started.try_number;
            d.resumed = started.reschedule;
            d.ti.state = Some(state::RUNNING.into());
            events.push(("task_instance", ti_event(&d.ti)));
        }
        Ok(chosen)
    }

    /// Creates `scheduled__<tick>` runs for every due tick of unpaused DAGs, records each
    /// DAG's next run, and returns the earliest next tick.
    fn create_scheduled_runs(
        &self,
        tx: &Tx<'_>,
        now_t: DateTime<Utc>,
        events: &mut Vec<(&'static str, Value)>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut earliest_tick: Option<DateTime<Utc>> = None;
        for d in sched::scheduled_dags(tx)? {
            let dag = self.spec(tx, &d.version_id)?;
            if matches!(dag.schedule, Some(crate::dag::model::Schedule::Continuous)) {
                if !d.paused {
                    let at = self.create_continuous_run(tx, &dag, now_t, events)?;
                    earliest_tick = earliest(earliest_tick, at);
                }
                sched::set_next_run(tx, &d.dag_id, None)?;
                continue;
            }
            let last = d.last_tick.as_deref().and_then(parse_ts);
            let mut newest = last;
            if !d.paused {
                for tick in timetable::due(&dag, last, now_t, 1000) {
                    let iso = tick.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                    let new = runs::NewRun {
                        dag_id: d.dag_id.clone(),
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
            let next = timetable::next_run(&dag, newest, now_t);
            let fmt = next.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
            sched::set_next_run(tx, &d.dag_id, fmt.as_deref())?;
            if !d.paused {
                earliest_tick = earliest(earliest_tick, next);
            }
        }
        Ok(earliest_tick)
    }

    async fn start(&self, d: Ready) {
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
        let key = crate::keys::TryKey {
            dag_id: &d.ti.dag_id,
            run_id: &d.ti.run_id,
            task_id: &d.ti.task_id,
            map_index: d.ti.map_index,
            try_number: d.ti.try_number,
        };
        let log_path = match crate::keys::log_path(&self.config.logs_dir, &key) {
            Ok(p) => p,
            Err(e) => {
                // Ids are checked where they enter; a row that still cannot name a file fails
                // its try instead of writing elsewhere.
                tracing::error!(error = %e, "refusing to start a try without a safe log path");
                let failed = TaskOutcome {
                    ti_id: d.ti.id.clone(),
                    try_number: d.ti.try_number,
                    outcome: Outcome::Failed {
                        error: e.to_string(),
                        retryable: false,
                    },
                    rendered: Default::default(),
                    skip: Vec::new(),
                    trigger: None,
                    outlet_events: Vec::new(),
                };
                if let Err(e) = self.finish(failed).await {
                    tracing::error!(error = %e, "recording the refused try failed");
                }
                return;
            }
        };
        // A new try starts without the XCom of earlier ones, as in Airflow (a resumed try keeps
        // what it pushed before it deferred).
        if d.resume.is_none()
            && let Err(e) = self.xcom.delete_task(
                &d.ti.dag_id,
                &d.ti.run_id,
                &d.ti.task_id,
                Some(d.ti.map_index),
            )
        {
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
            reschedule: d.resumed.clone(),
            resume: d.resume.clone(),
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
                    .write(move |tx| sched::set_pid(tx, &ti_id, try_number, pid))
                    .await
            }
        };
        if let Err(e) = r {
            tracing::error!(error = %e, "recording an executor event failed");
        }
    }

    /// Records how a try ended: success, skipped, up_for_retry (with its retry time) or failed.
    pub async fn finish(&self, o: TaskOutcome) -> Result<(), StoreError> {
        let event = self.store.write(move |tx| record_outcome(tx, &o)).await?;
        if let Some((e, triggered)) = event {
            self.events.publish("task_instance", e);
            if let Some(run) = triggered {
                self.events.publish("dag_run", run);
            }
            self.wake();
        }
        Ok(())
    }
}

/// Records a try's outcome in its transaction; the task instance's event and the run a
/// `TriggerDagRunOperator` created, or `None` when the outcome is stale (the try was cleared
/// or marked by hand while it ran).
fn record_outcome(
    tx: &Tx<'_>,
    o: &TaskOutcome,
) -> Result<Option<(Value, Option<Value>)>, StoreError> {
    let Some(mut ti) = tis::by_id(tx, &o.ti_id)? else {
        return Ok(None);
    };
    if ti.try_number != o.try_number || ti.state.as_deref() != Some(state::RUNNING) {
        return Ok(None);
    }
    let now_t = Utc::now();
    let rendered = serde_json::to_string(&o.rendered).unwrap_or_else(|_| "{}".into());
    let mut outcome = o.outcome.clone();
    let mut triggered = None;
    if outcome == Outcome::Success
        && let Some(t) = &o.trigger
    {
        match trigger_run(tx, t) {
            Ok(Some(run)) => triggered = Some(run),
            Ok(None) => outcome = Outcome::Skipped,
            Err(e) => {
                outcome = Outcome::Failed {
                    error: e,
                    retryable: true,
                }
            }
        }
    }
    if outcome == Outcome::Success
        && let Some(t) = o
            .trigger
            .as_ref()
            .filter(|t| t["wait_for_completion"] == true)
        && let Some(run) = &triggered
    {
        // Airflow's wait_for_completion: the task waits, deferred, until that run ends.
        let wait = json!({
            "dag_id": run["dag_id"], "run_id": run["run_id"],
            "allowed_states": non_empty(&t["allowed_states"], "success"),
            "failed_states": non_empty(&t["failed_states"], "failed"),
        });
        sched::defer(tx, &ti.id, &wait, &rendered)?;
        ti.state = Some(state::DEFERRED.to_string());
        return Ok(Some((ti_event(&ti), triggered)));
    }
    if let Outcome::Reschedule { at } = &outcome {
        let now_s = now_t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        sched::reschedule(tx, &ti, &now_s, at, &rendered)?;
        ti.state = Some(state::UP_FOR_RESCHEDULE.to_string());
        ti.next_retry_at = Some(at.clone());
        return Ok(Some((ti_event(&ti), triggered)));
    }
    if let Outcome::Deferred(defer) = &outcome {
        let now_s = now_t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        match hitl::request(&ti, defer, &now_s) {
            Some(h) => {
                // Airflow's `upsert_hitl_detail`, then `defer(HITLTrigger)`: the try waits, with
                // no process, until an answer or its deadline resumes it.
                crate::store::hitl::create(tx, &h)?;
                sched::defer(tx, &ti.id, &json!({"hitl": {"method": hitl::METHOD}}), &rendered)?;
                ti.state = Some(state::DEFERRED.to_string());
                return Ok(Some((ti_event(&ti), None)));
            }
            None => {
                outcome = Outcome::Failed {
                    error: "TaskDeferred: Leoflow Lite runs deferred tasks of Human-in-the-loop operators only".into(),
                    retryable: false,
                }
            }
        }
    }
    let (new_state, error, retry_at) = match &outcome {
        Outcome::Reschedule { .. } => unreachable!("recorded above"),
        Outcome::Success => (state::SUCCESS, None, None),
        Outcome::Deferred(_) => unreachable!("handled above"),
        Outcome::Skipped => (state::SKIPPED, None, None),
        Outcome::Failed { error, retryable } if *retryable && ti.try_number <= ti.max_tries => {
            let delay = retry_delay_of(tx, &ti)?;
            let at = now_t + chrono::Duration::microseconds((delay * 1e6) as i64);
            let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            (state::UP_FOR_RETRY, Some(error.clone()), Some(at))
        }
        Outcome::Failed { error, .. } => (state::FAILED, Some(error.clone()), None),
    };
    let start = ti.start_date.as_deref().and_then(parse_ts).unwrap_or(now_t);
    // The try ends at `now_t`, the instant its retry time counts from.
    let now_s = now_t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let end = sched::TryEnd {
        state: new_state,
        now: &now_s,
        duration: (now_t - start).num_microseconds().unwrap_or(0) as f64 / 1e6,
        error: error.as_deref(),
        retry_at: retry_at.as_deref(),
        rendered: &rendered,
    };
    sched::end_try(tx, &ti, &end)?;
    if new_state == state::SUCCESS {
        sched::skip_undecided(tx, &ti.dag_id, &ti.run_id, &o.skip, &now_s)?;
        emit_outlets(tx, &ti, &o.outlet_events, &now_s)?;
    }
    ti.state = Some(new_state.to_string());
    Ok(Some((ti_event(&ti), triggered)))
}

/// The asset events of a successful task instance: one per outlet asset (its `extra` from
/// what the task recorded), one per asset an outlet alias was given (`outlet_events[alias]
/// .add(...)`, `Metadata(..., alias=...)`), each queuing the DAGs scheduled on it.
fn emit_outlets(
    tx: &Tx<'_>,
    ti: &TiRow,
    recorded: &[Value],
    now_s: &str,
) -> Result<(), StoreError> {
    use crate::dag::model::{AssetDef, AssetLike};
    let version = ti.dag_version_id.clone().unwrap_or_default();
    let Some(dag) = dags::version_model(tx, &version)? else {
        return Ok(());
    };
    let Some(task) = dag.task(&ti.task_id) else {
        return Ok(());
    };
    let source = store_assets::NewEvent {
        extra: serde_json::Map::new(),
        source_task_id: Some(ti.task_id.clone()),
        source_dag_id: Some(ti.dag_id.clone()),
        source_run_id: Some(ti.run_id.clone()),
        source_map_index: ti.map_index,
        partition_key: None,
    };
    let extra_of = |pred: &dyn Fn(&Value) -> bool| -> serde_json::Map<String, Value> {
        recorded
            .iter()
            .filter(|r| pred(r))
            .filter_map(|r| r["extra"].as_object())
            .fold(serde_json::Map::new(), |mut m, e| {
                m.extend(e.clone());
                m
            })
    };
    for outlet in task.assets(true) {
        match outlet {
            AssetLike::Asset(def) => {
                let extra = extra_of(&|r: &Value| {
                    (r["asset"]["name"] == def.name.as_str()
                        && r["asset"]["uri"] == def.uri.as_str())
                        || (r["asset"].is_null()
                            && r["alias"].is_null()
                            && r["ref"].is_null()
                            && (r["key"] == def.uri.as_str() || r["key"] == def.name.as_str()))
                });
                let e = store_assets::NewEvent {
                    extra,
                    ..source.clone()
                };
                store_assets::emit(tx, store_assets::Target::Def(&def), &e, &[], now_s)?;
            }
            AssetLike::AssetRef(r) => {
                let extra = extra_of(&|x: &Value| {
                    (r.name.is_some() && x["ref"]["name"] == r.name.as_deref().unwrap_or_default())
                        || (r.uri.is_some()
                            && x["ref"]["uri"] == r.uri.as_deref().unwrap_or_default())
                });
                let e = store_assets::NewEvent {
                    extra,
                    ..source.clone()
                };
                let target = store_assets::Target::Ref {
                    name: r.name.as_deref(),
                    uri: r.uri.as_deref(),
                };
                if store_assets::emit(tx, target, &e, &[], now_s)?.is_none() {
                    tracing::warn!(
                        task_id = ti.task_id,
                        "an outlet references an asset that does not exist: {r:?}"
                    );
                }
            }
            AssetLike::Alias(al) => {
                for rec in recorded
                    .iter()
                    .filter(|r| r["alias"]["name"] == al.name.as_str())
                {
                    for ae in rec["alias_events"].as_array().into_iter().flatten() {
                        let text = |k: &str| ae[k].as_str().map(String::from);
                        let Some(uri) = text("uri").or_else(|| text("asset")) else {
                            continue;
                        };
                        let def = AssetDef {
                            name: text("name").unwrap_or_else(|| uri.clone()),
                            group: text("group").unwrap_or_else(|| "asset".into()),
                            extra: ae["asset_extra"].as_object().cloned().unwrap_or_default(),
                            watchers: Vec::new(),
                            uri,
                        };
                        let e = store_assets::NewEvent {
                            extra: ae["extra"].as_object().cloned().unwrap_or_default(),
                            ..source.clone()
                        };
                        let via = [(al.name.clone(), al.group.clone())];
                        store_assets::emit(tx, store_assets::Target::Def(&def), &e, &via, now_s)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The delay before the next try of `ti`, from its task's retry settings (5 minutes, Airflow's
/// default, when its version is gone).
fn retry_delay_of(tx: &Tx<'_>, ti: &TiRow) -> Result<f64, StoreError> {
    let version = ti.dag_version_id.clone().unwrap_or_default();
    let dag = dags::version_model(tx, &version).unwrap_or(None);
    Ok(dag
        .as_ref()
        .and_then(|d| d.task(&ti.task_id))
        .map(|t| {
            retry_delay(
                t.retry_delay,
                t.retry_exponential_backoff,
                t.max_retry_delay,
                ti.try_number,
            )
        })
        .unwrap_or(300.0))
}

/// `value` as a list of states, or `[default]` when absent or empty.
fn non_empty(value: &Value, default: &str) -> Value {
    match value {
        Value::Array(a) if !a.is_empty() => value.clone(),
        _ => json!([default]),
    }
}

/// Creates the run a `TriggerDagRunOperator` asked for: `Some(event)` when created,
/// `None` when it exists and `skip_when_already_exists` (the task is skipped), else an error
/// that fails the task as Airflow's `DagRunAlreadyExists` / `DagNotFound` do.
fn trigger_run(tx: &Tx<'_>, t: &Value) -> Result<Option<Value>, String> {
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
    crate::keys::check_run_id(&run_id)?;
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The earlier of two optional times.
fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A filter on the run state.
fn filter_state(st: &str) -> crate::store::filter::Filter {
    let mut f = crate::store::filter::Filter::default();
    f.eq("state", st);
    f
}

/// Applies a run's [`plan::Change`]s.
fn apply(
    tx: &Tx<'_>,
    run: &runs::RunRow,
    changes: &[Change],
    now_s: &str,
) -> Result<(), StoreError> {
    for c in changes {
        match c {
            Change::Decide { ti_id, state } => sched::decide(tx, ti_id, state, now_s)?,
            Change::EndWait {
                ti_id,
                state,
                error,
            } => sched::end_wait(tx, ti_id, state, error.as_deref(), now_s)?,
            Change::Expand { ti_id, new_ids } => sched::expand(tx, ti_id, new_ids, now_s)?,
            Change::ExpandPending { ti_id, new_ids } => sched::expand_pending(tx, ti_id, new_ids)?,
            Change::EndUnrun {
                ti_id,
                state,
                error,
            } => sched::end_unrun(tx, ti_id, state, error.as_deref(), now_s)?,
            Change::FinishRun(state) => {
                sched::finish_run(tx, &run.dag_id, &run.run_id, state, now_s)?
            }
        }
    }
    Ok(())
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
