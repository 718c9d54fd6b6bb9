//! Watching the DAG folder: OS notifications (notify, recursive) turned into debounced batches
//! of changed paths on a channel.
//!
//! A burst of events (an editor's atomic rename, truncate-and-write, 50 quick saves) ends in one
//! batch once the folder has been quiet for [`QUIET`]. Hidden files, `__pycache__`, backup and
//! swap files are dropped here. If the OS watcher cannot start (e.g. the inotify limit), the
//! folder is polled instead, with a warning.
//!
//! **Invariant:** the watcher talks to the rest only through its channel; it knows nothing of
//! parsing, the store or HTTP.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// How long the folder must be quiet before a batch is sent.
pub const QUIET: Duration = Duration::from_millis(20);
/// A continuous stream of events still sends a batch this often.
pub const MAX_WAIT: Duration = Duration::from_secs(2);
/// Poll interval when OS notifications are unavailable.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How the folder is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// OS notifications, falling back to polling if they cannot start.
    Auto,
    /// Always poll.
    Poll,
}

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchHandle {
    _watcher: Box<dyn Watcher + Send>,
    pub polling: bool,
}

/// Whether a path can matter to DAG parsing at all.
pub fn relevant(root: &Path, path: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name == ".airflowignore" {
        return true;
    }
    if crate::dag::discover::is_ignored_name(rel)
        || name.ends_with(".swp")
        || name.ends_with(".bak")
        || name == "4913"
    {
        return false;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("py") => true,
        Some("yaml") => name == crate::dag::project::FILE,
        // A directory (renamed or removed) or an extension-less file: let the caller decide.
        None => true,
        _ => false,
    }
}

/// Starts watching `root`; debounced batches of relevant paths arrive on the returned channel.
pub fn watch(
    root: &Path,
    mode: Mode,
) -> notify::Result<(WatchHandle, mpsc::Receiver<Vec<PathBuf>>)> {
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<PathBuf>();
    let handler = move |res: notify::Result<notify::Event>| match res {
        Ok(ev) => {
            if matches!(ev.kind, notify::EventKind::Access(_)) {
                return;
            }
            for p in ev.paths {
                let _ = raw_tx.send(p);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "file watcher error; the periodic rescan will catch up")
        }
    };
    let (watcher, polling): (Box<dyn Watcher + Send>, bool) = match mode {
        Mode::Auto => match notify::recommended_watcher(handler.clone())
            .and_then(|mut w| w.watch(root, RecursiveMode::Recursive).map(|_| w))
        {
            Ok(w) => (Box::new(w), false),
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "cannot watch {} with OS notifications (inotify limit? raise fs.inotify.max_user_watches); polling every {:?} instead",
                    root.display(),
                    POLL_INTERVAL
                );
                (poll_watcher(root, handler)?, true)
            }
        },
        Mode::Poll => {
            tracing::info!(
                "watching {} by polling every {:?}",
                root.display(),
                POLL_INTERVAL
            );
            (poll_watcher(root, handler)?, true)
        }
    };
    let (tx, rx) = mpsc::channel(64);
    let root = root.to_path_buf();
    tokio::spawn(async move {
        while let Some(first) = raw_rx.recv().await {
            let mut batch = BTreeSet::new();
            batch.insert(first);
            let started = tokio::time::Instant::now();
            loop {
                let left = MAX_WAIT.saturating_sub(started.elapsed());
                match tokio::time::timeout(QUIET.min(left), raw_rx.recv()).await {
                    Ok(Some(p)) => {
                        batch.insert(p);
                    }
                    Ok(None) => break,
                    Err(_) => break,
                }
                if started.elapsed() >= MAX_WAIT {
                    break;
                }
            }
            let paths: Vec<PathBuf> = batch.into_iter().filter(|p| relevant(&root, p)).collect();
            if !paths.is_empty() && tx.send(paths).await.is_err() {
                break;
            }
        }
    });
    Ok((
        WatchHandle {
            _watcher: watcher,
            polling,
        },
        rx,
    ))
}

fn poll_watcher<F: notify::EventHandler>(
    root: &Path,
    handler: F,
) -> notify::Result<Box<dyn Watcher + Send>> {
    let cfg = notify::Config::default()
        .with_poll_interval(POLL_INTERVAL)
        .with_compare_contents(false);
    let mut w = notify::PollWatcher::new(handler, cfg)?;
    w.watch(root, RecursiveMode::Recursive)?;
    Ok(Box::new(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dag_relevant_paths_pass() {
        let root = Path::new("/d");
        for ok in [
            "/d/a.py",
            "/d/sub/b.py",
            "/d/p/leoflow.yaml",
            "/d/.airflowignore",
            "/d/newdir",
        ] {
            assert!(relevant(root, Path::new(ok)), "{ok}");
        }
        for no in [
            "/d/.a.py.swp",
            "/d/__pycache__/a.cpython-311.pyc",
            "/d/a.py~",
            "/d/.hidden/x.py",
            "/d/notes.txt",
            "/d/4913",
            "/d/x.yaml",
        ] {
            assert!(!relevant(root, Path::new(no)), "{no}");
        }
    }
}
