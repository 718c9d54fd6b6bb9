//! The metadata store: one SQLite file (`leoflow.db`) opened in WAL mode, its embedded
//! migrations, and the connections the rest of the process borrows.
//!
//! `Store` keeps one writer connection (serialised behind a mutex, so every write is one
//! short transaction) and a small pool of reader connections, which WAL lets run beside the
//! writer. Callers on the async runtime use [`Store::read`] / [`Store::write`], which run the
//! closure on tokio's blocking pool.
//!
//! The closures receive a [`Db`] (read) or a [`Tx`] (one write transaction): opaque handles
//! whose connection only this module can reach. Callers compose the typed query functions of
//! the submodules (`runs::get`, `dags::set_paused`, ...) inside one transaction; they never
//! write SQL.
//!
//! **Invariant:** only this module opens SQLite or holds SQL text. A database written by a
//! newer binary (its `user_version` above what we know) is refused before anything writes to
//! it, so the file stays byte-identical.

pub mod admin;
pub mod assets;
pub mod audit;
pub mod backfills;
pub mod dags;
pub mod filter;
pub mod hitl;
mod migrate;
pub mod runs;
pub mod sched;
pub mod tis;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use migrate::{
    MIGRATIONS, Migration, Status as MigrationStatus, latest as latest_version,
    status as migrate_status,
};

/// Errors from the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite error on {path}: {err}")]
    Sqlite {
        path: PathBuf,
        #[source]
        err: rusqlite::Error,
    },
    #[error(
        "the database {path} has schema version {found}, but this leoflow {binary} knows versions up to {known}: it was written by a newer Leoflow. Upgrade leoflow, or use another --home. The file was left untouched."
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
        binary: &'static str,
    },
    #[error(
        "SQLite refused WAL mode for {path} (journal_mode answered {answer:?}); the home must be on a local disk"
    )]
    NotWal { path: PathBuf, answer: String },
    #[error("migration {version} ({name}) failed on {path}: {err}")]
    Migration {
        path: PathBuf,
        version: i64,
        name: &'static str,
        #[source]
        err: rusqlite::Error,
    },
    #[error("the metadata store is shutting down")]
    Closed,
    #[error("internal error: no field {0:?} to filter or order on")]
    UnknownField(String),
    #[error("the stored model of {what} does not parse: {err}")]
    Model { what: String, err: String },
}

/// Builds a struct from a row's columns, in order: `from_row!(T from r: a, b)` reads column 0
/// into `a` and column 1 into `b` (each converted by its field's `FromSql`).
macro_rules! from_row {
    ($T:ident from $r:expr; $($field:ident),+ $(,)?) => {{
        let mut _column = 0usize;
        Ok($T {
            $($field: {
                let v = $r.get(_column)?;
                _column += 1;
                v
            }),+
        })
    }};
}
pub(crate) use from_row;

/// A row's fields as statement parameters, in order: `to_params!(row: a, b)`.
macro_rules! to_params {
    ($row:expr; $($field:ident),+ $(,)?) => {
        vec![$(rusqlite::types::Value::from($row.$field.clone())),+]
    };
}
pub(crate) use to_params;

/// Shorthand for results from this module.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A read handle on the database, lent to the closures of [`Store::read`]: the typed query
/// functions of this module's submodules take it. Its connection stays inside `store`.
pub struct Db<'a> {
    conn: &'a Connection,
}

impl<'a> Db<'a> {
    pub(in crate::store) fn conn(&self) -> &'a Connection {
        self.conn
    }
}

/// A write transaction, lent to the closures of [`Store::write`]: committed when the closure
/// returns `Ok`, rolled back otherwise. It reads like a [`Db`].
pub struct Tx<'a> {
    db: Db<'a>,
}

impl<'a> std::ops::Deref for Tx<'a> {
    type Target = Db<'a>;
    fn deref(&self) -> &Db<'a> {
        &self.db
    }
}

/// A handle on the metadata database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Bumped after every committed write (and when another process's write is noticed):
    /// what a cached read answer is valid for.
    generation: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// How many reader connections are kept open.
const READERS: usize = 4;
/// How many reader connections are kept after a burst of concurrent reads opened more (each
/// keeps its prepared statements; opening one per request costs more than the query).
const MAX_READERS: usize = 16;

