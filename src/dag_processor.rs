//! The DAG processor (Airflow's name for the role): keeps the store in step with the DAG folder.
//!
//! On start it parses every DAG source in the background (the API already serves); then it
//! re-parses only what the watcher reports changed, records each result in one transaction
//! (`store::dags`), and publishes `dag_updated`, `dag_removed` and `import_errors` events. A
//! periodic rescan catches anything a file system failed to report.
//!
//! **Invariant:** a broken file never removes the last good version of its DAGs; only a file that
//! is gone (or imports cleanly without them) makes DAGs stale.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, mpsc};

use crate::dag::discover::{self, Source};
use crate::dag::parser::ParserPool;
use crate::events::EventBus;
use crate::health::{Component, Heartbeats};
use crate::store::Store;
use crate::store::dags::{self, Change, ParsedFile};

/// How often the whole folder is re-checked, in case the watcher missed something.
pub const RESCAN_EVERY: Duration = Duration::from_secs(30);

/// Parse progress, reported by the health endpoint.
#[derive(Debug, Default)]
pub struct Progress {
    pub files: AtomicUsize,
    pub parsed: AtomicUsize,
    pub initial_scan_done: AtomicBool,
    pub parses_total: AtomicUsize,
}

/// The processor; share by `Arc`.
pub struct DagProcessor {
    pool: Arc<ParserPool>,
    store: Store,
    events: EventBus,
    health: Arc<Heartbeats>,
    root: PathBuf,
    paused_by_default: bool,
    pub progress: Arc<Progress>,
    /// Content hash of each source at its last parse (with the helper modules it imported),
    /// to skip saves that changed nothing.
    seen: Mutex<HashMap<PathBuf, [u8; 32]>>,
    /// The helper modules each DAG file imported at its last parse.
    imports: Mutex<HashMap<PathBuf, Vec<PathBuf>>>,
}

impl DagProcessor {
    pub fn new(
        pool: Arc<ParserPool>,
        store: Store,
        events: EventBus,
        health: Arc<Heartbeats>,
        root: PathBuf,
        paused_by_default: bool,
        progress: Arc<Progress>,
    ) -> DagProcessor {
        DagProcessor {
            pool,
            store,
            events,
            health,
            root,
            paused_by_default,
            progress,
            seen: Mutex::default(),
            imports: Mutex::default(),
        }
    }

