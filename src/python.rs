//! Finding the Python interpreter that runs DAG files and tasks.
//!
//! The configured command (`python3`, a venv's `bin/python`, ...) is asked once for its real
//! `sys.executable` and version, so later parses and tasks never pay a launcher shim (pyenv's
//! costs ~100 ms a start).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest Python that DAG files may run on.
pub const MIN_VERSION: (u32, u32) = (3, 9);

/// A resolved interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The interpreter binary itself (`sys.executable`).
    pub executable: PathBuf,
    pub version: (u32, u32, u32),
}

/// Why an interpreter could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    #[error(
        "cannot find {command:?} on PATH; install Python {}.{} or newer, or point --python / LEOFLOW_PYTHON at an interpreter",
        MIN_VERSION.0, MIN_VERSION.1
    )]
    NotFound { command: PathBuf },
    #[error("{command:?} failed to report its version: {detail}")]
    Broken { command: PathBuf, detail: String },
    #[error(
        "{executable} is Python {}.{}.{}; Leoflow needs {}.{} or newer (set --python / LEOFLOW_PYTHON)",
        version.0, version.1, version.2, MIN_VERSION.0, MIN_VERSION.1
    )]
    TooOld {
        executable: PathBuf,
        version: (u32, u32, u32),
    },
}

/// Looks `command` up on `path_env` (unless it contains a `/`).
pub fn which(command: &Path, path_env: Option<&str>) -> Option<PathBuf> {
    if command.components().count() > 1 || command.is_absolute() {
        return command.is_file().then(|| command.to_path_buf());
    }
    let path_env = path_env?;
    std::env::split_paths(path_env)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(command))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Resolves `command` against `path_env` and asks it for its real executable and version.
pub fn resolve(command: &Path, path_env: Option<&str>) -> Result<Interpreter, PythonError> {
    let found = which(command, path_env).ok_or_else(|| PythonError::NotFound {
        command: command.to_path_buf(),
    })?;
    let mut cmd = Command::new(&found);
    cmd.args([
        "-I",
        "-S",
        "-c",
        "import sys; v=sys.version_info; print(sys.executable); print(v[0], v[1], v[2])",
    ]);
    if let Some(p) = path_env {
        cmd.env("PATH", p);
    }
    let out = cmd.output().map_err(|e| PythonError::Broken {
        command: found.clone(),
        detail: e.to_string(),
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let (exe, ver) = (lines.next(), lines.next());
    let parsed = ver.and_then(|v| {
        let n: Vec<u32> = v
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        (n.len() == 3).then(|| (n[0], n[1], n[2]))
    });
    let (Some(exe), Some(version), true) = (exe, parsed, out.status.success()) else {
        return Err(PythonError::Broken {
            command: found,
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    };
    let executable = if exe.is_empty() {
        found
    } else {
        PathBuf::from(exe)
    };
    if (version.0, version.1) < MIN_VERSION {
        return Err(PythonError::TooOld {
            executable,
            version,
        });
    }
    Ok(Interpreter {
        executable,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_path_is_not_found() {
        let e = resolve(Path::new("python3"), Some("")).unwrap_err();
        assert!(matches!(e, PythonError::NotFound { .. }));
        assert!(e.to_string().contains("LEOFLOW_PYTHON"));
    }

    #[test]
    fn real_python_resolves_to_its_executable() {
        let path = std::env::var("PATH").unwrap();
        let i = resolve(Path::new("python3"), Some(&path)).unwrap();
        assert!(i.executable.is_absolute());
        assert!(i.version >= (3, 9, 0));
    }
}
