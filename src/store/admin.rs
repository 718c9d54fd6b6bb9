//! The admin tables: variables, connections and pools (with their slot counts from
//! `task_instance`).
//!
//! Values arrive here already encrypted (`secrets`): this module stores and returns text and
//! never sees a key. Lists take a [`Filter`] over a table's fields, an order and a page.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::filter::{Fields, Filter, Order, Page, Where, order_sql};
use super::{Db, Result, Tx, sql};

/// The pool every task uses unless it names another; it cannot be deleted.
pub const DEFAULT_POOL: &str = "default_pool";

/// A stored variable (`val` is ciphertext when `is_encrypted`).
#[derive(Debug, Clone)]
pub struct VariableRow {
    pub key: String,
    pub val: String,
    pub description: Option<String>,
    pub is_encrypted: bool,
}

/// A stored connection (`password` and `extra` are ciphertext).
#[derive(Debug, Clone, Default)]
pub struct ConnectionRow {
    pub conn_id: String,
    pub conn_type: String,
    pub description: Option<String>,
    pub host: Option<String>,
    pub schema: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub port: Option<i64>,
    pub extra: Option<String>,
}

/// A pool and the slots its task instances take, by state.
#[derive(Debug, Clone)]
pub struct PoolRow {
    pub pool: String,
    pub slots: i64,
    pub description: Option<String>,
    pub include_deferred: bool,
    pub running: i64,
    pub queued: i64,
    pub scheduled: i64,
    pub deferred: i64,
}

/// What a list selects: columns, the `FROM` clause, its fields and the column that breaks ties.
pub(in crate::store) struct Table {
    pub cols: &'static str,
    pub from: &'static str,
    pub fields: Fields,
    pub tiebreak: &'static str,
}

/// One page of `SELECT cols FROM from WHERE filter ORDER BY order` and the total count.
pub(in crate::store) fn page<T>(
    c: &Connection,
    t: &Table,
    filter: &Filter,
    order: &Order,
    (limit, offset): Page,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<(Vec<T>, i64)> {
    let (cols, from, tiebreak) = (t.cols, t.from, t.tiebreak);
    let wh = Where::of(filter, &t.fields)?;
    let cond = wh.sql();
    let total: i64 = c
        .prepare_cached(&format!("SELECT COUNT(*) FROM {from} WHERE {cond}"))
        .and_then(|mut s| s.query_row(params_from_iter(wh.args.iter()), |r| r.get(0)))
        .map_err(sql)?;
    let mut by = order_sql(order, &t.fields)?;
    by.push(tiebreak.to_string());
    let mut args: Vec<Sql> = wh.args.clone();
    args.push(Sql::Integer(limit));
    args.push(Sql::Integer(offset));
    let n = args.len();
    let q = format!(
        "SELECT {cols} FROM {from} WHERE {cond} ORDER BY {} LIMIT ?{} OFFSET ?{n}",
        by.join(", "),
        n - 1
    );
    let mut stmt = c.prepare_cached(&q).map_err(sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| map(r))
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<T>>>()
        .map_err(sql)?;
    Ok((rows, total))
}

// --- variables -------------------------------------------------------------------------

const VAR_COLS: &str = "key, val, description, is_encrypted";

fn var_row(r: &Row<'_>) -> rusqlite::Result<VariableRow> {
    Ok(VariableRow {
        key: r.get(0)?,
        val: r.get(1)?,
        description: r.get(2)?,
        is_encrypted: r.get::<_, i64>(3)? != 0,
    })
}

/// The fields a variable list filters and orders on.
pub const VARIABLE_FIELDS: Fields = Fields(&[
    ("key", "key"),
    ("id", "rowid"),
    ("val", "val"),
    ("description", "description"),
    ("is_encrypted", "is_encrypted"),
]);

/// Variables matching `filter`, ordered and paged, and the total.
pub fn list_variables(
    db: &Db<'_>,
    filter: &Filter,
    order: &Order,
    page_: Page,
) -> Result<(Vec<VariableRow>, i64)> {
    let t = Table {
        cols: VAR_COLS,
        from: "variable",
        fields: VARIABLE_FIELDS,
        tiebreak: "rowid",
    };
    page(db.conn(), &t, filter, order, page_, var_row)
}

/// Every variable, by key.
pub fn all_variables(db: &Db<'_>) -> Result<Vec<VariableRow>> {
    let mut s = db
        .conn()
        .prepare_cached(&format!("SELECT {VAR_COLS} FROM variable ORDER BY key"))
        .map_err(sql)?;
    s.query_map([], var_row)
        .map_err(sql)?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql)
}

