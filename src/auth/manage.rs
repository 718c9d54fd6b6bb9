//! `leoflow users create | reset-password | list`: user management on the home's database,
//! safe beside a running server (SQLite WAL; the server reads users per sign-in).

use std::path::Path;

use super::users::{self, User};
use super::{ADMIN, ADMIN_PASSWORD_FILE, AuthError};
use crate::auth::Role;
use crate::store::Store;

/// Adds a user. Returns the generated password when none was given.
pub fn create(
    store: &Store,
    username: &str,
    role: Role,
    password: Option<&str>,
) -> Result<Option<String>, AuthError> {
    users::check_username(username)?;
    let (password, generated) = chosen_or_generated(password)?;
    let hash = users::hash_password(&password)?;
    if !store.write_sync(|tx| users::insert(tx, username, role, &hash))? {
        return Err(AuthError::UserExists(username.to_string()));
    }
    Ok(generated.then_some(password))
}

/// Sets a new password. Returns the generated password when none was given. Resetting `admin`
/// removes the first-start password file of `home`, which would be stale.
pub fn reset_password(
    store: &Store,
    home: &Path,
    username: &str,
    password: Option<&str>,
) -> Result<Option<String>, AuthError> {
    let (password, generated) = chosen_or_generated(password)?;
    let hash = users::hash_password(&password)?;
    if !store.write_sync(|tx| users::update(tx, username, &hash, None))? {
        return Err(AuthError::NoSuchUser(username.to_string()));
    }
    if username == ADMIN {
        let _ = std::fs::remove_file(home.join(ADMIN_PASSWORD_FILE));
    }
    Ok(generated.then_some(password))
}

/// Every user.
pub fn list(store: &Store) -> Result<Vec<User>, AuthError> {
    Ok(store.read_sync(users::list)?)
}

/// The users as an aligned table.
pub fn table(users: &[User]) -> String {
    let rows: Vec<[String; 4]> = users
        .iter()
        .map(|u| {
            [
                u.username.clone(),
                u.role.as_str().to_string(),
                u.created_at.chars().take(19).collect(),
                u.last_login
                    .as_deref()
                    .map(|t| t.chars().take(19).collect())
                    .unwrap_or_else(|| "never".into()),
            ]
        })
        .collect();
    let head = ["USERNAME", "ROLE", "CREATED", "LAST LOGIN"].map(String::from);
    let mut width = head.clone().map(|h| h.len());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&head).chain(&rows) {
        let line: Vec<String> = r
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn chosen_or_generated(password: Option<&str>) -> Result<(String, bool), AuthError> {
    match password {
        Some(p) => {
            users::check_password(p)?;
            Ok((p.to_string(), false))
        }
        None => Ok((users::generate_password()?, true)),
    }
}
