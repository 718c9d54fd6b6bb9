//! Sign-ins to control planes (`leoflow auth login | logout | status`): one token per server
//! URL in `$XDG_CONFIG_HOME/leoflow/credentials.toml` (else `~/.config/leoflow/...`), written
//! atomically with mode 0600 in a 0700 folder. `LEOFLOW_TOKEN` overrides the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};

/// One server's sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Login {
    pub username: String,
    pub token: String,
    /// When the token expires (RFC 3339), from its `exp` claim when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// The credentials file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// By server URL (no trailing slash).
    #[serde(default)]
    pub servers: BTreeMap<String, Login>,
}

/// A server URL as a key: no trailing slash.
pub fn server_key(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// Where the credentials live, from the environment (`XDG_CONFIG_HOME`, `HOME`).
pub fn path(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    let base = match env("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(
            env("HOME")
                .filter(|h| !h.is_empty())
                .ok_or("neither XDG_CONFIG_HOME nor HOME is set: cannot place credentials.toml")?,
        )
        .join(".config"),
    };
    Ok(base.join("leoflow").join("credentials.toml"))
}

impl Credentials {
    /// Reads the file (none yet: empty).
    pub fn load(path: &Path) -> Result<Credentials, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                format!(
                    "{}: {e}; fix it or remove it and sign in again",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Credentials::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the file atomically, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        let dir = path.parent().ok_or("credentials path has no folder")?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let text = format!(
            "# Leoflow sign-ins, one per server (leoflow auth login). Keep private.\n{}",
            toml::to_string(self).map_err(|e| e.to_string())?
        );
        let tmp = dir.join(format!(".credentials.toml.{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })
    }
}

/// The `exp` claim of a JWT as RFC 3339 (`None`: not a JWT or no `exp`). The signature is not
/// checked: this only tells the user when to sign in again.
pub fn expiry(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    chrono::DateTime::from_timestamp(exp, 0).map(|t| t.to_rfc3339())
}

/// Whether `expires_at` (RFC 3339) is past.
pub fn expired(expires_at: Option<&str>) -> bool {
    expires_at
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .is_some_and(|t| t < chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_with_owner_only_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("cfg/leoflow/credentials.toml");
        let mut c = Credentials::default();
        c.servers.insert(
            server_key("http://127.0.0.1:8088/"),
            Login {
                username: "admin".into(),
                token: "t".into(),
                expires_at: None,
            },
        );
        c.save(&p).unwrap();
        assert_eq!(Credentials::load(&p).unwrap(), c);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir = std::fs::metadata(p.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir, 0o700);
        assert!(c.servers.contains_key("http://127.0.0.1:8088"));
    }

    #[test]
    fn token_expiry_comes_from_the_exp_claim() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!("{}.{}.sig", b64("{}"), b64(r#"{"exp": 1800000000}"#));
        assert_eq!(expiry(&token).as_deref(), Some("2027-01-15T08:00:00+00:00"));
        assert_eq!(expiry("not-a-jwt"), None);
        assert!(expired(Some("2001-01-01T00:00:00+00:00")));
        assert!(!expired(Some("2999-01-01T00:00:00+00:00")));
        assert!(!expired(None));
    }

    #[test]
    fn the_path_follows_xdg() {
        let env = |k: &str| match k {
            "XDG_CONFIG_HOME" => Some("/x".to_string()),
            "HOME" => Some("/h".to_string()),
            _ => None,
        };
        assert_eq!(
            path(&env).unwrap(),
            Path::new("/x/leoflow/credentials.toml")
        );
        let env = |k: &str| (k == "HOME").then(|| "/h".to_string());
        assert_eq!(
            path(&env).unwrap(),
            Path::new("/h/.config/leoflow/credentials.toml")
        );
    }
}
