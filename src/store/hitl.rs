//! Queries over `hitl_detail`: what a Human-in-the-loop task try asks a person (subject, body,
//! options, defaults, params, assignees, its response deadline) and the answer it got. One row
//! per task instance try (`ti_id`, `try_number`); the current try's row is the task
//! instance's detail, earlier ones are its history.

use rusqlite::{OptionalExtension, params, params_from_iter};
use serde_json::Value;

use super::filter::{Fields, Filter, Order, Where, order_sql};
use super::{Db, Result, Tx, sql};

/// A row of `hitl_detail`.
#[derive(Debug, Clone, PartialEq)]
pub struct HitlRow {
    pub ti_id: String,
    pub try_number: i64,
    /// JSON list of strings.
    pub options: Value,
    pub subject: String,
    pub body: Option<String>,
    pub defaults: Option<Value>,
    pub multiple: bool,
    /// `{name: {value, description, schema}}`.
    pub params: Value,
    /// `[{id, name}]`; `None`: anyone may answer.
    pub assignees: Option<Value>,
    pub created_at: String,
    pub timeout_at: Option<String>,
    pub responded_at: Option<String>,
    /// `{id, name}`; `None` when unanswered or answered by the timeout's defaults.
    pub responded_by: Option<Value>,
    pub chosen_options: Option<Value>,
    pub params_input: Value,
}

const COLUMNS: &str = "h.ti_id, h.try_number, h.options, h.subject, h.body, h.defaults, h.multiple,
    h.params, h.assignees, h.created_at, h.timeout_at, h.responded_at, h.responded_by,
    h.chosen_options, h.params_input";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HitlRow> {
    super::from_row!(HitlRow from r;
        ti_id, try_number, options, subject, body, defaults, multiple, params, assignees,
        created_at, timeout_at, responded_at, responded_by, chosen_options, params_input
    )
}

/// Records what a try asks (replacing an earlier request of the same try, unanswered).
pub fn create(tx: &Tx<'_>, h: &HitlRow) -> Result<()> {
    tx.conn()
        .execute(
            "INSERT OR REPLACE INTO hitl_detail(ti_id, try_number, options, subject, body, defaults,
                 multiple, params, assignees, created_at, timeout_at, responded_at, responded_by,
                 chosen_options, params_input)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                h.ti_id,
                h.try_number,
                h.options,
                h.subject,
                h.body,
                h.defaults,
                h.multiple,
                h.params,
                h.assignees,
                h.created_at,
                h.timeout_at,
                h.responded_at,
                h.responded_by,
                h.chosen_options,
                h.params_input,
            ],
        )
        .map_err(sql)?;
    Ok(())
}

/// The detail of one try of a task instance.
pub fn get(db: &Db<'_>, ti_id: &str, try_number: i64) -> Result<Option<HitlRow>> {
    db.conn()
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM hitl_detail h WHERE h.ti_id = ?1 AND h.try_number = ?2"
            ),
            params![ti_id, try_number],
            row,
        )
        .optional()
        .map_err(sql)
}

/// An answer: who (`None` for a timeout's defaults), when, the options and the params.
pub struct Answer<'a> {
    pub at: &'a str,
    pub by: Option<&'a Value>,
    pub chosen_options: &'a Value,
    pub params_input: &'a Value,
}

/// Records the answer to an unanswered detail; `false` when it was already answered.
pub fn respond(tx: &Tx<'_>, ti_id: &str, try_number: i64, a: &Answer<'_>) -> Result<bool> {
    let n = tx
        .conn()
        .execute(
            "UPDATE hitl_detail SET responded_at = ?3, responded_by = ?4, chosen_options = ?5,
                 params_input = ?6
             WHERE ti_id = ?1 AND try_number = ?2 AND responded_at IS NULL",
            params![
                ti_id,
                try_number,
                a.at,
                a.by,
                a.chosen_options,
                a.params_input
            ],
        )
        .map_err(sql)?;
    Ok(n == 1)
}

/// Unanswered details of deferred task instances whose deadline is at or before `now`.
pub fn timed_out(db: &Db<'_>, now: &str) -> Result<Vec<HitlRow>> {
    let mut st = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM hitl_detail h JOIN task_instance ti ON ti.id = h.ti_id
             WHERE h.responded_at IS NULL AND h.timeout_at IS NOT NULL AND h.timeout_at <= ?1
               AND ti.try_number = h.try_number AND ti.state = 'deferred'"
        ))
        .map_err(sql)?;
    st.query_map([now], row)
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// The earliest deadline of an unanswered detail of a deferred task instance.
pub fn next_timeout(db: &Db<'_>) -> Result<Option<String>> {
    db.conn()
        .query_row(
            "SELECT MIN(h.timeout_at) FROM hitl_detail h JOIN task_instance ti ON ti.id = h.ti_id
             WHERE h.responded_at IS NULL AND ti.try_number = h.try_number AND ti.state = 'deferred'",
            [],
            |r| r.get(0),
        )
        .map_err(sql)
}

/// The fields a detail list filters and orders on (over `hitl_detail h` joined with its task
/// instance `ti` and run `r`).
pub const FIELDS: Fields = Fields(&[
    ("ti_id", "h.ti_id"),
    ("subject", "h.subject"),
    ("body", "COALESCE(h.body, '')"),
    ("created_at", "h.created_at"),
    ("responded_at", "h.responded_at"),
    ("response_received", "(h.responded_at IS NOT NULL)"),
    (
        "responded_by_user_id",
        "json_extract(h.responded_by, '$.id')",
    ),
    (
        "responded_by_user_name",
        "json_extract(h.responded_by, '$.name')",
    ),
    ("dag_id", "ti.dag_id"),
    ("run_id", "ti.run_id"),
    ("task_id", "ti.task_id"),
    ("map_index", "ti.map_index"),
    ("state", "COALESCE(ti.state, 'no_status')"),
    ("operator", "ti.operator"),
    ("run_after", "r.run_after"),
]);

/// A page of the current tries' details matching `filter`, ordered (default: by task instance
/// id), and the total before paging.
pub fn list(
    db: &Db<'_>,
    filter: &Filter,
    order: &Order,
    limit: i64,
    offset: i64,
) -> Result<(Vec<HitlRow>, i64)> {
    let wh = Where::of(filter, &FIELDS)?;
    let from =
        "hitl_detail h JOIN task_instance ti ON ti.id = h.ti_id AND ti.try_number = h.try_number
        JOIN dag_run r ON r.dag_id = ti.dag_id AND r.run_id = ti.run_id";
    let where_ = wh.sql();
    let conn = db.conn();
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM {from} WHERE {where_}"))
        .and_then(|mut s| s.query_row(params_from_iter(wh.args.iter()), |r| r.get(0)))
        .map_err(sql)?;
    let mut order = order_sql(order, &FIELDS)?;
    order.push("h.ti_id".into());
    let q = format!(
        "SELECT {COLUMNS} FROM {from} WHERE {where_} ORDER BY {} LIMIT {} OFFSET {}",
        order.join(", "),
        limit.max(0),
        offset.max(0)
    );
    let rows = conn
        .prepare_cached(&q)
        .map_err(sql)?
        .query_map(params_from_iter(wh.args.iter()), row)
        .map_err(sql)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql)?;
    Ok((rows, total))
}
