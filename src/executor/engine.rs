//! The local container engine: which one answers (Docker or Podman, through the Docker
//! Engine API that bollard speaks) and how to reach it.
//!
//! [`Engine::connect`] tries `DOCKER_HOST` first, then Docker's default socket, then Podman's
//! rootful and rootless sockets, and keeps the first that answers a ping, with its name and
//! version (for the banner and `doctor`). Calls that return at once get a bounded wait here;
//! the client itself has no request timeout, because a follow-logs request to Podman only
//! gets its response headers when the container prints its first line (a silent task would
//! otherwise hit bollard's default two-minute timeout).
//!
//! **Invariant:** only `executor::container` and `doctor` talk to the engine, through here.

use std::time::Duration;

use bollard::Docker;

/// How long a call that should answer at once may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A connected engine.
#[derive(Clone)]
pub struct Engine {
    pub docker: Docker,
    /// Where it answered (`unix:///run/podman/podman.sock`...).
    pub host: String,
    /// `Docker` or `Podman`.
    pub name: String,
    /// The engine's own version (`4.3.1`).
    pub version: String,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} at {}", self.name, self.version, self.host)
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} at {}", self.name, self.version, self.host)
    }
}

/// The sockets tried, in order: `DOCKER_HOST` (when set), Docker's, Podman's rootful, then
/// Podman's rootless one.
pub fn candidates(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    if let Some(h) = env("DOCKER_HOST").filter(|h| !h.trim().is_empty()) {
        return vec![h];
    }
    let mut out = vec![
        "unix:///var/run/docker.sock".to_string(),
        "unix:///run/podman/podman.sock".to_string(),
    ];
    if let Some(dir) = env("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        out.push(format!("unix://{dir}/podman/podman.sock"));
    }
    out
}

impl Engine {
    /// The first engine that answers among [`candidates`] of this process's environment.
    pub async fn connect() -> Result<Engine, String> {
        let env = |k: &str| std::env::var(k).ok();
        let tried = candidates(&env);
        let mut why = Vec::new();
        for host in &tried {
            match Self::at(host).await {
                Ok(e) => return Ok(e),
                Err(e) => why.push(format!("{host}: {e}")),
            }
        }
        Err(format!(
            "no container engine answered ({}); start Docker, or Podman's API service (`podman system service --time=0 unix:///run/podman/podman.sock`), or point DOCKER_HOST at one",
            why.join("; ")
        ))
    }

    /// The engine at `host` (`unix://...`), if it answers.
    pub async fn at(host: &str) -> Result<Engine, String> {
        let path = host.strip_prefix("unix://").unwrap_or(host);
        if !host.starts_with("unix://") && !host.starts_with('/') {
            return Err(format!(
                "only local unix sockets are supported (unix:///path), not {host:?}"
            ));
        }
        if !std::path::Path::new(path).exists() {
            return Err("no such socket".into());
        }
        // No request timeout on the client (see the module comment); calls bound their own.
        let docker = Docker::connect_with_socket(path, u64::MAX / 4, bollard::API_DEFAULT_VERSION)
            .map_err(|e| e.to_string())?;
        let version = tokio::time::timeout(CALL_TIMEOUT, docker.version())
            .await
            .map_err(|_| format!("no answer within {CALL_TIMEOUT:?}"))?
            .map_err(|e| e.to_string())?;
        let components = version.components.unwrap_or_default();
        let podman = components.iter().find(|c| c.name.contains("Podman"));
        let (name, v) = match podman {
            Some(c) => ("Podman", c.version.clone()),
            None => ("Docker", version.version.clone().unwrap_or_default()),
        };
        Ok(Engine {
            docker,
            host: format!("unix://{path}"),
            name: name.to_string(),
            version: v,
        })
    }
}

/// Bounds a call that should answer at once.
pub async fn bounded<T, E: std::fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    tokio::time::timeout(CALL_TIMEOUT, f)
        .await
        .map_err(|_| format!("{what}: the engine did not answer within {CALL_TIMEOUT:?}"))?
        .map_err(|e| format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_wins_then_docker_then_podman() {
        let env = |k: &str| match k {
            "XDG_RUNTIME_DIR" => Some("/run/user/1000".to_string()),
            _ => None,
        };
        assert_eq!(
            candidates(&env),
            [
                "unix:///var/run/docker.sock",
                "unix:///run/podman/podman.sock",
                "unix:///run/user/1000/podman/podman.sock"
            ]
        );
        let env = |k: &str| (k == "DOCKER_HOST").then(|| "unix:///x.sock".to_string());
        assert_eq!(candidates(&env), ["unix:///x.sock"]);
    }
}
