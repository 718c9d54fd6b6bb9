//! The scheduler's queries: what a scheduling pass reads (queued runs with their limits,
//! active counts, free pool slots, scheduled DAGs) and the state changes it applies (start a
//! run, decide a task instance, expand a mapped task, start and end a try, finish a run).
//!
//! Each function is one statement or one read; `scheduler` composes them inside the pass's
//! transaction.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::tis::TiRow;
use super::{Db, Result, Tx, sql};

/// A queued run of an unpaused, live DAG, outside paused backfills, with its backfill's limit.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedRun {
    pub dag_id: String,
    pub run_id: String,
    pub version_id: String,
    pub backfill: Option<BackfillSlots>,
}

/// A backfill's `max_active_runs` and how many of its runs are running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillSlots {
    pub id: i64,
    pub max_active_runs: i64,
    pub running: i64,
}

/// Queued runs that may start as far as pausing goes, oldest (`run_after`) first. As in
/// Airflow 3, runs of a paused (or stale) DAG wait, and so do those of a paused backfill.
pub fn queued_runs(db: &Db<'_>) -> Result<Vec<QueuedRun>> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT r.dag_id, r.run_id, r.dag_version_id, b.id, b.max_active_runs,
                 (SELECT COUNT(*) FROM dag_run x WHERE x.backfill_id = b.id AND x.state = 'running')
             FROM dag_run r LEFT JOIN backfill b ON b.id = r.backfill_id
             WHERE r.state = 'queued' AND (b.id IS NULL OR b.is_paused = 0)
               AND EXISTS (SELECT 1 FROM dag d WHERE d.dag_id = r.dag_id AND d.is_paused = 0 AND d.is_stale = 0)
             ORDER BY r.run_after, r.id",
        )
        .map_err(sql)?;
    st.query_map([], |r| {
        let id: Option<i64> = r.get(3)?;
        Ok(QueuedRun {
            dag_id: r.get(0)?,
            run_id: r.get(1)?,
            version_id: r.get(2)?,
            backfill: match id {
                Some(id) => Some(BackfillSlots {
                    id,
                    max_active_runs: r.get(4)?,
                    running: r.get(5)?,
                }),
                None => None,
            },
        })
    })
    .map_err(sql)?
    .collect::<std::result::Result<_, _>>()
    .map_err(sql)
}

/// Running runs outside backfills, per DAG (what `max_active_runs` counts).
pub fn running_runs(db: &Db<'_>) -> Result<HashMap<String, i64>> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT dag_id, COUNT(*) FROM dag_run WHERE state = 'running' AND backfill_id IS NULL GROUP BY dag_id",
        )
        .map_err(sql)?;
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// A queued run starts.
pub fn start_run(tx: &Tx<'_>, dag_id: &str, run_id: &str, now: &str) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE dag_run SET state = 'running', start_date = ?3 WHERE dag_id = ?1 AND run_id = ?2",
            params![dag_id, run_id, now],
        )
        .map_err(sql)?;
    Ok(())
}

/// A run ends (`success` or `failed`).
pub fn finish_run(tx: &Tx<'_>, dag_id: &str, run_id: &str, state: &str, now: &str) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE dag_run SET state = ?3, end_date = ?4, last_scheduling_decision = ?4 WHERE dag_id = ?1 AND run_id = ?2",
            params![dag_id, run_id, state, now],
        )
        .map_err(sql)?;
    Ok(())
}

