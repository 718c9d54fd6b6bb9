//! The state directory (`LEOFLOW_HOME`): its layout and the exclusive server lock.
//!
//! Layout: `leoflow.db` (SQLite), `xcom/` (sled), `logs/`, `runtime/` (embedded Python written
//! out), `leoflow.lock` (held by the running server), optional `leoflow.toml`.
//!
//! **Invariant:** at most one server process owns a home at a time; the lock is an OS file lock,
//! so it is released even when the holder is killed with `kill -9`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Paths inside one home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// Errors while preparing or locking the home.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error(
        "cannot create the Leoflow home {path}: {err} (choose another with --home or LEOFLOW_HOME)"
    )]
    Create { path: PathBuf, err: std::io::Error },
    #[error(
        "another Leoflow server (PID {pid}) is already using the home {home}; stop it first, or start this one with another --home"
    )]
    Locked { pid: String, home: PathBuf },
    #[error("cannot lock {path}: {err}")]
    Lock { path: PathBuf, err: std::io::Error },
}

impl Home {
    /// A handle on `root`; nothing is created until [`Home::create`].
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// Creates the home and its sub-directories if missing.
    pub fn create(&self) -> Result<(), HomeError> {
        for dir in [
            self.root.clone(),
            self.xcom_dir(),
            self.logs_dir(),
            self.runtime_dir(),
        ] {
            std::fs::create_dir_all(&dir).map_err(|err| HomeError::Create { path: dir, err })?;
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn db_path(&self) -> PathBuf {
        self.root.join("leoflow.db")
    }
    pub fn xcom_dir(&self) -> PathBuf {
        self.root.join("xcom")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn runtime_dir(&self) -> PathBuf {
        self.root.join("runtime")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.root.join("leoflow.lock")
    }

    /// Takes the exclusive server lock and writes this PID into it.
    ///
    /// Fails with [`HomeError::Locked`] naming the holder's PID when another process has it.
    pub fn lock(&self) -> Result<HomeLock, HomeError> {
        let path = self.lock_path();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|err| HomeError::Lock {
                path: path.clone(),
                err,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(HomeError::Locked {
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.into()
                    },
                    home: self.root.clone(),
                });
            }
            Err(std::fs::TryLockError::Error(err)) => return Err(HomeError::Lock { path, err }),
        }
        let write = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.seek(SeekFrom::Start(0))?;
            writeln!(f, "{}", std::process::id())?;
            f.sync_all()
        };
        write(&mut file).map_err(|err| HomeError::Lock { path, err })?;
        Ok(HomeLock { _file: file })
    }

    /// Whether some process holds the server lock now (without taking it).
    pub fn is_locked(&self) -> Option<String> {
        match self.lock() {
            Ok(_lock) => None,
            Err(HomeError::Locked { pid, .. }) => Some(pid),
            Err(_) => None,
        }
    }
}

/// Holds the home's lock until dropped (or until the process dies).
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        home.create().unwrap();
        let _held = home.lock().unwrap();
        let err = home.lock().unwrap_err().to_string();
        assert!(
            err.contains(&format!("PID {}", std::process::id())),
            "{err}"
        );
        drop(_held);
        // Another test's fork may hold a copy of the descriptor until it execs (the file is
        // close-on-exec), so allow a moment for the lock to come free.
        let again = (0..200).find_map(|_| {
            home.lock().ok().or_else(|| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                None
            })
        });
        assert!(again.is_some(), "the lock was not released");
    }
}
