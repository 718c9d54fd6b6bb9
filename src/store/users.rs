//! The `users` and `revoked_token` tables: usernames, roles and password hashes (PHC strings;
//! never a password), and the ids of signed-out tokens until they expire.
//!
//! Roles travel as their names (`viewer`, `user`, `admin`); the table's CHECK constraint
//! allows only those. `auth` gives them their meaning.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result, Tx, now, sql};

/// One user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_login: Option<String>,
}

const COLUMNS: &str = "username, role, password_hash, created_at, updated_at, last_login";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    super::from_row!(UserRow from r;
        username, role, password_hash, created_at, updated_at, last_login
    )
}

/// One user.
pub fn get(db: &Db<'_>, username: &str) -> Result<Option<UserRow>> {
    db.conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM users WHERE username = ?1"),
            [username],
            row,
        )
        .optional()
        .map_err(sql)
}

/// Every user, by username.
pub fn list(db: &Db<'_>) -> Result<Vec<UserRow>> {
    let mut st = db
        .conn()
        .prepare(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
        .map_err(sql)?;
    st.query_map([], row)
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// How many users have the admin role.
pub fn count_admins(db: &Db<'_>) -> Result<i64> {
    db.conn()
        .query_row("SELECT COUNT(*) FROM users WHERE role = 'admin'", [], |r| {
            r.get(0)
        })
        .map_err(sql)
}

/// Adds a user; false (and nothing written) when the name is taken.
pub fn insert(tx: &Tx<'_>, username: &str, role: &str, hash: &str) -> Result<bool> {
    let n = tx
        .conn()
        .execute(
            "INSERT INTO users (username, role, password_hash, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (username) DO NOTHING",
            params![username, role, hash, now()],
        )
        .map_err(sql)?;
    Ok(n > 0)
}

/// Replaces a user's password hash (and the role when given); false when there is no such user.
pub fn update(tx: &Tx<'_>, username: &str, hash: &str, role: Option<&str>) -> Result<bool> {
    let n = tx
        .conn()
        .execute(
            "UPDATE users SET password_hash = ?2, role = COALESCE(?3, role), updated_at = ?4
             WHERE username = ?1",
            params![username, hash, role, now()],
        )
        .map_err(sql)?;
    Ok(n > 0)
}

/// Records a successful sign-in.
pub fn touch_login(tx: &Tx<'_>, username: &str) -> Result<()> {
    tx.conn()
        .execute(
            "UPDATE users SET last_login = ?2 WHERE username = ?1",
            params![username, now()],
        )
        .map_err(sql)?;
    Ok(())
}

/// Records a revoked token id until its expiry, pruning expired ones.
pub fn revoke(tx: &Tx<'_>, jti: &str, exp: i64, now: i64) -> Result<()> {
    let c = tx.conn();
    c.execute("DELETE FROM revoked_token WHERE exp < ?1", [now])
        .map_err(sql)?;
    c.execute(
        "INSERT INTO revoked_token (jti, exp) VALUES (?1, ?2) ON CONFLICT (jti) DO NOTHING",
        params![jti, exp],
    )
    .map_err(sql)?;
    Ok(())
}

/// Revoked token ids that have not expired yet, with their expiry.
pub fn revoked(db: &Db<'_>, now: i64) -> Result<Vec<(String, i64)>> {
    let mut st = db
        .conn()
        .prepare("SELECT jti, exp FROM revoked_token WHERE exp >= ?1")
        .map_err(sql)?;
    st.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}