pub fn get_variable(db: &Db<'_>, key: &str) -> Result<Option<VariableRow>> {
    db.conn()
        .query_row(
            &format!("SELECT {VAR_COLS} FROM variable WHERE key = ?1"),
            [key],
            var_row,
        )
        .optional()
        .map_err(sql)
}

/// Inserts or replaces a variable (its value already encrypted).
pub fn put_variable(tx: &Tx<'_>, v: &VariableRow) -> Result<()> {
    tx.conn()
        .execute(
            "INSERT INTO variable(key, val, description, is_encrypted) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET val = excluded.val, description = excluded.description,
           is_encrypted = excluded.is_encrypted",
            params![v.key, v.val, v.description, v.is_encrypted as i64],
        )
        .map_err(sql)?;
    Ok(())
}

/// Deletes a variable; whether it existed.
pub fn delete_variable(tx: &Tx<'_>, key: &str) -> Result<bool> {
    Ok(tx
        .conn()
        .execute("DELETE FROM variable WHERE key = ?1", [key])
        .map_err(sql)?
        > 0)
}

// --- connections -----------------------------------------------------------------------

const CONN_COLS: &str =
    "conn_id, conn_type, description, host, schema, login, password, port, extra";

fn conn_row(r: &Row<'_>) -> rusqlite::Result<ConnectionRow> {
    Ok(ConnectionRow {
        conn_id: r.get(0)?,
        conn_type: r.get(1)?,
        description: r.get(2)?,
        host: r.get(3)?,
        schema: r.get(4)?,
        login: r.get(5)?,
        password: r.get(6)?,
        port: r.get(7)?,
        extra: r.get(8)?,
    })
}

/// The fields a connection list filters and orders on.
pub const CONNECTION_FIELDS: Fields = Fields(&[
    ("conn_id", "conn_id"),
    ("conn_type", "conn_type"),
    ("description", "description"),
    ("host", "host"),
    ("port", "port"),
    ("id", "rowid"),
]);

/// Connections matching `filter`, ordered and paged, and the total.
pub fn list_connections(
    db: &Db<'_>,
    filter: &Filter,
    order: &Order,
    page_: Page,
) -> Result<(Vec<ConnectionRow>, i64)> {
    let t = Table {
        cols: CONN_COLS,
        from: "connection",
        fields: CONNECTION_FIELDS,
        tiebreak: "rowid",
    };
    page(db.conn(), &t, filter, order, page_, conn_row)
}

/// Every connection, by id.
pub fn all_connections(db: &Db<'_>) -> Result<Vec<ConnectionRow>> {
    let mut s = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {CONN_COLS} FROM connection ORDER BY conn_id"
        ))
        .map_err(sql)?;
    s.query_map([], conn_row)
        .map_err(sql)?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql)
}

pub fn get_connection(db: &Db<'_>, conn_id: &str) -> Result<Option<ConnectionRow>> {
    db.conn()
        .query_row(
            &format!("SELECT {CONN_COLS} FROM connection WHERE conn_id = ?1"),
            [conn_id],
            conn_row,
        )
        .optional()
        .map_err(sql)
}

/// Inserts or replaces a connection (password and extra already encrypted).
pub fn put_connection(tx: &Tx<'_>, c: &ConnectionRow) -> Result<()> {
    tx.conn().execute(
        "INSERT INTO connection(conn_id, conn_type, description, host, schema, login, password, port, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(conn_id) DO UPDATE SET conn_type = excluded.conn_type,
           description = excluded.description, host = excluded.host, schema = excluded.schema,
           login = excluded.login, password = excluded.password, port = excluded.port,
           extra = excluded.extra",
        params![
            c.conn_id,
            c.conn_type,
            c.description,
            c.host,
            c.schema,
            c.login,
            c.password,
            c.port,
            c.extra
        ],
    )
    .map_err(sql)?;
    Ok(())
}

/// Deletes a connection; whether it existed.
pub fn delete_connection(tx: &Tx<'_>, conn_id: &str) -> Result<bool> {
    Ok(tx
        .conn()
        .execute("DELETE FROM connection WHERE conn_id = ?1", [conn_id])
        .map_err(sql)?
        > 0)
}