impl Store {
    /// Opens (creating if missing) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let status = migrate::status(path)?;
        if status.current > migrate::latest() {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found: status.current,
                known: migrate::latest(),
                binary: crate::VERSION,
            });
        }
        let mut writer = connect(path)?;
        migrate::apply(path, &mut writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            readers.push(connect(path)?);
        }
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                readers: Mutex::new(readers),
                generation: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one write transaction: committed when `f` returns `Ok`, rolled back when it
    /// returns an error (of the store, or of the caller's own kind).
    pub fn write_sync<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let out = f(&Tx {
            db: Db { conn: &tx },
        })?;
        tx.commit().map_err(|e| self.err(e))?;
        self.bump_generation();
        Ok(out)
    }

    /// The write generation: it changes whenever the database may have changed.
    pub fn generation(&self) -> u64 {
        self.inner
            .generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks the database as changed (after a write, or one by another process).
    pub fn bump_generation(&self) {
        self.inner
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Runs `f` on a reader connection.
    pub fn read_sync<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let conn = match conn {
            Some(c) => c,
            None => connect(&self.inner.path)?,
        };
        let out = f(&Db { conn: &conn });
        let mut pool = self.inner.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < MAX_READERS {
            pool.push(conn);
        }
        out
    }

    /// [`Store::read_sync`] on tokio's blocking pool.
    pub async fn read<T: Send + 'static, E: From<StoreError> + Send + 'static>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.read_sync(f))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// [`Store::write_sync`] on tokio's blocking pool.
    pub async fn write<T: Send + 'static, E: From<StoreError> + Send + 'static>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.write_sync(f))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// A cheap liveness probe for health checks.
    pub fn ping(&self) -> Result<()> {
        self.read_sync(|db| {
            db.conn()
                .query_row("SELECT 1", [], |_| Ok(()))
                .map_err(|e| self.err(e))
        })
    }

    /// SQLite's `data_version` seen from the writer connection: it changes when another
    /// process (e.g. `leoflow dags trigger`) commits to this database.
    pub fn data_version(&self) -> Result<i64> {
        let conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        conn.query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Folds the WAL back into the main file; called on clean shutdown.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| self.err(e))
    }

    /// Wraps a rusqlite error with this database's path.
    pub fn err(&self, err: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.inner.path.clone(),
            err,
        }
    }
}

/// Wraps a rusqlite error raised inside a transaction closure (the path is added by the
/// caller's context where it matters).
pub fn sql(err: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: Default::default(),
        err,
    }
}

/// Now, as the RFC 3339 UTC timestamp (microseconds, `Z`) every table stores.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Opens one connection with the per-connection pragmas, checking that WAL took.
fn connect(path: &Path) -> Result<Connection> {
    let e = |err| StoreError::Sqlite {
        path: path.to_path_buf(),
        err,
    };
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(e)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(e)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(e)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotWal {
            path: path.to_path_buf(),
            answer: mode,
        });
    }
    conn.execute_batch(
        // A 1 MiB page cache per connection (SQLite's default is 2 MiB): the metadata of a
        // laptop's DAGs fits, and six connections stay within a small, fixed footprint.
        // Reads map the file (up to 256 MiB) instead of copying each page with pread.
        "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-1024; PRAGMA mmap_size=268435456;",
    )
    .map_err(e)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Opens the file read-only, without creating it; `None` when it does not exist.
fn connect_read_only(path: &Path) -> Result<Option<Connection>> {
    if !path.exists() {
        return Ok(None);
    }
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map(Some)
    .map_err(|err| StoreError::Sqlite {
        path: path.to_path_buf(),
        err,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_twice_migrates_once_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leoflow.db");
        let s = Store::open(&path).unwrap();
        let mode: String = s
            .read_sync(|c| {
                c.conn()
                    .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                    .map_err(|e| s.err(e))
            })
            .unwrap();
        assert_eq!(mode, "wal");
        drop(s);
        let s = Store::open(&path).unwrap();
        let n: i64 = s
            .read_sync(|c| {
                c.conn()
                    .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
                    .map_err(|e| s.err(e))
            })
            .unwrap();
        assert_eq!(n, MIGRATIONS.len() as i64);
        assert_eq!(migrate::status(&path).unwrap().pending.len(), 0);
    }

    #[test]
    fn newer_schema_is_refused_and_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leoflow.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE future(x); PRAGMA user_version = 999;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 999, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("newer Leoflow"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(!dir.path().join("leoflow.db-wal").exists());
    }

    #[test]
    fn write_rolls_back_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("x.db")).unwrap();
        let r: Result<()> = s.write_sync(|tx| {
            tx.conn()
                .execute("INSERT INTO meta(key, value) VALUES ('a', 'b')", [])
                .map_err(|e| s.err(e))?;
            Err(StoreError::Closed)
        });
        assert!(r.is_err());
        let n: i64 = s
            .read_sync(|c| {
                c.conn()
                    .query_row("SELECT COUNT(*) FROM meta WHERE key='a'", [], |r| r.get(0))
                    .map_err(|e| s.err(e))
            })
            .unwrap();
        assert_eq!(n, 0);
    }
}
