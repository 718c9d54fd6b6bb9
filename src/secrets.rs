//! Secrets at rest and on the wire: AES-256-GCM encryption of variable values and connection
//! passwords and extras, Airflow's masking of sensitive names in responses, and the decrypted
//! view of variables and connections that tasks get.
//!
//! The key is the base64 of 32 bytes, taken from `LEOFLOW_ENCRYPTION_KEY` when set, else from
//! `<home>/encryption.key`, which is generated on first use with mode 0600. A stored value is
//! `lf1:` + base64(96-bit random nonce ‖ ciphertext ‖ tag); the tag makes a wrong key an error
//! naming where the key came from, never garbage.
//!
//! **Invariant:** plaintext secrets are never written to SQLite, logs or API answers; this
//! module never opens SQLite itself (it reads rows through `store::admin`). It is the one place
//! besides `config` that reads a setting from the environment (`LEOFLOW_ENCRYPTION_KEY`), so the
//! key never sits in `Config` (which `--print-config` and `/config` render).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use aes_gcm::aead::{Aead, Generate, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use crate::store::Store;
use crate::store::admin::{ConnectionRow, VariableRow};

/// The environment variable that holds the key (base64 of 32 bytes).
pub const ENV_KEY: &str = "LEOFLOW_ENCRYPTION_KEY";
/// The key file in the home, generated when the environment variable is not set.
pub const KEY_FILE: &str = "encryption.key";
/// What Airflow shows instead of a sensitive value.
pub const MASK: &str = "***";
/// Version prefix of every stored ciphertext.
const PREFIX: &str = "lf1:";
const NONCE_LEN: usize = 12;

/// Airflow's `DEFAULT_SENSITIVE_FIELDS`: a name containing any of these is sensitive.
const SENSITIVE: &[&str] = &[
    "access_token",
    "api_key",
    "apikey",
    "authorization",
    "passphrase",
    "passwd",
    "password",
    "private_key",
    "secret",
    "token",
    "keyfile_dict",
    "service_account",
];

/// Where the key came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "the {ENV_KEY} environment variable"),
            KeySource::File(p) => write!(f, "the key file {}", p.display()),
        }
    }
}

/// Errors from loading the key or decrypting a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "the encryption key from {origin} is not usable: {reason}. It must be the base64 of 32 random bytes, e.g. the output of `head -c 32 /dev/urandom | base64`"
    )]
    BadKey { origin: KeySource, reason: String },
    #[error("cannot {action} the encryption key file {path}: {err}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
    #[error(
        "cannot decrypt {what} with the encryption key from {origin}: it was encrypted with a different key. Start Leoflow with the key it was written with (LEOFLOW_ENCRYPTION_KEY or the home's encryption.key), or delete and re-create {what}"
    )]
    WrongKey { what: String, origin: KeySource },
    #[error(
        "{what} is not a value encrypted by Leoflow (expected the `{PREFIX}` prefix and base64): the database was edited by hand or is damaged"
    )]
    Malformed { what: String },
}

/// An AES-256-GCM key and where it came from.
pub struct Cipher {
    aead: Aes256Gcm,
    origin: KeySource,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("origin", &self.origin)
            .finish()
    }
}

/// The cipher of `home`: the key of `LEOFLOW_ENCRYPTION_KEY`, else of `home/encryption.key`
/// (created on first use). Loaded once per home and process; a failure is not cached.
pub fn for_home(home: &Path) -> Result<Arc<Cipher>, SecretsError> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Cipher>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(home) {
        return Ok(c.clone());
    }
    let env = std::env::var(ENV_KEY).ok().filter(|v| !v.trim().is_empty());
    let cipher = Arc::new(Cipher::load(home, env.as_deref())?);
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(home.to_path_buf(), cipher.clone());
    Ok(cipher)
}

/// The cipher of the home that holds `store`'s database file.
pub fn for_store(store: &Store) -> Result<Arc<Cipher>, SecretsError> {
    for_home(store.path().parent().unwrap_or(Path::new(".")))
}

