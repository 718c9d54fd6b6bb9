//! The `users` table: usernames, roles and argon2id password hashes (PHC strings), plus the
//! password rules and generator shared by the server's first start and `leoflow users`.
//!
//! Every function takes a connection or transaction from `Store::read_sync`/`write_sync`, so
//! callers choose the thread; hashing is CPU-heavy (tens of milliseconds) and belongs on a
//! blocking thread.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rusqlite::{Connection, OptionalExtension, params};

use super::AuthError;
use crate::api::identity::Role;
use crate::store::{self, StoreError};

/// Longest accepted password (argon2 takes any length; this bounds the work per attempt).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// One user, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub role: Role,
    pub created_at: String,
    pub updated_at: String,
    pub last_login: Option<String>,
}

/// Checks a username: 1 to 64 letters, digits or `.`, `_`, `-`, `@`.
pub fn check_username(name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadUsername(name.to_string()))
    }
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(AuthError::BadPassword(format!(
            "a password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters (got {n})"
        )))
    }
}

/// A random 20-character password (letters and digits without look-alikes, ~115 bits).
pub fn generate_password() -> Result<String, AuthError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut buf = [0u8; 32];
        super::random_bytes(&mut buf)?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        for b in buf {
            if (b as usize) < limit && out.len() < 20 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// The argon2id PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn row_to_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<(User, String)> {
    let role: String = r.get(1)?;
    Ok((
        User {
            username: r.get(0)?,
            // The table's CHECK constraint allows only the three roles.
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
            last_login: r.get(5)?,
        },
        r.get(2)?,
    ))
}

const COLUMNS: &str = "username, role, password_hash, created_at, updated_at, last_login";

/// One user and its password hash.
pub fn get(conn: &Connection, username: &str) -> Result<Option<(User, String)>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE username = ?1"),
        [username],
        row_to_user,
    )
    .optional()
    .map_err(store::sql)
}

/// Every user, by username.
pub fn list(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut st = conn
        .prepare(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
        .map_err(store::sql)?;
    let rows = st
        .query_map([], |r| row_to_user(r).map(|(u, _)| u))
        .map_err(store::sql)?;
    rows.collect::<Result<_, _>>().map_err(store::sql)
}

/// How many users have the admin role.
pub fn count_admins(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row("SELECT COUNT(*) FROM users WHERE role = 'admin'", [], |r| {
        r.get(0)
    })
    .map_err(store::sql)
}

/// Adds a user; false (and nothing written) when the name is taken.
pub fn insert(
    conn: &Connection,
    username: &str,
    role: Role,
    hash: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .execute(
            "INSERT INTO users (username, role, password_hash, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (username) DO NOTHING",
            params![username, role.as_str(), hash, store::now()],
        )
        .map_err(store::sql)?;
    Ok(n > 0)
}

/// Replaces a user's password hash (and the role when given); false when there is no such user.
pub fn update(
    conn: &Connection,
    username: &str,
    hash: &str,
    role: Option<Role>,
) -> Result<bool, StoreError> {
    let n = conn
        .execute(
            "UPDATE users SET password_hash = ?2, role = COALESCE(?3, role), updated_at = ?4
             WHERE username = ?1",
            params![username, hash, role.map(Role::as_str), store::now()],
        )
        .map_err(store::sql)?;
    Ok(n > 0)
}

/// Records a successful sign-in.
pub fn touch_login(conn: &Connection, username: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET last_login = ?2 WHERE username = ?1",
        params![username, store::now()],
    )
    .map_err(store::sql)?;
    Ok(())
}

/// Records a revoked token id until its expiry, pruning expired ones.
pub fn revoke(conn: &Connection, jti: &str, exp: i64, now: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM revoked_token WHERE exp < ?1", [now])
        .map_err(store::sql)?;
    conn.execute(
        "INSERT INTO revoked_token (jti, exp) VALUES (?1, ?2) ON CONFLICT (jti) DO NOTHING",
        params![jti, exp],
    )
    .map_err(store::sql)?;
    Ok(())
}

/// Revoked token ids that have not expired yet, with their expiry.
pub fn revoked(conn: &Connection, now: i64) -> Result<Vec<(String, i64)>, StoreError> {
    let mut st = conn
        .prepare("SELECT jti, exp FROM revoked_token WHERE exp >= ?1")
        .map_err(store::sql)?;
    let rows = st
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(store::sql)?;
    rows.collect::<Result<_, _>>().map_err(store::sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("correct horsE", &a));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        check_password(&a).unwrap();
    }

    #[test]
    fn names_and_passwords_are_checked() {
        check_username("alice.o-k_1@x").unwrap();
        for bad in ["", "a b", "ünï", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
        assert!(check_password("short").is_err());
        check_password("long enough").unwrap();
    }
}
