//! Authentication and roles, compatible with Airflow 3's simple auth manager: users with
//! argon2id password hashes in SQLite, HS512 JWTs, a failed sign-in rate limit, token
//! revocation on sign-out, roles and the access a route needs, and the first start (signing
//! secret, `admin` user). Which route needs which access is declared where routes are added
//! (`api::routes::Group`).
//!
//! Callers: `api::auth` (sign-in, sign-out, the middleware that checks every request),
//! `lite` (start-up), `cli` (`leoflow users`).
//!
//! **Invariant:** no HTTP here; passwords are never stored or logged, only their hashes (the
//! one exception is the generated first-start password, written once to a 0600 file in the
//! home for its owner).

mod identity;
pub mod jwt;
pub mod limiter;
pub mod manage;
pub mod users;

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::{Store, StoreError};

pub use identity::{Access, Identity, Role};
pub use jwt::TokenError;

/// Failed sign-ins allowed per username and client address within [`LOGIN_WINDOW`].
pub const LOGIN_ATTEMPTS: usize = 5;
/// The rate limit's sliding window.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// The signing secret generated in the home when `secret_key` is not configured.
pub const SECRET_FILE: &str = "jwt_secret";
/// Where the generated first-start password of `admin` is kept.
pub const ADMIN_PASSWORD_FILE: &str = "admin_password";
/// The user created on first start.
pub const ADMIN: &str = "admin";

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "a user named {0:?} already exists (change its password with `leoflow users reset-password`)"
    )]
    UserExists(String),
    #[error("no user named {0:?} (see `leoflow users list`)")]
    NoSuchUser(String),
    #[error("invalid username {0:?}: use 1 to 64 letters, digits or the characters . _ - @")]
    BadUsername(String),
    #[error("invalid password: {0}")]
    BadPassword(String),
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("signing the token failed: {0}")]
    Token(String),
    #[error("the system random generator failed: {0}")]
    Random(String),
    #[error("{path}: {err}")]
    Io {
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
}

/// Why a sign-in was refused.
#[derive(Debug)]
pub enum LoginError {
    /// Unknown user or wrong password (the two are not told apart).
    Invalid,
    /// Too many failures: the next attempt is allowed after this long.
    RateLimited(Duration),
    Internal(AuthError),
}

/// The authentication service of one server; cheap to share behind an `Arc`.
pub struct Auth {
    store: Store,
    tokens: jwt::Tokens,
    limiter: limiter::Limiter,
    /// Revoked token ids with their expiry, mirrored from `revoked_token`.
    revoked: Mutex<HashMap<String, i64>>,
    /// Bounds concurrent argon2 work (each hash takes ~19 MiB and tens of milliseconds).
    hashing: tokio::sync::Semaphore,
}

impl Auth {
    /// Loads the revoked tokens; `secret` signs tokens valid for `ttl`.
    pub fn new(store: Store, secret: &[u8], ttl: Duration) -> Result<Auth, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let revoked = store.read_sync(|db| crate::store::users::revoked(db, now))?;
        Ok(Auth {
            store,
            tokens: jwt::Tokens::new(secret, ttl),
            limiter: limiter::Limiter::new(LOGIN_ATTEMPTS, LOGIN_WINDOW),
            revoked: Mutex::new(revoked.into_iter().collect()),
            hashing: tokio::sync::Semaphore::new(2),
        })
    }

    /// Checks a username and password from `client` and issues a token.
    pub async fn login(
        self: &Arc<Self>,
        username: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<String, LoginError> {
        self.limiter
            .begin(username, client)
            .map_err(LoginError::RateLimited)?;
        let user = {
            let name = username.to_string();
            self.store
                .read(move |c| users::get(c, &name))
                .await
                .map_err(|e| LoginError::Internal(e.into()))?
        };
        let _permit = self.hashing.acquire().await.ok();
        let (found, hash) = match user {
            Some((u, h)) => (Some(u), h),
            // Same work for an unknown user, so timing does not reveal which names exist.
            None => (None, dummy_hash().to_string()),
        };
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || users::verify_password(&pw, &hash))
            .await
            .unwrap_or(false);
        let Some(user) = found.filter(|_| ok) else {
            return Err(LoginError::Invalid);
        };
        self.limiter.succeeded(username, client);
        let name = user.username.clone();
        if let Err(e) = self
            .store
            .write(move |tx| crate::store::users::touch_login(tx, &name))
            .await
        {
            tracing::warn!(error = %e, "recording the sign-in time failed");
        }
        self.issue(&Identity {
            username: user.username,
            role: user.role,
        })
        .map_err(LoginError::Internal)
    }

    /// A token for `who` (also the anonymous admin's token when auth is off).
    pub fn issue(&self, who: &Identity) -> Result<String, AuthError> {
        self.tokens.issue(who)
    }

    /// The identity of a valid, unrevoked token.
    pub fn identity(&self, token: &str) -> Result<Identity, TokenError> {
        let claims = self.tokens.check(token)?;
        if self.lock_revoked().contains_key(&claims.jti) {
            return Err(TokenError::Invalid);
        }
        claims.identity()
    }

    /// Revokes a token until it expires (sign-out). Invalid tokens are ignored.
    pub async fn revoke(&self, token: &str) -> Result<(), AuthError> {
        let Ok(claims) = self.tokens.check(token) else {
            return Ok(());
        };
        let now = chrono::Utc::now().timestamp();
        {
            let mut revoked = self.lock_revoked();
            revoked.retain(|_, exp| *exp >= now);
            revoked.insert(claims.jti.clone(), claims.exp);
        }
        self.store
            .write(move |tx| crate::store::users::revoke(tx, &claims.jti, claims.exp, now))
            .await?;
        Ok(())
    }

    fn lock_revoked(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.revoked.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A hash of a random password, verified against when the user does not exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| users::hash_password(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
}

/// Fills `buf` from the operating system's random generator.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), AuthError> {
    getrandom::fill(buf).map_err(|e| AuthError::Random(e.to_string()))
}

