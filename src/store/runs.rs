//! Queries over `dag_run`: list with filters, one run, create (with a task instance per task),
//! mark, note, delete, counts.

use rusqlite::{OptionalExtension, params_from_iter};
use serde_json::Value;

use super::filter::{Fields, Filter, Order, Where, order_sql};
use super::{Db, Result, StoreError, Tx, sql};

/// A row of `dag_run` with its version.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub dag_id: String,
    pub run_id: String,
    pub dag_version_id: String,
    pub version_number: Option<i64>,
    pub version_created_at: Option<String>,
    pub version_bundle_name: Option<String>,
    pub version_bundle_version: Option<String>,
    pub run_type: String,
    pub state: String,
    pub logical_date: Option<String>,
    pub run_after: String,
    pub data_interval_start: Option<String>,
    pub data_interval_end: Option<String>,
    pub queued_at: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub conf: Value,
    pub note: Option<String>,
    pub triggered_by: Option<String>,
    pub triggering_user_name: Option<String>,
    pub last_scheduling_decision: Option<String>,
}

const COLUMNS: &str = "r.dag_id, r.run_id, r.dag_version_id, v.version_number, v.created_at, v.bundle_name,
    v.bundle_version, r.run_type, r.state,
    r.logical_date, r.run_after, r.data_interval_start, r.data_interval_end, r.queued_at, r.start_date,
    r.end_date, r.conf, r.note, r.triggered_by, r.triggering_user_name, r.last_scheduling_decision";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    super::from_row!(RunRow from r;
        dag_id, run_id, dag_version_id, version_number, version_created_at, version_bundle_name,
        version_bundle_version, run_type, state,
        logical_date, run_after, data_interval_start, data_interval_end, queued_at,
        start_date, end_date, conf, note, triggered_by, triggering_user_name,
        last_scheduling_decision
    )
}

/// The fields a run list filters and orders on (over `dag_run r` and its version `v`).
pub const FIELDS: Fields = Fields(&[
    ("id", "r.id"),
    ("dag_id", "r.dag_id"),
    ("run_id", "r.run_id"),
    ("state", "r.state"),
    ("run_type", "r.run_type"),
    ("run_after", "r.run_after"),
    ("logical_date", "r.logical_date"),
    ("start_date", "r.start_date"),
    ("end_date", "r.end_date"),
    ("data_interval_start", "r.data_interval_start"),
    ("data_interval_end", "r.data_interval_end"),
    (
        "updated_at",
        "COALESCE(r.end_date, r.start_date, r.queued_at)",
    ),
    (
        "duration",
        "((julianday(r.end_date) - julianday(r.start_date)) * 86400.0)",
    ),
    ("triggering_user_name", "r.triggering_user_name"),
    ("conf", "r.conf"),
    ("version_number", "v.version_number"),
]);

/// What [`list`] selects: a filter over [`FIELDS`], an order (default: creation) and a page.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub filter: Filter,
    pub order: Order,
    pub limit: i64,
    pub offset: i64,
}

impl RunFilter {
    /// Every run matching `filter`, oldest first.
    pub fn all(filter: Filter) -> RunFilter {
        RunFilter {
            filter,
            limit: i64::MAX,
            ..Default::default()
        }
    }
}

/// Runs matching `f`, and the total before paging.
pub fn list(db: &Db<'_>, f: &RunFilter) -> Result<(Vec<RunRow>, i64)> {
    let conn = db.conn();
    let wh = Where::of(&f.filter, &FIELDS)?;
    let where_ = wh.sql();
    let args = wh.args;
    let from = "dag_run r LEFT JOIN dag_version v ON v.id = r.dag_version_id";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM {from} WHERE {where_}"))
        .and_then(|mut s| s.query_row(params_from_iter(args.iter()), |r| r.get(0)))
        .map_err(sql)?;
    let mut order = order_sql(&f.order, &FIELDS)?;
    order.push("r.id".into());
    let q = format!(
        "SELECT {COLUMNS} FROM {from} WHERE {where_} ORDER BY {} LIMIT {} OFFSET {}",
        order.join(", "),
        f.limit.max(0),
        f.offset.max(0)
    );
    let mut stmt = conn.prepare_cached(&q).map_err(sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), row)
        .map_err(sql)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql)?;
    Ok((rows, total))
}

