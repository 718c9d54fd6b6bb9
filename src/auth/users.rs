//! The `users` table: usernames, roles and argon2id password hashes (PHC strings), plus the
//! password rules and generator shared by the server's first start and `leoflow users`.
//!
//! The table itself is `store::users`; this module gives roles their type. Every function
//! takes a `Db` or `Tx` from `Store::read_sync`/`write_sync`, so callers choose the thread;
//! hashing is CPU-heavy (tens of milliseconds) and belongs on a blocking thread.

use super::AuthError;
use super::Role;
use crate::store::{self, Db, StoreError, Tx};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

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

fn user(r: store::users::UserRow) -> (User, String) {
    (
        User {
            username: r.username,
            // The table's CHECK constraint allows only the three roles.
            role: Role::parse(&r.role).unwrap_or(Role::Viewer),
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login: r.last_login,
        },
        r.password_hash,
    )
}

/// One user and its password hash.
pub fn get(db: &Db<'_>, username: &str) -> Result<Option<(User, String)>, StoreError> {
    Ok(store::users::get(db, username)?.map(user))
}

/// Every user, by username.
pub fn list(db: &Db<'_>) -> Result<Vec<User>, StoreError> {
    Ok(store::users::list(db)?
        .into_iter()
        .map(|r| user(r).0)
        .collect())
}

/// How many users have the admin role.
pub fn count_admins(db: &Db<'_>) -> Result<i64, StoreError> {
    store::users::count_admins(db)
}

/// Adds a user; false (and nothing written) when the name is taken.
pub fn insert(tx: &Tx<'_>, username: &str, role: Role, hash: &str) -> Result<bool, StoreError> {
    store::users::insert(tx, username, role.as_str(), hash)
}

/// Replaces a user's password hash (and the role when given); false when there is no such user.
pub fn update(
    tx: &Tx<'_>,
    username: &str,
    hash: &str,
    role: Option<Role>,
) -> Result<bool, StoreError> {
    store::users::update(tx, username, hash, role.map(Role::as_str))
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