/// The token signing secret: `configured` (the `secret_key` setting) when given, else the one
/// in `home/jwt_secret`, generated (64 random bytes, mode 0600) on first use.
pub fn signing_secret(home: &Path, configured: Option<&str>) -> Result<Vec<u8>, AuthError> {
    if let Some(s) = configured.filter(|s| !s.is_empty()) {
        return Ok(s.as_bytes().to_vec());
    }
    let path = home.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(AuthError::Io { path, err }),
    }
    let mut key = [0u8; 64];
    random_bytes(&mut key)?;
    let hex = hex::encode(key);
    write_private(&path, &format!("{hex}\n"))?;
    Ok(hex.into_bytes())
}

/// Writes `text` to `path` readable by its owner only (0600), replacing it atomically.
pub fn write_private(path: &Path, text: &str) -> Result<(), AuthError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |err| AuthError::Io {
        path: path.to_path_buf(),
        err,
    };
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// What the first-start check did about the `admin` user, for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminNotice {
    /// First start: `admin` was created with this generated password, saved in `file`.
    Created { password: String, file: PathBuf },
    /// `LEOFLOW_ADMIN_PASSWORD` set the password of `admin` (created if missing).
    FromEnv,
    /// An admin exists; the generated password is still in `file` (if it is).
    Existing { file: Option<PathBuf> },
}

impl AdminNotice {
    /// The banner line.
    pub fn banner_line(&self) -> String {
        match self {
            AdminNotice::Created { password, file } => format!(
                "  Admin     user \"{ADMIN}\", password in {} (shown once): {password}",
                file.display()
            ),
            AdminNotice::FromEnv => {
                format!("  Admin     user \"{ADMIN}\", password from LEOFLOW_ADMIN_PASSWORD")
            }
            AdminNotice::Existing { file: Some(f) } => {
                format!("  Admin     user \"{ADMIN}\", password in {}", f.display())
            }
            AdminNotice::Existing { file: None } => {
                "  Users     manage them with `leoflow users list | create | reset-password`"
                    .to_string()
            }
        }
    }
}

/// First start: with no admin at all (and the name free), creates `admin` with a random
/// password saved in `home/admin_password` (0600). `env_password` (`LEOFLOW_ADMIN_PASSWORD`)
/// sets the password of `admin` instead, on every start, and removes a stale generated file.
pub fn ensure_admin(
    store: &Store,
    home: &Path,
    env_password: Option<&str>,
) -> Result<AdminNotice, AuthError> {
    let file = home.join(ADMIN_PASSWORD_FILE);
    if let Some(pw) = env_password {
        if let Err(AuthError::BadPassword(why)) = users::check_password(pw) {
            return Err(AuthError::BadPassword(format!(
                "LEOFLOW_ADMIN_PASSWORD: {why}"
            )));
        }
        let hash = users::hash_password(pw)?;
        store.write_sync(|tx| -> Result<(), StoreError> {
            if !users::update(tx, ADMIN, &hash, Some(Role::Admin))? {
                users::insert(tx, ADMIN, Role::Admin, &hash)?;
            }
            Ok(())
        })?;
        let _ = std::fs::remove_file(&file);
        return Ok(AdminNotice::FromEnv);
    }
    let taken = store.read_sync(|db| users::get(db, ADMIN))?.is_some();
    if taken || store.read_sync(users::count_admins)? > 0 {
        return Ok(AdminNotice::Existing {
            file: file.exists().then_some(file),
        });
    }
    let password = users::generate_password()?;
    let hash = users::hash_password(&password)?;
    write_private(&file, &format!("{password}\n"))?;
    store.write_sync(|tx| users::insert(tx, ADMIN, Role::Admin, &hash))?;
    Ok(AdminNotice::Created { password, file })
}
