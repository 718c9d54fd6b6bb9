//! Backfills (`backfill`, `dag_run.backfill_id`), as Airflow 3 keeps them.
//!
//! Creating a backfill inserts one `queued` run (`run_type = 'backfill'`) per logical date the
//! caller computed from the DAG's timetable; an existing run for a date is skipped or
//! re-queued according to `reprocess_behavior`. The scheduler starts queued runs as usual, and
//! must leave those of a paused backfill alone (`sched::queued_runs`). A backfill is complete
//! when none of its runs is queued or running any more.

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::filter::{Fields, Order, order_sql};
use super::runs::{self, CreateRunError, NewRun};
use super::tis::{self, TiRow};
use super::{Db, Result, Tx, now, sql};

/// A row of `backfill`, with `completed_at` derived when every run has finished.
#[derive(Debug, Clone)]
pub struct BackfillRow {
    pub id: i64,
    pub dag_id: String,
    pub from_date: String,
    pub to_date: String,
    pub dag_run_conf: Value,
    pub is_paused: bool,
    pub reprocess_behavior: String,
    pub max_active_runs: i64,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub updated_at: String,
}

/// `completed_at`: the stored one, else the last run's end once no run is queued or running.
macro_rules! completed {
    () => {
        "COALESCE(b.completed_at, CASE WHEN NOT EXISTS (SELECT 1 FROM dag_run r WHERE r.backfill_id = b.id
            AND r.state IN ('queued', 'running')) THEN COALESCE((SELECT MAX(r.end_date) FROM dag_run r
            WHERE r.backfill_id = b.id), b.created_at) END)"
    };
}

const COLUMNS: &str = concat!(
    "b.id, b.dag_id, b.from_date, b.to_date, b.dag_run_conf, b.is_paused, b.reprocess_behavior,
    b.max_active_runs, b.created_at, ",
    completed!(),
    ", b.updated_at"
);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BackfillRow> {
    let conf: String = r.get(4)?;
    Ok(BackfillRow {
        id: r.get(0)?,
        dag_id: r.get(1)?,
        from_date: r.get(2)?,
        to_date: r.get(3)?,
        dag_run_conf: serde_json::from_str(&conf).unwrap_or(Value::Null),
        is_paused: r.get::<_, i64>(5)? != 0,
        reprocess_behavior: r.get(6)?,
        max_active_runs: r.get(7)?,
        created_at: r.get(8)?,
        completed_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

/// One backfill.
pub fn get(db: &Db<'_>, id: i64) -> Result<Option<BackfillRow>> {
    db.conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM backfill b WHERE b.id = ?1"),
            [id],
            row,
        )
        .optional()
        .map_err(sql)
}

/// The fields a backfill list orders on.
const FIELDS: Fields = Fields(&[
    ("id", "b.id"),
    ("dag_id", "b.dag_id"),
    ("from_date", "b.from_date"),
    ("to_date", "b.to_date"),
    ("created_at", "b.created_at"),
    ("updated_at", "b.updated_at"),
    ("completed_at", "b.completed_at"),
    ("is_paused", "b.is_paused"),
    ("max_active_runs", "b.max_active_runs"),
]);

/// Backfills (of one DAG when given), ordered (default: by id), and the total.
pub fn list(
    db: &Db<'_>,
    dag_id: Option<&str>,
    order: Order,
    limit: i64,
    offset: i64,
) -> Result<(Vec<BackfillRow>, i64)> {
    let conn = db.conn();
    let cond = if dag_id.is_some() {
        "b.dag_id = ?1"
    } else {
        "?1 IS NULL"
    };
    let total: i64 = conn
        .query_row(
            &format!("SELECT COUNT(*) FROM backfill b WHERE {cond}"),
            [dag_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let mut by = order_sql(&order, &FIELDS)?;
    by.push("b.id".into());
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM backfill b WHERE {cond} ORDER BY {} LIMIT {} OFFSET {}",
            by.join(", "),
            limit.max(0),
            offset.max(0)
        ))
        .map_err(sql)?;
    let rows = stmt
        .query_map([dag_id], row)
        .map_err(sql)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql)?;
    Ok((rows, total))
}

/// What a backfill does for one logical date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No run has this date: create one.
    Create,
    /// The existing run (its id) is cleared and re-queued as part of the backfill.
    Reprocess(String),
    /// The existing run (its id) is left alone.
    Skip(String),
}

