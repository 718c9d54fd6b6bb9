//! The admin tables — variables, connections and pools (with their slot counts from
//! `task_instance`) — behind one generic interface: an [`AdminRow`] says where its table is
//! and how a row is read and written; [`get`], [`put`], [`delete`], [`list`] and [`all`] work
//! for every kind. The audit log's list shares [`page`].
//!
//! Values arrive here already encrypted (`secrets`): this module stores and returns text and
//! never sees a key. Lists take a [`Filter`] over a table's fields, an order and a page.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};

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
pub struct Table {
    pub(in crate::store) cols: &'static str,
    pub(in crate::store) from: &'static str,
    pub(in crate::store) fields: Fields,
    pub(in crate::store) tiebreak: &'static str,
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

/// A row of an admin table: where it lives and how it is read and written.
pub trait AdminRow: Sized + Send + 'static {
    /// Columns, `FROM`, fields and tie-break of the table's lists.
    #[doc(hidden)]
    const TABLE: Table;
    /// The key column (in `TABLE.from`'s terms) and the table written to.
    #[doc(hidden)]
    const KEY: &'static str;
    #[doc(hidden)]
    const INTO: &'static str;
    /// The `INSERT ... ON CONFLICT DO UPDATE` that stores a row (parameters: [`AdminRow::params`]).
    #[doc(hidden)]
    const UPSERT: &'static str;
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self>;
    fn params(&self) -> Vec<Sql>;
}

/// One row by key.
pub fn get<R: AdminRow>(db: &Db<'_>, key: &str) -> Result<Option<R>> {
    let t = &R::TABLE;
    db.conn()
        .prepare_cached(&format!(
            "SELECT {} FROM {} WHERE {} = ?1",
            t.cols,
            t.from,
            R::KEY
        ))
        .and_then(|mut st| st.query_row([key], R::from_row).optional())
        .map_err(sql)
}

/// Inserts or replaces a row (its secrets already encrypted).
pub fn put<R: AdminRow>(tx: &Tx<'_>, row: &R) -> Result<()> {
    tx.conn()
        .execute(R::UPSERT, params_from_iter(row.params()))
        .map_err(sql)?;
    Ok(())
}

/// Deletes a row; whether it existed.
pub fn delete<R: AdminRow>(tx: &Tx<'_>, key: &str) -> Result<bool> {
    let key_col = R::KEY.rsplit('.').next().unwrap_or(R::KEY);
    Ok(tx
        .conn()
        .execute(
            &format!("DELETE FROM {} WHERE {key_col} = ?1", R::INTO),
            [key],
        )
        .map_err(sql)?
        > 0)
}

/// Rows matching `filter` (over the table's fields), ordered and paged, and the total.
pub fn list<R: AdminRow>(
    db: &Db<'_>,
    filter: &Filter,
    order: &Order,
    page_: Page,
) -> Result<(Vec<R>, i64)> {
    page(db.conn(), &R::TABLE, filter, order, page_, R::from_row)
}

/// Every row, by key.
pub fn all<R: AdminRow>(db: &Db<'_>) -> Result<Vec<R>> {
    let t = &R::TABLE;
    let mut s = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {} FROM {} ORDER BY {}",
            t.cols,
            t.from,
            R::KEY
        ))
        .map_err(sql)?;
    s.query_map([], R::from_row)
        .map_err(sql)?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql)
}

impl AdminRow for VariableRow {
    const TABLE: Table = Table {
        cols: "key, val, description, is_encrypted",
        from: "variable",
        fields: Fields(&[
            ("key", "key"),
            ("id", "rowid"),
            ("val", "val"),
            ("description", "description"),
            ("is_encrypted", "is_encrypted"),
        ]),
        tiebreak: "rowid",
    };
    const KEY: &'static str = "key";
    const INTO: &'static str = "variable";
    const UPSERT: &'static str =
        "INSERT INTO variable(key, val, description, is_encrypted) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET val = excluded.val, description = excluded.description,
           is_encrypted = excluded.is_encrypted";

    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        super::from_row!(VariableRow from r; key, val, description, is_encrypted)
    }

    fn params(&self) -> Vec<Sql> {
        super::to_params!(self; key, val, description, is_encrypted)
    }
}