/// One run.
pub fn get(db: &Db<'_>, dag_id: &str, run_id: &str) -> Result<Option<RunRow>> {
    db.conn().prepare_cached(&format!("SELECT {COLUMNS} FROM dag_run r LEFT JOIN dag_version v ON v.id = r.dag_version_id WHERE r.dag_id = ?1 AND r.run_id = ?2"))
        .and_then(|mut st| st.query_row([dag_id, run_id], row).optional())
        .map_err(sql)
}

/// A new run to create.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub dag_id: String,
    pub run_id: String,
    pub run_type: String,
    pub logical_date: Option<String>,
    pub run_after: String,
    pub data_interval_start: Option<String>,
    pub data_interval_end: Option<String>,
    pub conf: Value,
    pub note: Option<String>,
    pub triggered_by: String,
    pub triggering_user_name: Option<String>,
}

/// Why a run could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateRunError {
    #[error("The Dag with ID: `{0}` was not found")]
    NoDag(String),
    #[error("A DAG Run already exists for DAG {dag_id} with run id {run_id}")]
    Duplicate { dag_id: String, run_id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a queued run pinned to the DAG's latest version, with a task instance (no state
/// yet) for every task. Returns the run.
pub fn create(tx: &Tx<'_>, new: &NewRun) -> std::result::Result<RunRow, CreateRunError> {
    let Some(row) = super::dags::get_dag(tx, &new.dag_id)? else {
        return Err(CreateRunError::NoDag(new.dag_id.clone()));
    };
    let version = row
        .latest_version_id
        .clone()
        .ok_or_else(|| CreateRunError::NoDag(new.dag_id.clone()))?;
    let conn = tx.conn();
    let exists: bool = conn
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM dag_run WHERE dag_id = ?1 AND run_id = ?2)",
            [&new.dag_id, &new.run_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if exists {
        return Err(CreateRunError::Duplicate {
            dag_id: new.dag_id.clone(),
            run_id: new.run_id.clone(),
        });
    }
    let now = super::now();
    conn.execute(
        "INSERT INTO dag_run(dag_id, run_id, dag_version_id, run_type, state, logical_date, run_after,
             data_interval_start, data_interval_end, queued_at, conf, note, triggered_by, triggering_user_name)
         VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        rusqlite::params![
            new.dag_id,
            new.run_id,
            version,
            new.run_type,
            new.logical_date,
            new.run_after,
            new.data_interval_start,
            new.data_interval_end,
            now,
            new.conf.to_string(),
            new.note,
            new.triggered_by,
            new.triggering_user_name
        ],
    )
    .map_err(sql)?;
    for t in &row.dag.tasks {
        conn.execute(
            "INSERT INTO task_instance(id, dag_id, run_id, task_id, map_index, max_tries, operator, pool, pool_slots, priority_weight, dag_version_id)
             VALUES (?1, ?2, ?3, ?4, -1, ?5, ?6, ?7, ?8, ?9, ?10)",
            rusqlite::params![
                uuid::Uuid::new_v4().to_string(),
                new.dag_id,
                new.run_id,
                t.task_id,
                t.retries,
                t.operator,
                t.pool,
                t.pool_slots,
                t.priority_weight,
                version
            ],
        )
        .map_err(sql)?;
    }
    Ok(get(tx, &new.dag_id, &new.run_id)?.expect("just inserted"))
}