/// Ids of paused DAGs.
pub fn paused_dags(db: &Db<'_>) -> Result<HashSet<String>> {
    let mut st = db
        .conn()
        .prepare_cached("SELECT dag_id FROM dag WHERE is_paused = 1")
        .map_err(sql)?;
    st.query_map([], |r| r.get(0))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// What a deferred `wait_for_completion` task instance waits for, and that run's state now
/// (`None` when the run was deleted); `None` when it waits for nothing.
pub fn awaited_run(db: &Db<'_>, ti_id: &str) -> Result<Option<(Value, Option<String>)>> {
    let conn = db.conn();
    let wait: Option<String> = conn
        .query_row(
            "SELECT trigger_wait FROM task_instance WHERE id = ?1",
            [ti_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?
        .flatten();
    let Some(wait) = wait
        .and_then(|w| serde_json::from_str::<Value>(&w).ok())
        .filter(|w| w.get("dag_id").is_some())
    else {
        // Nothing, or a Human-in-the-loop wait (`{"hitl": ...}`), which ends by an answer.
        return Ok(None);
    };
    let state: Option<String> = conn
        .query_row(
            "SELECT state FROM dag_run WHERE dag_id = ?1 AND run_id = ?2",
            params![wait["dag_id"].as_str(), wait["run_id"].as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    Ok(Some((wait, state)))
}

/// A deferred task instance's wait ended in `state`.
pub fn end_wait(
    tx: &Tx<'_>,
    ti_id: &str,
    state: &str,
    error: Option<&str>,
    now: &str,
) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE task_instance SET state = ?2, error = ?3, end_date = ?4, trigger_wait = NULL,
                 duration = (julianday(?4) - julianday(start_date)) * 86400.0 WHERE id = ?1",
            params![ti_id, state, error, now],
        )
        .map_err(sql)?;
    Ok(())
}

/// The trigger rule's verdict on a task instance without a state: `scheduled`, or a final
/// `skipped` / `upstream_failed` (with its start and end dates).
pub fn decide(tx: &Tx<'_>, ti_id: &str, state: &str, now: &str) -> Result<()> {
    let finished = state != "scheduled";
    tx.conn()
        .execute(
            "UPDATE task_instance SET state = ?2, scheduled_dttm = CASE WHEN ?2 = 'scheduled' THEN ?3 ELSE scheduled_dttm END,
                 end_date = CASE WHEN ?4 THEN ?3 ELSE end_date END, start_date = CASE WHEN ?4 THEN COALESCE(start_date, ?3) ELSE start_date END
             WHERE id = ?1",
            params![ti_id, state, now, finished],
        )
        .map_err(sql)?;
    Ok(())
}

/// A task instance ends without running (`skipped` or `failed`), e.g. a mapped task with
/// nothing to map or an unmappable input, or a run that timed out.
pub fn end_unrun(
    tx: &Tx<'_>,
    ti_id: &str,
    state: &str,
    error: Option<&str>,
    now: &str,
) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE task_instance SET state = ?2, error = ?3, start_date = COALESCE(start_date, ?4), end_date = ?4 WHERE id = ?1",
            params![ti_id, state, error, now],
        )
        .map_err(sql)?;
    Ok(())
}

/// Expands the placeholder (`map_index` -1) of a mapped task into `n` scheduled map indexes
/// (the placeholder becomes index 0); the new rows' ids are `ids` (one per index 1..n).
pub fn expand(tx: &Tx<'_>, ti_id: &str, ids: &[String], now: &str) -> Result<()> {
    expand_as(tx, ti_id, ids, Some(now))
}

/// Like [`expand`], but every map index is left without a state (tasks of a mapped task
/// group, which their trigger rules then decide index by index).
pub fn expand_pending(tx: &Tx<'_>, ti_id: &str, ids: &[String]) -> Result<()> {
    expand_as(tx, ti_id, ids, None)
}

/// Map index 0 for the placeholder, new rows for `ids`: scheduled at `scheduled` when given,
/// else without a state.
fn expand_as(tx: &Tx<'_>, ti_id: &str, ids: &[String], scheduled: Option<&str>) -> Result<()> {
    let conn = tx.conn();
    let state = scheduled.map(|_| "scheduled");
    conn.execute(
        "UPDATE task_instance SET map_index = 0, state = ?3, scheduled_dttm = ?2 WHERE id = ?1",
        params![ti_id, scheduled, state],
    )
    .map_err(sql)?;
    for (i, id) in ids.iter().enumerate() {
        conn.execute(
            "INSERT INTO task_instance(id, dag_id, run_id, task_id, map_index, max_tries, operator, pool, pool_slots, priority_weight, dag_version_id, state, scheduled_dttm)
             SELECT ?2, dag_id, run_id, task_id, ?3, max_tries, operator, pool, pool_slots, priority_weight, dag_version_id, ?5, ?4 FROM task_instance WHERE id = ?1",
            params![ti_id, id, i as i64 + 1, scheduled, state],
        )
        .map_err(sql)?;
    }
    Ok(())
}

/// Queued or running task instances: in all, and per DAG.
pub fn active_counts(db: &Db<'_>) -> Result<(i64, HashMap<String, i64>)> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT dag_id, COUNT(*) FROM task_instance WHERE state IN ('queued', 'running') GROUP BY dag_id",
        )
        .map_err(sql)?;
    let by_dag: HashMap<String, i64> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)?;
    Ok((by_dag.values().sum(), by_dag))
}

/// Free slots per pool: its size minus the slots of queued and running tries.
pub fn pool_free(db: &Db<'_>) -> Result<HashMap<String, i64>> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT p.pool, p.slots - COALESCE((SELECT SUM(t.pool_slots) FROM task_instance t
                 WHERE t.pool = p.pool AND t.state IN ('queued', 'running')), 0) FROM slot_pool p",
        )
        .map_err(sql)?;
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// How a try started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Started {
    pub try_number: i64,
    /// For a rescheduled sensor that continues its try: how many pokes asked to be rescheduled
    /// so far, and when the first of them started.
    pub reschedule: Option<Resumed>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resumed {
    pub count: i64,
    pub first_start: String,
}