impl Cipher {
    /// The key from `env_key` (the value of `LEOFLOW_ENCRYPTION_KEY`) when given, else from
    /// `home/encryption.key`, generating that file (0600) when it does not exist.
    pub fn load(home: &Path, env_key: Option<&str>) -> Result<Cipher, SecretsError> {
        if let Some(text) = env_key {
            return Cipher::from_base64(text, KeySource::Env);
        }
        let path = home.join(KEY_FILE);
        let origin = KeySource::File(path.clone());
        match std::fs::read_to_string(&path) {
            Ok(text) => Cipher::from_base64(&text, origin),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Key::<Aes256Gcm>::generate();
                match write_new_key(&path, &B64.encode(key.as_slice())) {
                    Ok(()) => Ok(Cipher {
                        aead: Aes256Gcm::new(&key),
                        origin,
                    }),
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text =
                            std::fs::read_to_string(&path).map_err(|err| SecretsError::Io {
                                action: "read",
                                path: path.clone(),
                                err,
                            })?;
                        Cipher::from_base64(&text, origin)
                    }
                    Err(err) => Err(SecretsError::Io {
                        action: "create",
                        path,
                        err,
                    }),
                }
            }
            Err(err) => Err(SecretsError::Io {
                action: "read",
                path,
                err,
            }),
        }
    }

    fn from_base64(text: &str, origin: KeySource) -> Result<Cipher, SecretsError> {
        let bytes = B64.decode(text.trim()).map_err(|e| SecretsError::BadKey {
            origin: origin.clone(),
            reason: format!("it is not base64 ({e})"),
        })?;
        let aead = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SecretsError::BadKey {
            origin: origin.clone(),
            reason: format!("it decodes to {} bytes, not 32", bytes.len()),
        })?;
        Ok(Cipher { aead, origin })
    }

    /// Where the key came from.
    pub fn origin(&self) -> &KeySource {
        &self.origin
    }

    /// A variable's value in plain text.
    pub fn variable(&self, row: &VariableRow) -> Result<String, SecretsError> {
        if row.is_encrypted {
            self.decrypt(&row.val, &format!("variable `{}`", row.key))
        } else {
            Ok(row.val.clone())
        }
    }

    /// A connection's `(password, extra)` in plain text.
    pub fn connection(
        &self,
        row: &ConnectionRow,
    ) -> Result<(Option<String>, Option<String>), SecretsError> {
        let open = |v: &Option<String>, field: &str| {
            v.as_deref()
                .map(|s| self.decrypt(s, &format!("the {field} of connection `{}`", row.conn_id)))
                .transpose()
        };
        Ok((open(&row.password, "password")?, open(&row.extra, "extra")?))
    }

    /// `plain` encrypted under a fresh random nonce, in the stored text form.
    pub fn encrypt(&self, plain: &str) -> String {
        let nonce = Nonce::generate();
        let sealed = self
            .aead
            .encrypt(&nonce, plain.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// The plaintext of a stored value; `what` names it in errors (e.g. "variable `x`").
    pub fn decrypt(&self, stored: &str, what: &str) -> Result<String, SecretsError> {
        let malformed = || SecretsError::Malformed { what: what.into() };
        let body = stored.strip_prefix(PREFIX).ok_or_else(malformed)?;
        let bytes = B64.decode(body).map_err(|_| malformed())?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(malformed());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| malformed())?;
        let plain = self
            .aead
            .decrypt(&nonce, sealed)
            .map_err(|_| SecretsError::WrongKey {
                what: what.into(),
                origin: self.origin.clone(),
            })?;
        String::from_utf8(plain).map_err(|_| malformed())
    }
}

/// Creates `path` with mode 0600 and writes `text`; fails with `AlreadyExists` if it exists.
fn write_new_key(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(format!("{text}\n").as_bytes())?;
    f.sync_all()
}

/// Whether a variable, connection-extra or config name is sensitive (Airflow's rule: it
/// contains one of the sensitive words, case-insensitively).
pub fn is_sensitive(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    SENSITIVE.iter().any(|s| n.contains(s))
}

/// `v` with the values under sensitive keys replaced by `***`, recursively (Airflow's
/// `redact`); `name` is the key `v` sits under.
pub fn redact(v: &Value, name: Option<&str>) -> Value {
    if name.is_some_and(is_sensitive) && !v.is_null() {
        return Value::String(MASK.into());
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), redact(x, Some(k))))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| redact(x, None)).collect()),
        other => other.clone(),
    }
}

/// `new` with every `***` that stands where `old` has a value replaced by that value, so a
/// masked value read from the API and sent back unchanged keeps the stored secret.
pub fn unmask(new: &Value, old: &Value) -> Value {
    match (new, old) {
        (Value::String(s), o) if s == MASK && !o.is_null() => o.clone(),
        (Value::Object(n), Value::Object(o)) => Value::Object(
            n.iter()
                .map(|(k, v)| {
                    let merged = match o.get(k) {
                        Some(ov) => unmask(v, ov),
                        None => v.clone(),
                    };
                    (k.clone(), merged)
                })
                .collect(),
        ),
        _ => new.clone(),
    }
}