/// Run counts per DAG and state for `dag_ids` (every DAG when empty): `(dag_id, state, n)`.
pub fn run_stats(db: &Db<'_>, dag_ids: &[String]) -> Result<Vec<(String, String, i64)>> {
    let mut f = Filter::default();
    f.any_of("dag_id", dag_ids);
    let wh = Where::of(&f, &Fields(&[("dag_id", "dag_id")]))?;
    let mut stmt = db
        .conn()
        .prepare(&format!(
            "SELECT dag_id, state, COUNT(*) FROM dag_run WHERE {} GROUP BY dag_id, state",
            wh.sql()
        ))
        .map_err(sql)?;
    stmt.query_map(params_from_iter(wh.args.iter()), |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .map_err(sql)?
    .collect::<std::result::Result<_, _>>()
    .map_err(sql)
}

/// Whether any DAG has a run with this id.
pub fn exists_with_id(db: &Db<'_>, run_id: &str) -> Result<bool> {
    db.conn()
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM dag_run WHERE run_id = ?1)",
            [run_id],
            |x| x.get(0),
        )
        .map_err(sql)
}

/// The ids of every run of a DAG.
pub fn ids_of_dag(db: &Db<'_>, dag_id: &str) -> Result<Vec<String>> {
    let mut st = db
        .conn()
        .prepare_cached("SELECT run_id FROM dag_run WHERE dag_id = ?1")
        .map_err(sql)?;
    st.query_map([dag_id], |r| r.get(0))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// How many runs of a DAG are running.
pub fn count_running(db: &Db<'_>, dag_id: &str) -> Result<i64> {
    db.conn()
        .query_row(
            "SELECT COUNT(*) FROM dag_run WHERE dag_id = ?1 AND state = 'running'",
            [dag_id],
            |r| r.get(0),
        )
        .map_err(sql)
}

/// Sets a run's note.
pub fn set_note(tx: &Tx<'_>, dag_id: &str, run_id: &str, note: &str) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE dag_run SET note = ?3 WHERE dag_id = ?1 AND run_id = ?2",
            [dag_id, run_id, note],
        )
        .map_err(sql)?;
    Ok(())
}

/// Marks a run success or failed as Airflow does: unfinished task instances become success
/// (mark success) or failed when running and skipped otherwise (mark failed). Returns the
/// task instances that were unfinished, as they were.
pub fn set_state(
    tx: &Tx<'_>,
    dag_id: &str,
    run_id: &str,
    state: &str,
) -> Result<Vec<super::tis::TiRow>> {
    let now = super::now();
    let open = super::tis::unfinished_of_run(tx, dag_id, run_id)?;
    let conn = tx.conn();
    for ti in &open {
        let new = match (state, ti.state.as_deref()) {
            ("success", _) => "success",
            (_, Some("running") | Some("queued")) => "failed",
            _ => "skipped",
        };
        conn.execute(
            "UPDATE task_instance SET state = ?2, end_date = ?3, next_retry_at = NULL WHERE id = ?1",
            rusqlite::params![ti.id, new, now],
        )
        .map_err(sql)?;
    }
    conn.execute(
        "UPDATE dag_run SET state = ?3, end_date = ?4 WHERE dag_id = ?1 AND run_id = ?2",
        rusqlite::params![dag_id, run_id, state, now],
    )
    .map_err(sql)?;
    Ok(open)
}

/// Deletes a run and its task instances; `false` when it does not exist.
pub fn delete(tx: &Tx<'_>, dag_id: &str, run_id: &str) -> Result<bool> {
    Ok(tx
        .conn()
        .execute(
            "DELETE FROM dag_run WHERE dag_id = ?1 AND run_id = ?2",
            [dag_id, run_id],
        )
        .map_err(sql)?
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::filter::{Cmp, Cond, Val};

    #[test]
    fn a_filter_on_the_version_counts_through_the_join() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::store::Store::open(&dir.path().join("leoflow.db")).unwrap();
        let mut f = Filter::default();
        f.eq("version_number", 1);
        f.push(Cond::Range("duration", Cmp::Gt, Val::Real(0.0)));
        f.push(Cond::Contains("run_id", vec!["x".into()]));
        let (rows, total) = s
            .read_sync(|db| {
                list(
                    db,
                    &RunFilter {
                        filter: f,
                        order: vec![("updated_at", true)],
                        limit: 10,
                        offset: 0,
                    },
                )
            })
            .unwrap();
        assert_eq!((rows.len(), total), (0, 0));
    }
}
