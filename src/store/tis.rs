//! Queries over `task_instance` and its tries (`task_instance_history`): one instance, a
//! run's instances, the filtered list, clear, mark, note, delete.

use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::Value;

use super::filter::{Fields, Filter, Order, Where, order_sql};
use super::{Db, Result, Tx, sql};

/// A row of `task_instance`.
#[derive(Debug, Clone)]
pub struct TiRow {
    pub id: String,
    pub dag_id: String,
    pub run_id: String,
    pub task_id: String,
    pub map_index: i64,
    pub try_number: i64,
    pub max_tries: i64,
    pub state: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub duration: Option<f64>,
    pub queued_dttm: Option<String>,
    pub scheduled_dttm: Option<String>,
    pub next_retry_at: Option<String>,
    pub pid: Option<i64>,
    pub operator: Option<String>,
    pub pool: String,
    pub pool_slots: i64,
    pub priority_weight: i64,
    pub dag_version_id: Option<String>,
    pub rendered_fields: Value,
    pub note: Option<String>,
    pub error: Option<String>,
}

const TI_COLUMNS: &str = "id, dag_id, run_id, task_id, map_index, try_number, max_tries, state, start_date, end_date,
    duration, queued_dttm, scheduled_dttm, next_retry_at, pid, operator, pool, pool_slots, priority_weight,
    dag_version_id, rendered_fields, note, error";

fn ti_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TiRow> {
    super::from_row!(TiRow from r;
        id, dag_id, run_id, task_id, map_index, try_number, max_tries, state, start_date,
        end_date, duration, queued_dttm, scheduled_dttm, next_retry_at, pid, operator, pool,
        pool_slots, priority_weight, dag_version_id, rendered_fields, note, error
    )
}

/// Task instances matching a condition written here (with `?N` parameters).
fn tis_where(conn: &Connection, cond: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<TiRow>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {TI_COLUMNS} FROM task_instance WHERE {cond}"
        ))
        .map_err(sql)?;
    stmt.query_map(args, ti_row)
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// One task instance by its id.
pub fn by_id(db: &Db<'_>, ti_id: &str) -> Result<Option<TiRow>> {
    Ok(tis_where(db.conn(), "id = ?1", &[&ti_id])?
        .into_iter()
        .next())
}

/// One task instance by its key.
pub fn get(
    db: &Db<'_>,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: i64,
) -> Result<Option<TiRow>> {
    Ok(tis_where(
        db.conn(),
        "dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_index = ?4",
        &[&dag_id, &run_id, &task_id, &map_index],
    )?
    .into_iter()
    .next())
}

/// Every task instance of a run, by task id then map index.
pub fn of_run(db: &Db<'_>, dag_id: &str, run_id: &str) -> Result<Vec<TiRow>> {
    tis_where(
        db.conn(),
        "dag_id = ?1 AND run_id = ?2 ORDER BY task_id, map_index",
        &[&dag_id, &run_id],
    )
}

/// The task instances of a run that have not finished.
pub fn unfinished_of_run(db: &Db<'_>, dag_id: &str, run_id: &str) -> Result<Vec<TiRow>> {
    tis_where(
        db.conn(),
        "dag_id = ?1 AND run_id = ?2 AND (state IS NULL OR state NOT IN ('success', 'failed', 'skipped', 'upstream_failed', 'removed'))",
        &[&dag_id, &run_id],
    )
}

/// Every queued or running task instance (of every DAG).
pub fn active(db: &Db<'_>) -> Result<Vec<TiRow>> {
    tis_where(db.conn(), "state IN ('queued', 'running')", &[])
}

/// Whether a DAG has a queued or running task instance.
pub fn any_active_in_dag(db: &Db<'_>, dag_id: &str) -> Result<bool> {
    db.conn()
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM task_instance WHERE dag_id = ?1 AND state IN ('running', 'queued'))",
            [dag_id],
            |r| r.get(0),
        )
        .map_err(sql)
}

/// Whether a task has an instance in the run (`~` for any DAG or run).
pub fn task_exists(db: &Db<'_>, dag_id: &str, run_id: &str, task_id: &str) -> Result<bool> {
    db.conn()
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM task_instance WHERE (?1 = '~' OR dag_id = ?1) AND (?2 = '~' OR run_id = ?2) AND task_id = ?3)",
            [dag_id, run_id, task_id],
            |x| x.get(0),
        )
        .map_err(sql)
}