/// A try starts: the instance is running with a new try number — or, when it was rescheduled
/// (a sensor between pokes), with the same try number and its first start date; `resuming`
/// (a deferred try that resumes) keeps the try number too.
pub fn start_try(
    tx: &Tx<'_>,
    ti_id: &str,
    now: &str,
    hostname: &str,
    resuming: bool,
) -> Result<Started> {
    let conn = tx.conn();
    let resumed: bool = conn
        .query_row(
            "SELECT rescheduled = 1 FROM task_instance WHERE id = ?1",
            [ti_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let try_number: i64 = conn
        .query_row(
            "UPDATE task_instance SET state = 'running',
                 try_number = CASE WHEN ?4 OR (?5 AND try_number > 0) THEN try_number ELSE try_number + 1 END,
                 start_date = CASE WHEN ?4 THEN COALESCE(start_date, ?2) ELSE ?2 END,
                 queued_dttm = ?2, end_date = NULL, duration = NULL, next_retry_at = NULL,
                 error = NULL, hostname = ?3, rescheduled = 0, trigger_wait = NULL
             WHERE id = ?1
             RETURNING try_number",
            params![ti_id, now, hostname, resumed, resuming],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let reschedule = if resumed {
        conn.query_row(
            "SELECT COUNT(*), MIN(start_date) FROM task_reschedule WHERE ti_id = ?1 AND try_number = ?2",
            params![ti_id, try_number],
            |r| {
                Ok(Resumed {
                    count: r.get(0)?,
                    first_start: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                })
            },
        )
        .map(Some)
        .map_err(sql)?
    } else {
        None
    };
    Ok(Started {
        try_number,
        reschedule,
    })
}

/// Records the process id of a running try (so a restart can kill its group).
pub fn set_pid(tx: &Tx<'_>, ti_id: &str, try_number: i64, pid: u32) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE task_instance SET pid = ?3 WHERE id = ?1 AND try_number = ?2",
            params![ti_id, try_number, pid],
        )
        .map_err(sql)?;
    Ok(())
}

/// A successful `TriggerDagRunOperator` with `wait_for_completion`: the instance is deferred
/// until the run `wait` names ends.
pub fn defer(tx: &Tx<'_>, ti_id: &str, wait: &Value, rendered: &str) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE task_instance SET state = 'deferred', trigger_wait = ?2, rendered_fields = ?3 WHERE id = ?1",
            params![ti_id, wait.to_string(), rendered],
        )
        .map_err(sql)?;
    Ok(())
}

/// A sensor's poke asked to be rescheduled: the instance waits `up_for_reschedule` until
/// `at`, holding no slot, and its next start continues the same try.
pub fn reschedule(tx: &Tx<'_>, ti: &TiRow, now: &str, at: &str, rendered: &str) -> Result<()> {
    let conn = tx.conn();
    let poke_start = ti
        .queued_dttm
        .clone()
        .or_else(|| ti.start_date.clone())
        .unwrap_or_else(|| now.to_string());
    let seconds = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp_micros() as f64 / 1e6)
            .unwrap_or(0.0)
    };
    let duration = (seconds(now) - seconds(&poke_start)).max(0.0);
    conn.execute(
        "INSERT INTO task_reschedule(ti_id, try_number, start_date, end_date, duration, reschedule_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![ti.id, ti.try_number, poke_start, now, duration, at],
    )
    .map_err(sql)?;
    conn.execute(
        "UPDATE task_instance SET state = 'up_for_reschedule', rescheduled = 1, next_retry_at = ?2, end_date = ?3, rendered_fields = ?4, pid = NULL WHERE id = ?1",
        params![ti.id, at, now, rendered],
    )
    .map_err(sql)?;
    Ok(())
}

/// A deferred task instance resumes: it is scheduled again, and its next start (the same try)
/// calls `resume["method"]` with `resume["event"]` instead of `execute` (Airflow's
/// `next_method` / `next_kwargs`). `false` when it is no longer deferred.
pub fn resume(tx: &Tx<'_>, ti_id: &str, resume: &Value, now: &str) -> Result<bool> {
    let n = tx
        .conn()
        .execute(
            "UPDATE task_instance SET state = 'scheduled', scheduled_dttm = ?3, trigger_wait = ?2
             WHERE id = ?1 AND state = 'deferred'",
            params![
                ti_id,
                serde_json::json!({ "resume": resume }).to_string(),
                now
            ],
        )
        .map_err(sql)?;
    Ok(n == 1)
}

