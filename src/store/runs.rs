//! Queries over `dag_run`.

use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::Value;

use super::{Result, StoreError, sql};

/// A row of `dag_run` with its version.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub dag_id: String,
    pub run_id: String,
    pub dag_version_id: String,
    pub version_number: Option<i64>,
    pub version_created_at: Option<String>,
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

const COLUMNS: &str = "r.dag_id, r.run_id, r.dag_version_id, v.version_number, v.created_at, r.run_type, r.state,
    r.logical_date, r.run_after, r.data_interval_start, r.data_interval_end, r.queued_at, r.start_date,
    r.end_date, r.conf, r.note, r.triggered_by, r.triggering_user_name, r.last_scheduling_decision";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    let conf: String = r.get(14)?;
    Ok(RunRow {
        dag_id: r.get(0)?,
        run_id: r.get(1)?,
        dag_version_id: r.get(2)?,
        version_number: r.get(3)?,
        version_created_at: r.get(4)?,
        run_type: r.get(5)?,
        state: r.get(6)?,
        logical_date: r.get(7)?,
        run_after: r.get(8)?,
        data_interval_start: r.get(9)?,
        data_interval_end: r.get(10)?,
        queued_at: r.get(11)?,
        start_date: r.get(12)?,
        end_date: r.get(13)?,
        conf: serde_json::from_str(&conf).unwrap_or(Value::Object(Default::default())),
        note: r.get(15)?,
        triggered_by: r.get(16)?,
        triggering_user_name: r.get(17)?,
        last_scheduling_decision: r.get(18)?,
    })
}

/// Filters for [`list`], as the Airflow API names them.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// `None` for every DAG (`~`).
    pub dag_id: Option<String>,
    pub states: Vec<String>,
    pub run_types: Vec<String>,
    /// `(column, operator, value)` range filters on timestamps, e.g. `("r.run_after", ">=", ..)`.
    pub ranges: Vec<(&'static str, &'static str, String)>,
    pub order_by: Option<(&'static str, bool)>,
    pub limit: i64,
    pub offset: i64,
    /// More conditions over `dag_run r` (patterns, id lists), ANDed with the above.
    pub extra: Where,
}