    /// Runs until `changes` closes: initial scan, then batches from the watcher, files asked
    /// for (`requests`: parsed even when unchanged, as Airflow's priority parsing requests) and
    /// rescans.
    pub async fn run(
        self: Arc<Self>,
        mut changes: mpsc::Receiver<Vec<PathBuf>>,
        mut requests: mpsc::UnboundedReceiver<PathBuf>,
    ) {
        self.health.beat(Component::DagProcessor);
        self.pool.warm_up().await;
        self.rescan(true).await;
        self.progress
            .initial_scan_done
            .store(true, Ordering::Relaxed);
        let mut rescan = tokio::time::interval(RESCAN_EVERY);
        rescan.tick().await;
        let mut beat = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                batch = changes.recv() => match batch {
                    Some(paths) => self.handle(paths).await,
                    None => break,
                },
                Some(file) = requests.recv() => self.handle(vec![file]).await,
                _ = rescan.tick() => self.rescan(false).await,
                _ = beat.tick() => self.health.beat(Component::DagProcessor),
            }
        }
    }

    /// Parses every source in the folder (only changed ones unless `all`), and retires files
    /// the store knows that are gone.
    pub async fn rescan(&self, all: bool) {
        let sources = discover::discover(&self.root);
        self.progress.files.store(sources.len(), Ordering::Relaxed);
        if all {
            self.progress.parsed.store(0, Ordering::Relaxed);
        }
        let present: HashSet<String> = sources
            .iter()
            .map(|s| s.dag_file().display().to_string())
            .collect();
        let known = {
            let store = self.store.clone();
            store.read(dags::known_files).await.unwrap_or_default()
        };
        for gone in known.into_iter().filter(|f| !present.contains(f)) {
            self.remove(Path::new(&gone)).await;
        }
        let jobs = sources.iter().map(|s| self.process(s, !all));
        futures_util::future::join_all(jobs).await;
        self.health.beat(Component::DagProcessor);
    }

    /// Handles one debounced batch of changed paths.
    pub async fn handle(&self, paths: Vec<PathBuf>) {
        let structural = paths.iter().any(|p| {
            p.file_name().is_some_and(|n| n == ".airflowignore")
                || (p.extension().is_none() && !p.is_file())
        });
        if structural {
            return self.rescan(false).await;
        }
        let sources = discover::discover(&self.root);
        let mut todo: Vec<&Source> = Vec::new();
        for p in &paths {
            // A file inside a Leoflow project re-parses the project (its dag.py, its
            // leoflow.yaml or a helper module changed).
            let project = sources
                .iter()
                .find(|s| matches!(s, Source::Project { dir, .. } if p.starts_with(dir)));
            let found = project.or_else(|| sources.iter().find(|s| s.dag_file() == p.as_path()));
            let dependents = self.dependents(p).await;
            for d in &dependents {
                if let Some(s) = sources.iter().find(|s| s.dag_file() == d.as_path())
                    && !todo.contains(&s)
                {
                    todo.push(s);
                }
            }
            match found {
                Some(s) => {
                    if !todo.contains(&s) {
                        todo.push(s);
                    }
                }
                // A helper module that DAG files import: they were re-parsed above.
                None if !dependents.is_empty() => {}
                None => {
                    // Gone, renamed away, now ignored, or no longer looks like a DAG file.
                    self.remove(p).await;
                }
            }
        }
        let jobs = todo.into_iter().map(|s| self.process(s, false));
        futures_util::future::join_all(jobs).await;
        self.health.beat(Component::DagProcessor);
    }

    /// The DAG files whose last parse imported `module`.
    async fn dependents(&self, module: &Path) -> Vec<PathBuf> {
        let imports = self.imports.lock().await;
        let mut out: Vec<PathBuf> = imports
            .iter()
            .filter(|(_, deps)| deps.iter().any(|d| d == module))
            .map(|(file, _)| file.clone())
            .collect();
        out.sort();
        out
    }

    async fn remove(&self, file: &Path) {
        self.seen.lock().await.remove(file);
        self.imports.lock().await.remove(file);
        let f = file.display().to_string();
        match self
            .store
            .write(move |tx| dags::record_removed(tx, &f))
            .await
        {
            Ok(changes) => self.publish(changes),
            Err(e) => {
                tracing::error!(error = %e, file = %file.display(), "recording a removed DAG file failed")
            }
        }
    }

    /// Parses one source and records the result; with `skip_unchanged`, a source whose
    /// content is the same as at its last parse is skipped.
    async fn process(&self, source: &Source, skip_unchanged: bool) {
        let file = source.dag_file().to_path_buf();
        let Ok(text) = tokio::fs::read_to_string(&file).await else {
            return self.remove(&file).await;
        };
        let known_imports = self.imports.lock().await.get(&file).cloned();
        let hash = content_hash(source, &text, known_imports.as_deref().unwrap_or(&[])).await;
        {
            let seen = self.seen.lock().await;
            if skip_unchanged && seen.get(&file) == Some(&hash) {
                return;
            }
        }
        let result = crate::dag::load_source(&self.pool, source).await;
        let imports: Vec<PathBuf> = result.imports.iter().map(PathBuf::from).collect();
        // The hash that is remembered covers the helper modules this parse actually used.
        let hash = if known_imports.as_deref() == Some(imports.as_slice()) {
            hash
        } else {
            content_hash(source, &text, &imports).await
        };
        self.imports.lock().await.insert(file.clone(), imports);
        self.progress.parses_total.fetch_add(1, Ordering::Relaxed);
        for w in &result.warnings {
            tracing::warn!(file = w.filename, line = w.lineno, "{}", w.message);
        }
        let relative = file
            .strip_prefix(&self.root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let file_s = file.display().to_string();
        let paused = self.paused_by_default;
        let res = self
            .store
            .write(move |tx| {
                dags::record_parse(
                    tx,
                    &ParsedFile {
                        file: &file_s,
                        relative: &relative,
                        source: &text,
                        result: &result,
                    },
                    paused,
                )
            })
            .await;
        match res {
            Ok(changes) => {
                self.seen.lock().await.insert(file, hash);
                self.progress.parsed.fetch_add(1, Ordering::Relaxed);
                self.publish(changes);
            }
            Err(e) => {
                tracing::error!(error = %e, file = %file.display(), "recording a parse failed")
            }
        }
    }

    fn publish(&self, changes: Vec<Change>) {
        for c in changes {
            match c {
                Change::DagUpdated {
                    dag_id,
                    version_number,
                    new_version,
                } => {
                    tracing::info!(dag_id, version_number, new_version, "DAG updated");
                    self.events.publish(
                        "dag_updated",
                        json!({"dag_id": dag_id, "version_number": version_number}),
                    );
                }
                Change::DagStale { dag_id } => {
                    tracing::info!(dag_id, "DAG removed (stale)");
                    self.events
                        .publish("dag_removed", json!({"dag_id": dag_id}));
                }
                Change::ImportErrors { filename } => {
                    self.events
                        .publish("import_errors", json!({"filename": filename}));
                }
            }
        }
    }
}

/// A hash of what a parse of `source` depends on: the DAG file, the helper modules it
/// imported, plus for a project its `leoflow.yaml` and sibling modules.
async fn content_hash(source: &Source, text: &str, imports: &[PathBuf]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    for p in imports {
        h.update(p.display().to_string().as_bytes());
        if let Ok(b) = tokio::fs::read(p).await {
            h.update(&b);
        }
    }
    if let Source::Project { dir, .. } = source {
        let mut names = Vec::new();
        if let Ok(mut rd) = tokio::fs::read_dir(dir).await {
            while let Ok(Some(e)) = rd.next_entry().await {
                names.push(e.path());
            }
        }
        names.sort();
        for p in names {
            let ext = p.extension().and_then(|e| e.to_str());
            if matches!(ext, Some("py") | Some("yaml")) {
                h.update(p.display().to_string().as_bytes());
                if let Ok(b) = tokio::fs::read(&p).await {
                    h.update(&b);
                }
            }
        }
    }
    h.finalize().into()
}