/// The step for each date, given the runs the DAG already has and `reprocess_behavior`
/// (`none`: skip every existing run; `failed`: re-run failed ones; `completed`: re-run every
/// finished one). Running or queued runs are always skipped.
pub fn plan(
    db: &Db<'_>,
    dag_id: &str,
    dates: &[String],
    reprocess: &str,
) -> Result<Vec<(String, Step)>> {
    let mut stmt = db
        .conn()
        .prepare_cached("SELECT run_id, state FROM dag_run WHERE dag_id = ?1 AND logical_date = ?2 ORDER BY id DESC LIMIT 1")
        .map_err(sql)?;
    let mut out = Vec::with_capacity(dates.len());
    for d in dates {
        let existing: Option<(String, String)> = stmt
            .query_row(params![dag_id, d], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(sql)?;
        let step = match existing {
            None => Step::Create,
            Some((run_id, state)) => match (reprocess, state.as_str()) {
                ("failed", "failed") | ("completed", "failed" | "success") => {
                    Step::Reprocess(run_id)
                }
                _ => Step::Skip(run_id),
            },
        };
        out.push((d.clone(), step));
    }
    Ok(out)
}

/// A backfill to create.
#[derive(Debug, Clone)]
pub struct NewBackfill {
    pub dag_id: String,
    pub from_date: String,
    pub to_date: String,
    pub dag_run_conf: Value,
    pub reprocess_behavior: String,
    pub max_active_runs: i64,
    pub run_backwards: bool,
    pub triggering_user_name: Option<String>,
}

/// Why a backfill could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("There is already a running backfill for dag {0}")]
    AlreadyRunning(String),
    #[error(transparent)]
    Run(#[from] CreateRunError),
}

impl From<super::StoreError> for CreateError {
    fn from(e: super::StoreError) -> CreateError {
        CreateError::Run(CreateRunError::Store(e))
    }
}

/// Creates the backfill and its runs for `dates` (logical dates, oldest first; inserted
/// newest first when `run_backwards`). `retries` gives a task's retries for re-queued runs.
pub fn create(
    tx: &Tx<'_>,
    new: &NewBackfill,
    dates: &[String],
    retries: &dyn Fn(&TiRow) -> i64,
) -> std::result::Result<BackfillRow, CreateError> {
    let running: Option<i64> = tx
        .conn()
        .query_row(
            concat!(
                "SELECT b.id FROM backfill b WHERE b.dag_id = ?1 AND ",
                completed!(),
                " IS NULL LIMIT 1"
            ),
            [&new.dag_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    if running.is_some() {
        return Err(CreateError::AlreadyRunning(new.dag_id.clone()));
    }
    let now = now();
    tx.conn().execute(
        "INSERT INTO backfill(dag_id, from_date, to_date, dag_run_conf, reprocess_behavior, max_active_runs,
             run_backwards, triggering_user_name, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            new.dag_id,
            new.from_date,
            new.to_date,
            new.dag_run_conf.to_string(),
            new.reprocess_behavior,
            new.max_active_runs,
            new.run_backwards,
            new.triggering_user_name,
            now
        ],
    )
    .map_err(sql)?;
    let id = tx.conn().last_insert_rowid();
    let mut steps = plan(tx, &new.dag_id, dates, &new.reprocess_behavior)?;
    if new.run_backwards {
        steps.reverse();
    }
    for (date, step) in steps {
        match step {
            Step::Create => {
                let run = runs::create(
                    tx,
                    &NewRun {
                        dag_id: new.dag_id.clone(),
                        run_id: format!("backfill__{}", run_id_ts(&date)),
                        run_type: "backfill".into(),
                        logical_date: Some(date.clone()),
                        run_after: date.clone(),
                        data_interval_start: Some(date.clone()),
                        data_interval_end: Some(date.clone()),
                        conf: new.dag_run_conf.clone(),
                        note: None,
                        triggered_by: "backfill".into(),
                        triggering_user_name: new.triggering_user_name.clone(),
                    },
                )?;
                attach(tx, id, &run.dag_id, &run.run_id)?;
            }
            Step::Reprocess(run_id) => {
                let tis = tis::of_run(tx, &new.dag_id, &run_id)?;
                tis::clear(tx, &tis, retries, true)?;
                attach(tx, id, &new.dag_id, &run_id)?;
            }
            Step::Skip(_) => {}
        }
    }
    Ok(get(tx, id)?.expect("just inserted"))
}

fn attach(tx: &Tx<'_>, id: i64, dag_id: &str, run_id: &str) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE dag_run SET backfill_id = ?1 WHERE dag_id = ?2 AND run_id = ?3",
            params![id, dag_id, run_id],
        )
        .map_err(sql)?;
    Ok(())
}

/// Airflow's run-id timestamp (`2026-01-01T00:00:00+00:00`) from a stored one.
fn run_id_ts(stored: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stored)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
        })
        .unwrap_or_else(|_| stored.to_string())
}

/// Pauses or unpauses a backfill.
pub fn set_paused(tx: &Tx<'_>, id: i64, paused: bool) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE backfill SET is_paused = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, paused, now()],
        )
        .map_err(sql)?;
    Ok(())
}

/// Cancels a backfill as Airflow does: paused, its queued runs failed, `completed_at` set.
/// Returns the runs that were failed.
pub fn cancel(tx: &Tx<'_>, id: i64) -> Result<Vec<(String, String)>> {
    let tx = tx.conn();
    let now = now();
    let failed: Vec<(String, String)> = {
        let mut st = tx
            .prepare(
                "SELECT dag_id, run_id FROM dag_run WHERE backfill_id = ?1 AND state = 'queued'",
            )
            .map_err(sql)?;
        st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sql)?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql)?
    };
    tx.execute(
        "UPDATE dag_run SET state = 'failed', end_date = ?2 WHERE backfill_id = ?1 AND state = 'queued'",
        params![id, now],
    )
    .map_err(sql)?;
    tx.execute(
        "UPDATE backfill SET is_paused = 1, completed_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )
    .map_err(sql)?;
    Ok(failed)
}