/// What a scheduled task instance resumes with (see [`resume`]), if it resumes.
pub fn resume_of(db: &Db<'_>, ti_id: &str) -> Result<Option<Value>> {
    let wait: Option<String> = db
        .conn()
        .query_row(
            "SELECT trigger_wait FROM task_instance WHERE id = ?1 AND state = 'scheduled'",
            [ti_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?
        .flatten();
    Ok(wait
        .and_then(|w| serde_json::from_str::<Value>(&w).ok())
        .and_then(|mut w| w.get_mut("resume").map(Value::take)))
}

/// How a try ended, to record.
#[derive(Debug, Clone)]
pub struct TryEnd<'a> {
    pub state: &'a str,
    pub now: &'a str,
    pub duration: f64,
    pub error: Option<&'a str>,
    pub retry_at: Option<&'a str>,
    /// The rendered template fields, as JSON text.
    pub rendered: &'a str,
}

/// Records the end of `ti`'s current try: its new state, and the try in its history.
pub fn end_try(tx: &Tx<'_>, ti: &TiRow, e: &TryEnd<'_>) -> Result<()> {
    let conn = tx.conn();
    conn.execute(
        "UPDATE task_instance SET state = ?2, end_date = ?3, duration = ?4, error = ?5, next_retry_at = ?6, rendered_fields = ?7 WHERE id = ?1",
        params![ti.id, e.state, e.now, e.duration, e.error, e.retry_at, e.rendered],
    )
    .map_err(sql)?;
    conn.execute(
        "INSERT OR REPLACE INTO task_instance_history(ti_id, try_number, state, start_date, end_date, duration, pid, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![ti.id, ti.try_number, e.state, ti.start_date, e.now, e.duration, ti.pid, e.error],
    )
    .map_err(sql)?;
    Ok(())
}

/// Skips the not-yet-decided instances of `task_ids` in a run (a branch's unchosen paths).
pub fn skip_undecided(
    tx: &Tx<'_>,
    dag_id: &str,
    run_id: &str,
    task_ids: &[String],
    now: &str,
) -> Result<()> {
    for t in task_ids {
        tx.conn()
            .execute(
                "UPDATE task_instance SET state = 'skipped', start_date = ?4, end_date = ?4 WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND state IS NULL",
                params![dag_id, run_id, t, now],
            )
            .map_err(sql)?;
    }
    Ok(())
}

/// A live DAG with a schedule: its id, latest version and whether it is paused.
#[derive(Debug, Clone)]
pub struct ScheduledDag {
    pub dag_id: String,
    pub version_id: String,
    pub paused: bool,
    /// The logical date of its newest scheduled run.
    pub last_tick: Option<String>,
}

/// Live DAGs with a schedule.
pub fn scheduled_dags(db: &Db<'_>) -> Result<Vec<ScheduledDag>> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT d.dag_id, d.latest_version_id, d.is_paused,
                 (SELECT MAX(r.logical_date) FROM dag_run r WHERE r.dag_id = d.dag_id AND r.run_type = 'scheduled')
             FROM dag d WHERE d.is_stale = 0 AND d.latest_version_id IS NOT NULL AND d.timetable_summary IS NOT NULL",
        )
        .map_err(sql)?;
    st.query_map([], |r| {
        Ok(ScheduledDag {
            dag_id: r.get(0)?,
            version_id: r.get(1)?,
            paused: r.get::<_, i64>(2)? != 0,
            last_tick: r.get(3)?,
        })
    })
    .map_err(sql)?
    .collect::<std::result::Result<_, _>>()
    .map_err(sql)
}

/// Records a DAG's next scheduled run (all four of Airflow's `next_dagrun*` fields).
pub fn set_next_run(tx: &Tx<'_>, dag_id: &str, next: Option<&str>) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE dag SET next_dagrun_logical_date = ?2, next_dagrun_data_interval_start = ?2, next_dagrun_data_interval_end = ?2, next_dagrun_run_after = ?2 WHERE dag_id = ?1",
            params![dag_id, next],
        )
        .map_err(sql)?;
    Ok(())
}

/// A `@continuous` DAG's state: how many of its runs (backfills aside) are queued or running,
/// and the data interval end of its newest scheduled run.
pub fn continuous_state(db: &Db<'_>, dag_id: &str) -> Result<(i64, Option<String>)> {
    db.conn()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM dag_run WHERE dag_id = ?1 AND state IN ('queued', 'running') AND run_type != 'backfill'),
                    (SELECT data_interval_end FROM dag_run WHERE dag_id = ?1 AND run_type = 'scheduled'
                     ORDER BY data_interval_end DESC LIMIT 1)",
            [dag_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sql)
}