impl AdminRow for ConnectionRow {
    const TABLE: Table = Table {
        cols: "conn_id, conn_type, description, host, schema, login, password, port, extra",
        from: "connection",
        fields: Fields(&[
            ("conn_id", "conn_id"),
            ("conn_type", "conn_type"),
            ("description", "description"),
            ("host", "host"),
            ("port", "port"),
            ("id", "rowid"),
        ]),
        tiebreak: "rowid",
    };
    const KEY: &'static str = "conn_id";
    const INTO: &'static str = "connection";
    const UPSERT: &'static str = "INSERT INTO connection(conn_id, conn_type, description, host, schema, login, password, port, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(conn_id) DO UPDATE SET conn_type = excluded.conn_type,
           description = excluded.description, host = excluded.host, schema = excluded.schema,
           login = excluded.login, password = excluded.password, port = excluded.port,
           extra = excluded.extra";

    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        super::from_row!(ConnectionRow from r;
            conn_id, conn_type, description, host, schema, login, password, port, extra
        )
    }

    fn params(&self) -> Vec<Sql> {
        super::to_params!(self;
            conn_id, conn_type, description, host, schema, login, password, port, extra
        )
    }
}

impl AdminRow for PoolRow {
    /// Pools joined with the slots of their task instances by state.
    const TABLE: Table = Table {
        cols: "p.pool, p.slots, p.description, p.include_deferred, COALESCE(t.running, 0),
            COALESCE(t.queued, 0), COALESCE(t.scheduled, 0), COALESCE(t.deferred, 0)",
        from: "slot_pool p LEFT JOIN (
          SELECT pool,
            SUM(CASE WHEN state = 'running' THEN pool_slots ELSE 0 END) AS running,
            SUM(CASE WHEN state = 'queued' THEN pool_slots ELSE 0 END) AS queued,
            SUM(CASE WHEN state = 'scheduled' THEN pool_slots ELSE 0 END) AS scheduled,
            SUM(CASE WHEN state = 'deferred' THEN pool_slots ELSE 0 END) AS deferred
          FROM task_instance WHERE state IN ('running', 'queued', 'scheduled', 'deferred')
          GROUP BY pool) t ON t.pool = p.pool",
        fields: Fields(&[("id", "p.rowid"), ("pool", "p.pool")]),
        tiebreak: "p.rowid",
    };
    const KEY: &'static str = "p.pool";
    const INTO: &'static str = "slot_pool";
    const UPSERT: &'static str =
        "INSERT INTO slot_pool(pool, slots, description, include_deferred) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(pool) DO UPDATE SET slots = excluded.slots,
           description = excluded.description, include_deferred = excluded.include_deferred";

    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        super::from_row!(PoolRow from r;
            pool, slots, description, include_deferred, running, queued, scheduled, deferred
        )
    }

    fn params(&self) -> Vec<Sql> {
        super::to_params!(self; pool, slots, description, include_deferred)
    }
}

/// A pool with `slots` and nothing running (to create one).
pub fn new_pool(name: &str, slots: i64) -> PoolRow {
    PoolRow {
        pool: name.into(),
        slots,
        description: None,
        include_deferred: false,
        running: 0,
        queued: 0,
        scheduled: 0,
        deferred: 0,
    }
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
            put(tx, &new_pool("p1", 4))?;
            put(
                tx,
                &PoolRow {
                    include_deferred: true,
                    ..new_pool("p2", -1)
                },
            )?;
            Ok(())
        })
        .unwrap();
        let (pools, total) = s
            .read_sync(|c| list::<PoolRow>(c, &Filter::default(), &vec![("pool", true)], (2, 0)))
            .unwrap();
        assert_eq!(total, 3);
        assert_eq!(
            pools.iter().map(|p| p.pool.as_str()).collect::<Vec<_>>(),
            ["p2", "p1"]
        );
        let p = s
            .read_sync(|c| get::<PoolRow>(c, DEFAULT_POOL))
            .unwrap()
            .unwrap();
        assert_eq!((p.slots, p.running, p.queued), (128, 0, 0));
        assert!(s.write_sync(|tx| delete::<PoolRow>(tx, "p1")).unwrap());
        assert!(!s.write_sync(|tx| delete::<PoolRow>(tx, "p1")).unwrap());
    }
}
