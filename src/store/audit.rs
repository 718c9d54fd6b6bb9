//! The audit log: Airflow's `log` table, written by the mutations (in their own
//! transaction) and served as eventLogs.

use rusqlite::{OptionalExtension, Row, params};

use super::admin::{Table, page};
use super::filter::{Fields, Filter, Order, Page};
use super::{Db, Result, Tx, sql};

/// One audit-log row.
#[derive(Debug, Clone, Default)]
pub struct LogRow {
    pub id: i64,
    pub dttm: String,
    pub dag_id: Option<String>,
    pub task_id: Option<String>,
    pub run_id: Option<String>,
    pub map_index: Option<i64>,
    pub try_number: Option<i64>,
    pub event: String,
    pub owner: Option<String>,
    pub extra: Option<String>,
}

const LOG_COLS: &str =
    "id, dttm, dag_id, task_id, run_id, map_index, try_number, event, owner, extra";

fn log_row(r: &Row<'_>) -> rusqlite::Result<LogRow> {
    super::from_row!(LogRow from r;
        id, dttm, dag_id, task_id, run_id, map_index, try_number, event, owner, extra
    )
}

/// Appends an audit-log row (its `id` is ignored); the new id.
pub fn insert(tx: &Tx<'_>, l: &LogRow) -> Result<i64> {
    let tx = tx.conn();
    tx.execute(
        "INSERT INTO log(dttm, dag_id, task_id, run_id, map_index, try_number, event, owner, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            l.dttm,
            l.dag_id,
            l.task_id,
            l.run_id,
            l.map_index,
            l.try_number,
            l.event,
            l.owner,
            l.extra
        ],
    )
    .map_err(sql)?;
    Ok(tx.last_insert_rowid())
}

/// The fields an audit-log list filters and orders on.
pub const FIELDS: Fields = Fields(&[
    ("id", "id"),
    ("dttm", "dttm"),
    ("dag_id", "dag_id"),
    ("task_id", "task_id"),
    ("run_id", "run_id"),
    ("map_index", "map_index"),
    ("try_number", "try_number"),
    ("event", "event"),
    ("owner", "owner"),
    ("extra", "extra"),
]);

/// Audit-log rows matching `filter`, ordered and paged, and the total.
pub fn list(
    db: &Db<'_>,
    filter: &Filter,
    order: &Order,
    page_: Page,
) -> Result<(Vec<LogRow>, i64)> {
    let t = Table {
        cols: LOG_COLS,
        from: "log",
        fields: FIELDS,
        tiebreak: "id",
    };
    page(db.conn(), &t, filter, order, page_, log_row)
}

/// One audit-log row.
pub fn get(db: &Db<'_>, id: i64) -> Result<Option<LogRow>> {
    db.conn()
        .query_row(
            &format!("SELECT {LOG_COLS} FROM log WHERE id = ?1"),
            [id],
            log_row,
        )
        .optional()
        .map_err(sql)
}
