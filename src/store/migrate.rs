//! Embedded schema migrations, keyed by `PRAGMA user_version`.
//!
//! Each file in `migrations/` is listed here with `include_str!` (so a changed file always
//! rebuilds), applied in its own exclusive transaction, and recorded in `schema_migrations`.
//! The list is append-only: a shipped migration is never edited or removed.

use std::path::Path;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{Result, StoreError, connect_read_only};

/// One numbered migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// One embedded migration: `migration!(N, "000N_name")` reads `migrations/000N_name.sql`.
macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/", $name, ".sql")),
        }
    };
}

/// Every migration, in order; `version` is the number its file name starts with. Numbers
/// increase but may have gaps while branches that each add one are merged (0008 is another
/// branch's): a migration is applied when `schema_migrations` does not record it.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_init"),
    migration!(2, "0002_dags"),
    migration!(3, "0003_engine"),
    migration!(4, "0004_auth"),
    migration!(5, "0005_backfill"),
    migration!(6, "0006_trigger_wait"),
    migration!(7, "0007_registered_dags"),
    migration!(8, "0008_assets"),
    migration!(9, "0009_hitl_favorites"),
    migration!(10, "0010_task_reschedule"),
];

/// The schema version this binary writes.
pub fn latest() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// The state of a database file relative to this binary.
#[derive(Debug, Clone)]
pub struct Status {
    /// `PRAGMA user_version` of the file (0 when it does not exist yet).
    pub current: i64,
    /// The migrations this binary would apply.
    pub pending: Vec<Migration>,
}

/// Reads the schema version without writing to (or creating) the file.
pub fn status(path: &Path) -> Result<Status> {
    let current = match connect_read_only(path)? {
        None => 0,
        Some(conn) => conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map_err(|err| StoreError::Sqlite {
                path: path.to_path_buf(),
                err,
            })?,
    };
    Ok(Status {
        current,
        pending: MIGRATIONS
            .iter()
            .filter(|m| m.version > current)
            .copied()
            .collect(),
    })
}

/// Applies every pending migration, each in one exclusive transaction.
pub(super) fn apply(path: &Path, conn: &mut Connection) -> Result<Vec<Migration>> {
    apply_list(path, conn, MIGRATIONS)
}

fn apply_list(path: &Path, conn: &mut Connection, list: &[Migration]) -> Result<Vec<Migration>> {
    let mut applied = Vec::new();
    for m in list {
        let fail = |err| StoreError::Migration {
            path: path.to_path_buf(),
            version: m.version,
            name: m.name,
            err,
        };
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(fail)?;
        let current: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(fail)?;
        // A database before 0001 has no `schema_migrations` yet.
        let recorded: bool = current > 0
            && tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
                    [m.version],
                    |r| r.get(0),
                )
                .map_err(fail)?;
        if recorded {
            continue;
        }
        tx.execute_batch(m.sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                m.version,
                m.name,
                hex::encode(Sha256::digest(m.sql.as_bytes())),
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            ],
        )
        .map_err(fail)?;
        if m.version == 1 {
            tx.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('created_by_version', ?1)",
                [crate::VERSION],
            )
            .map_err(fail)?;
        }
        tx.pragma_update(None, "user_version", current.max(m.version))
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        applied.push(*m);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{}.sql", m.name))
            .collect();
        assert_eq!(files, listed, "migrations/ and MIGRATIONS disagree");
        for (i, m) in MIGRATIONS.iter().enumerate() {
            if i > 0 {
                assert!(
                    m.version > MIGRATIONS[i - 1].version,
                    "{} out of order",
                    m.name
                );
            }
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
    }

    #[test]
    fn migrations_apply_on_a_fresh_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut conn = Connection::open(&path).unwrap();
        let applied = apply(&path, &mut conn).unwrap();
        assert_eq!(applied.len(), MIGRATIONS.len());
        assert!(apply(&path, &mut conn).unwrap().is_empty());
        assert_eq!(status(&path).unwrap().current, latest());
    }

    #[test]
    fn a_migration_numbered_below_the_latest_still_applies() {
        // A database that ran the newest migration first (a branch's), then gets an older
        // number with a merge: the missing one applies, the others do not run twice.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut conn = Connection::open(&path).unwrap();
        let missing = MIGRATIONS[MIGRATIONS.len() - 2];
        let without: Vec<Migration> = MIGRATIONS
            .iter()
            .copied()
            .filter(|m| m.version != missing.version)
            .collect();
        apply_list(&path, &mut conn, &without).unwrap();
        let applied = apply_list(&path, &mut conn, MIGRATIONS).unwrap();
        assert_eq!(
            applied.iter().map(|m| m.version).collect::<Vec<_>>(),
            [missing.version]
        );
        let user_version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(user_version, latest());
        assert!(apply_list(&path, &mut conn, MIGRATIONS).unwrap().is_empty());
    }
}