// --- pools -----------------------------------------------------------------------------

/// Pools joined with the slots of their task instances by state (alias `p`).
const POOL_FROM: &str = "slot_pool p LEFT JOIN (
      SELECT pool,
        SUM(CASE WHEN state = 'running' THEN pool_slots ELSE 0 END) AS running,
        SUM(CASE WHEN state = 'queued' THEN pool_slots ELSE 0 END) AS queued,
        SUM(CASE WHEN state = 'scheduled' THEN pool_slots ELSE 0 END) AS scheduled,
        SUM(CASE WHEN state = 'deferred' THEN pool_slots ELSE 0 END) AS deferred
      FROM task_instance WHERE state IN ('running', 'queued', 'scheduled', 'deferred')
      GROUP BY pool) t ON t.pool = p.pool";
const POOL_COLS: &str =
    "p.pool, p.slots, p.description, p.include_deferred, COALESCE(t.running, 0),
    COALESCE(t.queued, 0), COALESCE(t.scheduled, 0), COALESCE(t.deferred, 0)";

fn pool_row(r: &Row<'_>) -> rusqlite::Result<PoolRow> {
    Ok(PoolRow {
        pool: r.get(0)?,
        slots: r.get(1)?,
        description: r.get(2)?,
        include_deferred: r.get::<_, i64>(3)? != 0,
        running: r.get(4)?,
        queued: r.get(5)?,
        scheduled: r.get(6)?,
        deferred: r.get(7)?,
    })
}

/// The fields a pool list filters and orders on.
pub const POOL_FIELDS: Fields = Fields(&[("id", "p.rowid"), ("pool", "p.pool")]);

/// Pools matching `filter`, ordered and paged, and the total.
pub fn list_pools(
    db: &Db<'_>,
    filter: &Filter,
    order: &Order,
    page_: Page,
) -> Result<(Vec<PoolRow>, i64)> {
    let t = Table {
        cols: POOL_COLS,
        from: POOL_FROM,
        fields: POOL_FIELDS,
        tiebreak: "p.rowid",
    };
    page(db.conn(), &t, filter, order, page_, pool_row)
}

pub fn get_pool(db: &Db<'_>, name: &str) -> Result<Option<PoolRow>> {
    db.conn()
        .query_row(
            &format!("SELECT {POOL_COLS} FROM {POOL_FROM} WHERE p.pool = ?1"),
            [name],
            pool_row,
        )
        .optional()
        .map_err(sql)
}

/// Inserts or replaces a pool's settings.
pub fn put_pool(
    tx: &Tx<'_>,
    name: &str,
    slots: i64,
    description: Option<&str>,
    include_deferred: bool,
) -> Result<()> {
    tx.conn().execute(
        "INSERT INTO slot_pool(pool, slots, description, include_deferred) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(pool) DO UPDATE SET slots = excluded.slots,
           description = excluded.description, include_deferred = excluded.include_deferred",
        params![name, slots, description, include_deferred as i64],
    )
    .map_err(sql)?;
    Ok(())
}

/// Deletes a pool; whether it existed.
pub fn delete_pool(tx: &Tx<'_>, name: &str) -> Result<bool> {
    Ok(tx
        .conn()
        .execute("DELETE FROM slot_pool WHERE pool = ?1", [name])
        .map_err(sql)?
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn pool_counts_sum_slots_by_state_and_lists_page() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("leoflow.db")).unwrap();
        s.write_sync(|tx| -> Result<()> {
            put_pool(tx, "p1", 4, Some("d"), false)?;
            put_pool(tx, "p2", -1, None, true)?;
            Ok(())
        })
        .unwrap();
        let (pools, total) = s
            .read_sync(|c| list_pools(c, &Filter::default(), &vec![("pool", true)], (2, 0)))
            .unwrap();
        assert_eq!(total, 3);
        assert_eq!(
            pools.iter().map(|p| p.pool.as_str()).collect::<Vec<_>>(),
            ["p2", "p1"]
        );
        let p = s.read_sync(|c| get_pool(c, DEFAULT_POOL)).unwrap().unwrap();
        assert_eq!((p.slots, p.running, p.queued), (128, 0, 0));
    }
}
