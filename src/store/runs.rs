//! Queries over `dag_run`.

use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::Value;

use super::{Result, StoreError};

fn sql(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: Default::default(),
        err: e,
    }
}

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
}

/// Runs matching `f`, and the total before paging.
pub fn list(conn: &Connection, f: &RunFilter) -> Result<(Vec<RunRow>, i64)> {
    let mut wh = vec!["1 = 1".to_string()];
    let mut args: Vec<String> = Vec::new();
    let push = |args: &mut Vec<String>, v: &str| {
        args.push(v.to_string());
        format!("?{}", args.len())
    };
    if let Some(d) = &f.dag_id {
        let p = push(&mut args, d);
        wh.push(format!("r.dag_id = {p}"));
    }
    for (col, values) in [("r.state", &f.states), ("r.run_type", &f.run_types)] {
        if !values.is_empty() {
            let list: Vec<String> = values.iter().map(|v| push(&mut args, v)).collect();
            wh.push(format!("{col} IN ({})", list.join(",")));
        }
    }
    for (col, op, v) in &f.ranges {
        let p = push(&mut args, v);
        wh.push(format!("{col} {op} {p}"));
    }
    let where_ = wh.join(" AND ");
    let total: i64 = conn
        .query_row(
            &format!("SELECT COUNT(*) FROM dag_run r WHERE {where_}"),
            params_from_iter(args.iter()),
            |r| r.get(0),
        )
        .map_err(sql)?;
    let (col, desc) = f.order_by.unwrap_or(("r.id", false));
    let q = format!(
        "SELECT {COLUMNS} FROM dag_run r LEFT JOIN dag_version v ON v.id = r.dag_version_id
         WHERE {where_} ORDER BY {col} {}, r.id LIMIT {} OFFSET {}",
        if desc { "DESC" } else { "ASC" },
        f.limit.max(0),
        f.offset.max(0)
    );
    let mut stmt = conn.prepare(&q).map_err(sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), row)
        .map_err(sql)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql)?;
    Ok((rows, total))
}

/// One run.
pub fn get(conn: &Connection, dag_id: &str, run_id: &str) -> Result<Option<RunRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM dag_run r LEFT JOIN dag_version v ON v.id = r.dag_version_id WHERE r.dag_id = ?1 AND r.run_id = ?2"),
        [dag_id, run_id],
        row,
    )
    .optional()
    .map_err(sql)
}