/// The end date of a task instance (`None` when it has none or does not exist).
pub fn end_date(
    db: &Db<'_>,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: i64,
) -> Result<Option<String>> {
    db.conn()
        .prepare_cached(
            "SELECT end_date FROM task_instance WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_index = ?4",
        )
        .and_then(|mut st| {
            st.query_row(rusqlite::params![dag_id, run_id, task_id, map_index], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()
        })
        .map(Option::flatten)
        .map_err(sql)
}

/// Resets task instances so they run again (state none, `retries(ti)` more tries), and puts
/// their runs back to queued when `reset_runs` (Airflow's `reset_dag_runs`).
pub fn clear(
    tx: &Tx<'_>,
    tis: &[TiRow],
    retries: &dyn Fn(&TiRow) -> i64,
    reset_runs: bool,
) -> Result<()> {
    let tx = tx.conn();
    let mut runs = std::collections::BTreeSet::new();
    for ti in tis {
        tx.execute(
            "UPDATE task_instance SET state = NULL, start_date = NULL, end_date = NULL, duration = NULL,
                 next_retry_at = NULL, error = NULL, pid = NULL, max_tries = try_number + ?2,
                 rescheduled = 0, trigger_wait = NULL
             WHERE id = ?1",
            rusqlite::params![ti.id, retries(ti)],
        )
        .map_err(sql)?;
        // A cleared sensor starts its pokes afresh (Airflow deletes its reschedules).
        tx.execute("DELETE FROM task_reschedule WHERE ti_id = ?1", [&ti.id])
            .map_err(sql)?;
        if reset_runs {
            runs.insert((ti.dag_id.clone(), ti.run_id.clone()));
        }
    }
    for (dag_id, run_id) in runs {
        tx.execute(
            "UPDATE dag_run SET state = 'queued', end_date = NULL, clear_number = clear_number + 1 WHERE dag_id = ?1 AND run_id = ?2",
            [&dag_id, &run_id],
        )
        .map_err(sql)?;
    }
    Ok(())
}

/// Sets task instances' state by hand (mark success / failed / skipped).
pub fn set_state(tx: &Tx<'_>, tis: &[TiRow], state: &str) -> Result<()> {
    let now = super::now();
    for ti in tis {
        tx.conn().execute(
            "UPDATE task_instance SET state = ?2, end_date = ?3, start_date = COALESCE(start_date, ?3), next_retry_at = NULL, rescheduled = 0 WHERE id = ?1",
            rusqlite::params![ti.id, state, now],
        )
        .map_err(sql)?;
    }
    Ok(())
}

/// Leaves only `task_id` to run in a run: it is scheduled, every other instance `removed`
/// (`leoflow tasks test`).
pub fn only_task(tx: &Tx<'_>, dag_id: &str, run_id: &str, task_id: &str) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE task_instance SET state = CASE WHEN task_id = ?3 THEN 'scheduled' ELSE 'removed' END WHERE dag_id = ?1 AND run_id = ?2",
            rusqlite::params![dag_id, run_id, task_id],
        )
        .map_err(sql)?;
    Ok(())
}

/// Sets the note of a task's instances (one map index when given).
pub fn set_note(
    tx: &Tx<'_>,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: Option<i64>,
    note: &str,
) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE task_instance SET note = ?4 WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND (?5 IS NULL OR map_index = ?5)",
            rusqlite::params![dag_id, run_id, task_id, note, map_index],
        )
        .map_err(sql)?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct TiListRow {
    pub ti: TiRow,
    pub logical_date: Option<String>,
    pub run_after: String,
    pub version_number: Option<i64>,
    pub version_created_at: Option<String>,
    pub version_bundle_name: Option<String>,
    pub version_bundle_version: Option<String>,
}

const TI_JOIN_COLUMNS: &str = "t.id, t.dag_id, t.run_id, t.task_id, t.map_index, t.try_number, t.max_tries, t.state,
    t.start_date, t.end_date, t.duration, t.queued_dttm, t.scheduled_dttm, t.next_retry_at, t.pid, t.operator,
    t.pool, t.pool_slots, t.priority_weight, t.dag_version_id, t.rendered_fields, t.note, t.error,
    r.logical_date, r.run_after, v.version_number, v.created_at, v.bundle_name, v.bundle_version";

/// The fields a task-instance list filters and orders on (over `task_instance t`, its run
/// `r` and its version `v`).
pub const FIELDS: Fields = Fields(&[
    ("id", "t.id"),
    ("dag_id", "t.dag_id"),
    ("run_id", "t.run_id"),
    ("task_id", "t.task_id"),
    ("map_index", "t.map_index"),
    ("map_index_text", "CAST(t.map_index AS TEXT)"),
    ("try_number", "t.try_number"),
    ("state", "t.state"),
    ("start_date", "t.start_date"),
    ("end_date", "t.end_date"),
    ("duration", "t.duration"),
    (
        "updated_at",
        "COALESCE(t.end_date, t.start_date, t.queued_dttm)",
    ),
    ("operator", "t.operator"),
    ("pool", "t.pool"),
    ("queue", "t.queue"),
    ("priority_weight", "t.priority_weight"),
    ("logical_date", "r.logical_date"),
    ("run_after", "r.run_after"),
    ("data_interval_start", "r.data_interval_start"),
    ("data_interval_end", "r.data_interval_end"),
    ("version_number", "v.version_number"),
]);