/// Runs matching `f`, and the total before paging.
pub fn list(conn: &Connection, f: &RunFilter) -> Result<(Vec<RunRow>, i64)> {
    let mut wh = f.extra.clone();
    if let Some(d) = &f.dag_id {
        wh.eq("r.dag_id", d.clone());
    }
    wh.any_of("r.state", &f.states);
    wh.any_of("r.run_type", &f.run_types);
    for (col, op, v) in &f.ranges {
        let p = wh.arg(v.clone());
        wh.raw(format!("{col} {op} {p}"));
    }
    let where_ = wh.sql();
    let args = wh.args;
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM dag_run r WHERE {where_}"))
        .and_then(|mut s| s.query_row(params_from_iter(args.iter()), |r| r.get(0)))
        .map_err(sql)?;
    let (col, desc) = f.order_by.unwrap_or(("r.id", false));
    let q = format!(
        "SELECT {COLUMNS} FROM dag_run r LEFT JOIN dag_version v ON v.id = r.dag_version_id
         WHERE {where_} ORDER BY {col} {}, r.id LIMIT {} OFFSET {}",
        if desc { "DESC" } else { "ASC" },
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
pub fn get(conn: &Connection, dag_id: &str, run_id: &str) -> Result<Option<RunRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM dag_run r LEFT JOIN dag_version v ON v.id = r.dag_version_id WHERE r.dag_id = ?1 AND r.run_id = ?2"))
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
pub fn create(
    tx: &rusqlite::Transaction<'_>,
    new: &NewRun,
) -> std::result::Result<RunRow, CreateRunError> {
    let Some(row) = super::dags::get_dag(tx, &new.dag_id)? else {
        return Err(CreateRunError::NoDag(new.dag_id.clone()));
    };
    let version = row
        .latest_version_id
        .clone()
        .ok_or_else(|| CreateRunError::NoDag(new.dag_id.clone()))?;
    let exists: bool = tx
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
    tx.execute(
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
        tx.execute(
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
    let rendered: String = r.get(20)?;
    Ok(TiRow {
        id: r.get(0)?,
        dag_id: r.get(1)?,
        run_id: r.get(2)?,
        task_id: r.get(3)?,
        map_index: r.get(4)?,
        try_number: r.get(5)?,
        max_tries: r.get(6)?,
        state: r.get(7)?,
        start_date: r.get(8)?,
        end_date: r.get(9)?,
        duration: r.get(10)?,
        queued_dttm: r.get(11)?,
        scheduled_dttm: r.get(12)?,
        next_retry_at: r.get(13)?,
        pid: r.get(14)?,
        operator: r.get(15)?,
        pool: r.get(16)?,
        pool_slots: r.get(17)?,
        priority_weight: r.get(18)?,
        dag_version_id: r.get(19)?,
        rendered_fields: serde_json::from_str(&rendered)
            .unwrap_or(Value::Object(Default::default())),
        note: r.get(21)?,
        error: r.get(22)?,
    })
}

/// Task instances matching a SQL condition over `task_instance` (with `?N` parameters).
pub fn tis_where(
    conn: &Connection,
    cond: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<TiRow>> {
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

/// Every task instance of a run, by task id then map index.
pub fn tis_of_run(conn: &Connection, dag_id: &str, run_id: &str) -> Result<Vec<TiRow>> {
    tis_where(
        conn,
        "dag_id = ?1 AND run_id = ?2 ORDER BY task_id, map_index",
        &[&dag_id, &run_id],
    )
}

/// Resets task instances so they run again (state none, retries restart), puts their runs
/// back to queued, and returns the cleared rows as they were.
pub fn clear(
    tx: &rusqlite::Transaction<'_>,
    tis: &[TiRow],
    retries: &dyn Fn(&TiRow) -> i64,
) -> Result<()> {
    clear_with(tx, tis, retries, true)
}

/// [`clear`], leaving the runs' states alone unless `reset_runs` (Airflow's `reset_dag_runs`).
pub fn clear_with(
    tx: &rusqlite::Transaction<'_>,
    tis: &[TiRow],
    retries: &dyn Fn(&TiRow) -> i64,
    reset_runs: bool,
) -> Result<()> {
    let mut runs = std::collections::BTreeSet::new();
    for ti in tis {
        tx.execute(
            "UPDATE task_instance SET state = NULL, start_date = NULL, end_date = NULL, duration = NULL,
                 next_retry_at = NULL, error = NULL, pid = NULL, max_tries = try_number + ?2
             WHERE id = ?1",
            rusqlite::params![ti.id, retries(ti)],
        )
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

/// Sets task instances' state by hand (mark success / failed).
pub fn set_ti_state(tx: &rusqlite::Transaction<'_>, tis: &[TiRow], state: &str) -> Result<()> {
    let now = super::now();
    for ti in tis {
        tx.execute(
            "UPDATE task_instance SET state = ?2, end_date = ?3, start_date = COALESCE(start_date, ?3), next_retry_at = NULL WHERE id = ?1",
            rusqlite::params![ti.id, state, now],
        )
        .map_err(sql)?;
    }
    Ok(())
}

/// Marks a run success or failed as Airflow does: unfinished task instances become success
/// (mark success) or failed when running and skipped otherwise (mark failed).
pub fn set_run_state(
    tx: &rusqlite::Transaction<'_>,
    dag_id: &str,
    run_id: &str,
    state: &str,
) -> Result<Vec<TiRow>> {
    let now = super::now();
    let open = tis_where(
        tx,
        "dag_id = ?1 AND run_id = ?2 AND (state IS NULL OR state NOT IN ('success', 'failed', 'skipped', 'upstream_failed', 'removed'))",
        &[&dag_id, &run_id],
    )?;
    for ti in &open {
        let new = match (state, ti.state.as_deref()) {
            ("success", _) => "success",
            (_, Some("running") | Some("queued")) => "failed",
            _ => "skipped",
        };
        tx.execute(
            "UPDATE task_instance SET state = ?2, end_date = ?3, next_retry_at = NULL WHERE id = ?1",
            rusqlite::params![ti.id, new, now],
        )
        .map_err(sql)?;
    }
    tx.execute(
        "UPDATE dag_run SET state = ?3, end_date = ?4 WHERE dag_id = ?1 AND run_id = ?2",
        rusqlite::params![dag_id, run_id, state, now],
    )
    .map_err(sql)?;
    Ok(open)
}

/// Deletes a run and its task instances; `false` when it does not exist.
pub fn delete(tx: &rusqlite::Transaction<'_>, dag_id: &str, run_id: &str) -> Result<bool> {
    Ok(tx
        .execute(
            "DELETE FROM dag_run WHERE dag_id = ?1 AND run_id = ?2",
            [dag_id, run_id],
        )
        .map_err(sql)?
        > 0)
}

/// A `WHERE` clause built from API filters: SQL fragments and their positional arguments.
/// Column names always come from the caller's whitelist, never from the request.
#[derive(Debug, Clone, Default)]
pub struct Where {
    pub clauses: Vec<String>,
    pub args: Vec<rusqlite::types::Value>,
}

impl Where {
    /// Adds `arg` and returns its placeholder (`?N`).
    pub fn arg(&mut self, v: impl Into<rusqlite::types::Value>) -> String {
        self.args.push(v.into());
        format!("?{}", self.args.len())
    }

    /// A raw condition (no arguments).
    pub fn raw(&mut self, cond: impl Into<String>) {
        self.clauses.push(cond.into());
    }

    /// `col = v`.
    pub fn eq(&mut self, col: &str, v: impl Into<rusqlite::types::Value>) {
        let p = self.arg(v);
        self.clauses.push(format!("{col} = {p}"));
    }

    /// `col IN (values)`; the literal `none` (or `no_status`) also matches NULL, as Airflow's
    /// state filters do. Nothing when `values` is empty.
    pub fn any_of(&mut self, col: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let null = values.iter().any(|v| v == "none" || v == "no_status");
        let list: Vec<String> = values
            .iter()
            .filter(|v| *v != "none" && *v != "no_status")
            .map(|v| self.arg(v.clone()))
            .collect();
        let mut parts = Vec::new();
        if !list.is_empty() {
            parts.push(format!("{col} IN ({})", list.join(",")));
        }
        if null {
            parts.push(format!("{col} IS NULL"));
        }
        self.clauses.push(format!("({})", parts.join(" OR ")));
    }

    /// Airflow's `*_pattern`: `LIKE '%term%'` (case-insensitive, `%`/`_` are wildcards), terms
    /// separated by `|` are ORed, `~` matches everything.
    pub fn like(&mut self, col: &str, pattern: &str) {
        self.any_term(pattern, |w, t| {
            format!("{col} LIKE {}", w.arg(format!("%{t}%")))
        });
    }

    /// Airflow's `*_prefix_pattern`: starts with the term (case-sensitive, wildcards literal),
    /// `|` ORs terms, `~` matches everything.
    pub fn prefix(&mut self, col: &str, pattern: &str) {
        self.any_term(pattern, |w, t| {
            let p = w.arg(t.to_string());
            format!("substr({col}, 1, length({p})) = {p}")
        });
    }

    /// ORs `cond` over the `|`-separated terms of `pattern`; nothing for `~` or no term.
    fn any_term(&mut self, pattern: &str, cond: impl Fn(&mut Where, &str) -> String) {
        let terms: Vec<&str> = pattern
            .split('|')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        if terms.is_empty() || terms.contains(&"~") {
            return;
        }
        let parts: Vec<String> = terms.iter().map(|t| cond(self, t)).collect();
        self.clauses.push(format!("({})", parts.join(" OR ")));
    }

    /// The clause (`1 = 1` when empty).
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "1 = 1".into()
        } else {
            self.clauses.join(" AND ")
        }
    }
}

/// A task instance with what its JSON needs from its run and version.
#[derive(Debug, Clone)]
pub struct TiListRow {
    pub ti: TiRow,
    pub logical_date: Option<String>,
    pub run_after: String,
    pub version_number: Option<i64>,
    pub version_created_at: Option<String>,
}

const TI_JOIN_COLUMNS: &str = "t.id, t.dag_id, t.run_id, t.task_id, t.map_index, t.try_number, t.max_tries, t.state,
    t.start_date, t.end_date, t.duration, t.queued_dttm, t.scheduled_dttm, t.next_retry_at, t.pid, t.operator,
    t.pool, t.pool_slots, t.priority_weight, t.dag_version_id, t.rendered_fields, t.note, t.error,
    r.logical_date, r.run_after, v.version_number, v.created_at";

/// Task instances (joined with their run `r` and version `v`) matching `wh`, ordered by
/// `order` (a whitelisted column and direction; default run, task, map index: within
/// `one_run`, task and map index, which the unique index serves), and the total.
pub fn list_tis(
    conn: &Connection,
    wh: &Where,
    order: Option<(&'static str, bool)>,
    one_run: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<TiListRow>, i64)> {
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
    let tail = if one_run {
        "t.dag_id, t.run_id, t.task_id, t.map_index"
    } else {
        "r.id, t.task_id, t.map_index"
    };
    let order = match order {
        Some((col, desc)) => format!("{col} {}, {tail}", if desc { "DESC" } else { "ASC" }),
        None => tail.to_string(),
    };
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
pub fn tries(conn: &Connection, ti_id: &str) -> Result<Vec<TryRow>> {
    let mut stmt = conn
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
pub fn delete_ti(tx: &rusqlite::Transaction<'_>, ti_id: &str) -> Result<bool> {
    Ok(tx
        .execute("DELETE FROM task_instance WHERE id = ?1", [ti_id])
        .map_err(sql)?
        > 0)
}

/// Run counts per DAG and state for `dag_ids` (every DAG when empty): `(dag_id, state, n)`.
pub fn run_stats(conn: &Connection, dag_ids: &[String]) -> Result<Vec<(String, String, i64)>> {
    let mut wh = Where::default();
    wh.any_of("dag_id", dag_ids);
    let mut stmt = conn
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

    #[test]
    fn patterns_or_their_terms_and_tilde_matches_all() {
        let mut w = Where::default();
        w.like("d.dag_id", "a | b");
        w.prefix("d.dag_id", "~");
        assert_eq!(w.sql(), "(d.dag_id LIKE ?1 OR d.dag_id LIKE ?2)");
        assert_eq!(w.args.len(), 2);
    }
}
