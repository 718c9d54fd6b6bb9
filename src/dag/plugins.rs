//! Airflow plugins of the DAG folder: `AirflowPlugin` subclasses in the files of `plugins/`
//! next to the DAG folder (Airflow's `plugins_folder`), as `python/boot.py plugins` reports
//! them (`python/PROTOCOL.md`, "Plugins"): Airflow's `PluginResponse` list, the files that
//! failed to import, and warnings (listeners are accepted and ignored).
//!
//! Called by the API (`GET /api/v2/plugins`, `/plugins/importErrors`), on the blocking pool.
//! **Invariant:** no HTTP and no SQLite; the Python process is bounded by `timeout`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// What `boot.py plugins` reports.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Report {
    pub plugins: Vec<Value>,
    pub import_errors: Vec<Value>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The plugins folder of a DAG folder: `plugins/` next to it.
pub fn folder(dags_folder: &Path) -> PathBuf {
    dags_folder
        .parent()
        .unwrap_or(Path::new("/"))
        .join("plugins")
}

/// Loads the plugins of `dags_folder`'s plugins folder with `python` and the runtime tree.
pub fn load(
    python: &Path,
    runtime: &Path,
    dags_folder: &Path,
    timeout: Duration,
) -> Result<Report, String> {
    if !folder(dags_folder).is_dir() {
        return Ok(Report::default());
    }
    let mut child = std::process::Command::new(python)
        .arg("-B")
        .arg(runtime.join("boot.py"))
        .arg("plugins")
        .arg(dags_folder)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if std::time::Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "loading the plugins of {} timed out after {} s",
                    folder(dags_folder).display(),
                    timeout.as_secs()
                ));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("boot.py plugins answered no JSON ({e})"))
}