/// What [`list`] selects: a filter over [`FIELDS`], an order, a page, and whether the
/// instances are of one run (a cheaper default order).
#[derive(Debug, Clone, Default)]
pub struct TiFilter {
    pub filter: Filter,
    pub order: Order,
    pub one_run: bool,
    pub limit: i64,
    pub offset: i64,
}

/// Task instances (joined with their run `r` and version `v`) matching `f`, ordered by its
/// order, then (default) run, task, map index (within one run, task and map index, which the
/// unique index serves), and the total.
pub fn list(db: &Db<'_>, f: &TiFilter) -> Result<(Vec<TiListRow>, i64)> {
    let conn = db.conn();
    let wh = Where::of(&f.filter, &FIELDS)?;
    let (limit, offset) = (f.limit, f.offset);
    let from = "task_instance t JOIN dag_run r ON r.dag_id = t.dag_id AND r.run_id = t.run_id
         LEFT JOIN dag_version v ON v.id = t.dag_version_id";
    let cond = wh.sql();
    // Counting needs the run and version only when a condition is about them.
    let count_from = if mentions(&cond, "r") || mentions(&cond, "v") {
        from
    } else {
        "task_instance t"
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM {count_from} WHERE {cond}"))
        .and_then(|mut s| s.query_row(params_from_iter(wh.args.iter()), |r| r.get(0)))
        .map_err(sql)?;
    let tail = if f.one_run {
        "t.dag_id, t.run_id, t.task_id, t.map_index"
    } else {
        "r.id, t.task_id, t.map_index"
    };
    let mut order = order_sql(&f.order, &FIELDS)?;
    order.push(tail.to_string());
    let order = order.join(", ");
    // The page's ids first (narrow rows to sort), then the full rows of those only.
    let q = format!(
        "SELECT {TI_JOIN_COLUMNS} FROM (SELECT t.id AS page_id FROM {from} WHERE {cond} ORDER BY {order}
             LIMIT {} OFFSET {}) p JOIN task_instance t ON t.id = p.page_id
         JOIN dag_run r ON r.dag_id = t.dag_id AND r.run_id = t.run_id
         LEFT JOIN dag_version v ON v.id = t.dag_version_id ORDER BY {order}",
        limit.max(0),
        offset.max(0)
    );
    let mut stmt = conn.prepare_cached(&q).map_err(sql)?;
    let rows = stmt
        .query_map(params_from_iter(wh.args.iter()), |r| {
            Ok(TiListRow {
                ti: ti_row(r)?,
                logical_date: r.get(23)?,
                run_after: r.get(24)?,
                version_number: r.get(25)?,
                version_created_at: r.get(26)?,
                version_bundle_name: r.get(27)?,
                version_bundle_version: r.get(28)?,
            })
        })
        .map_err(sql)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql)?;
    Ok((rows, total))
}

/// Whether SQL `cond` refers to table alias `alias` (`alias.` not preceded by a name char).
fn mentions(cond: &str, alias: &str) -> bool {
    let needle = format!("{alias}.");
    cond.match_indices(&needle).any(|(i, _)| {
        cond[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// One past try of a task instance (`task_instance_history`).
#[derive(Debug, Clone)]
pub struct TryRow {
    pub try_number: i64,
    pub state: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub duration: Option<f64>,
    pub pid: Option<i64>,
}

/// Every recorded try of a task instance, oldest first.
pub fn tries(db: &Db<'_>, ti_id: &str) -> Result<Vec<TryRow>> {
    let mut stmt = db
        .conn()
        .prepare_cached(
            "SELECT try_number, state, start_date, end_date, duration, pid FROM task_instance_history
             WHERE ti_id = ?1 ORDER BY try_number",
        )
        .map_err(sql)?;
    stmt.query_map([ti_id], |r| {
        Ok(TryRow {
            try_number: r.get(0)?,
            state: r.get(1)?,
            start_date: r.get(2)?,
            end_date: r.get(3)?,
            duration: r.get(4)?,
            pid: r.get(5)?,
        })
    })
    .map_err(sql)?
    .collect::<std::result::Result<_, _>>()
    .map_err(sql)
}

/// Deletes one task instance (its history goes with it); `false` when it does not exist.
pub fn delete(tx: &Tx<'_>, ti_id: &str) -> Result<bool> {
    Ok(tx
        .conn()
        .execute("DELETE FROM task_instance WHERE id = ?1", [ti_id])
        .map_err(sql)?
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_finds_an_alias_only_as_a_table_prefix() {
        assert!(mentions("r.run_after >= ?1", "r"));
        assert!(mentions("(t.state IS NULL OR r.state = ?2)", "r"));
        assert!(!mentions("t.dag_id = ?1 AND t.run_id = ?2", "r"));
        assert!(!mentions(
            "COALESCE(t.end_date, t.start_date, t.queued_dttm)",
            "r"
        ));
        assert!(mentions("v.version_number = ?1", "v"));
    }
}