/// JSON text as Python's `json.dumps` writes it (`", "` and `": "` separators), which is how
/// Airflow prints connection extras, masked variable values and audit-log extras.
pub fn python_json(v: &Value) -> String {
    struct Py;
    impl serde_json::ser::Formatter for Py {
        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first { Ok(()) } else { w.write_all(b", ") }
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first { Ok(()) } else { w.write_all(b", ") }
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
        ) -> std::io::Result<()> {
            w.write_all(b": ")
        }
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Py);
    serde::Serialize::serialize(v, &mut ser).expect("serialising a JSON value cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// What a task's templates and Python runtime see: decrypted variables (`var.value`) and
/// connections by id (`conn`), each `{conn_type, host, schema, login, password, port, extra}`
/// with `extra` parsed. A key or decryption problem is logged and leaves the value out, so
/// one bad row does not stop every task.
pub fn for_tasks(store: &Store) -> (BTreeMap<String, String>, Value) {
    let rows = store.read_sync(|db| {
        Ok::<_, crate::store::StoreError>((
            crate::store::admin::all::<VariableRow>(db)?,
            crate::store::admin::all::<ConnectionRow>(db)?,
        ))
    });
    let (vars, conns) = match rows {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot read variables and connections for a task");
            return (BTreeMap::new(), Value::Object(Default::default()));
        }
    };
    if vars.is_empty() && conns.is_empty() {
        return (BTreeMap::new(), Value::Object(Default::default()));
    }
    let cipher = match for_store(store) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "tasks get no variables or connections");
            return (BTreeMap::new(), Value::Object(Default::default()));
        }
    };
    let mut variables = BTreeMap::new();
    for v in vars {
        match cipher.variable(&v) {
            Ok(text) => {
                variables.insert(v.key, text);
            }
            Err(e) => tracing::error!(error = %e, "variable left out of the task context"),
        }
    }
    let mut connections = serde_json::Map::new();
    for c in conns {
        match cipher.connection(&c) {
            Ok((password, extra)) => {
                let extra: Value = extra
                    .as_deref()
                    .and_then(|e| serde_json::from_str(e).ok())
                    .unwrap_or_else(|| Value::Object(Default::default()));
                connections.insert(
                    c.conn_id.clone(),
                    serde_json::json!({
                        "conn_id": c.conn_id, "conn_type": c.conn_type, "description": c.description,
                        "host": c.host, "schema": c.schema, "login": c.login, "password": password,
                        "port": c.port, "extra": extra,
                    }),
                );
            }
            Err(e) => tracing::error!(error = %e, "connection left out of the task context"),
        }
    }
    (variables, Value::Object(connections))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_with_a_random_nonce_and_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cipher::load(dir.path(), None).unwrap();
        let a = c.encrypt("hunter2");
        let b = c.encrypt("hunter2");
        assert!(a.starts_with("lf1:"), "{a}");
        assert_ne!(a, b, "the nonce must be fresh");
        assert!(!a.contains("hunter2"));
        assert_eq!(c.decrypt(&a, "x").unwrap(), "hunter2");
        // The generated key is reused, and only its owner may read it.
        let again = Cipher::load(dir.path(), None).unwrap();
        assert_eq!(again.decrypt(&b, "x").unwrap(), "hunter2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_wrong_key_is_an_error_naming_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let stored = Cipher::load(dir.path(), None).unwrap().encrypt("v");
        let other = B64.encode([7u8; 32]);
        let err = Cipher::load(dir.path(), Some(&other))
            .unwrap()
            .decrypt(&stored, "variable `a`")
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("LEOFLOW_ENCRYPTION_KEY"), "{msg}");
        assert!(msg.contains("variable `a`"), "{msg}");
        let bad = Cipher::load(dir.path(), Some("c2hvcnQ=")).unwrap_err();
        assert!(bad.to_string().contains("5 bytes, not 32"), "{bad}");
        let bad = Cipher::load(dir.path(), Some("not base64!")).unwrap_err();
        assert!(bad.to_string().contains("not base64"), "{bad}");
        let c = Cipher::load(dir.path(), None).unwrap();
        assert!(matches!(
            c.decrypt("plain", "x"),
            Err(SecretsError::Malformed { .. })
        ));
    }

    #[test]
    fn masking_follows_airflows_sensitive_names() {
        assert!(is_sensitive("my_PASSWORD"));
        assert!(is_sensitive("github_token"));
        assert!(!is_sensitive("greeting"));
        let v = json!({"user": "u", "api_key": "k", "nested": {"secret": 1, "x": [1]}});
        assert_eq!(
            redact(&v, None),
            json!({"user": "u", "api_key": "***", "nested": {"secret": "***", "x": [1]}})
        );
        let back = unmask(&redact(&v, None), &v);
        assert_eq!(back, v);
        assert_eq!(
            python_json(&json!({"a": [1, 2], "b": null})),
            r#"{"a": [1, 2], "b": null}"#
        );
    }
}
