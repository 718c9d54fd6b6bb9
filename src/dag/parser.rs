//! A pool of warm Python parse workers (`boot.py worker`): each has the shim imported and
//! forks a child per file, so a parse costs a fork, not an interpreter start.
//!
//! A worker that dies, hangs past the timeout or answers garbage is killed and replaced on
//! the next request; the file it was parsing gets an import error. Nothing a DAG file does
//! can take the pool down.
//!
//! **Invariant:** parse workers never see the server's own secrets: `LEOFLOW_*` variables are
//! removed from their environment.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{Mutex, mpsc};

use super::model::{ImportError, ParseResult};

/// What every worker needs.
#[derive(Debug, Clone)]
pub struct ParserConfig {
    /// The resolved interpreter (`sys.executable`).
    pub python: PathBuf,
    /// The runtime directory holding `boot.py`.
    pub runtime: PathBuf,
    /// The DAG folder, put on `sys.path` as Airflow does.
    pub dags_folder: PathBuf,
    /// Per-file import timeout.
    pub timeout: Duration,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

/// The pool; share it by `Arc`.
pub struct ParserPool {
    config: ParserConfig,
    slots: Vec<Mutex<Option<Worker>>>,
    free_tx: mpsc::UnboundedSender<usize>,
    free_rx: Mutex<mpsc::UnboundedReceiver<usize>>,
}

impl ParserPool {
    /// A pool of `size` workers, started lazily on first use.
    pub fn new(config: ParserConfig, size: usize) -> ParserPool {
        let size = size.max(1);
        let (free_tx, free_rx) = mpsc::unbounded_channel();
        for i in 0..size {
            let _ = free_tx.send(i);
        }
        ParserPool {
            config,
            slots: (0..size).map(|_| Mutex::new(None)).collect(),
            free_tx,
            free_rx: Mutex::new(free_rx),
        }
    }

    pub fn config(&self) -> &ParserConfig {
        &self.config
    }

    /// Starts every worker now (so the first parses do not pay interpreter start-up).
    pub async fn warm_up(&self) {
        for slot in &self.slots {
            let mut w = slot.lock().await;
            if w.is_none() {
                match spawn(&self.config) {
                    Ok(worker) => *w = Some(worker),
                    Err(e) => tracing::warn!(error = %e, "cannot start a parse worker"),
                }
            }
        }
    }

    /// Parses one file on a free worker. Never fails: problems are import errors.
    pub async fn parse(&self, file: &Path) -> ParseResult {
        let idx = {
            let mut rx = self.free_rx.lock().await;
            rx.recv().await.expect("the pool owns a sender")
        };
        let out = self.parse_on(idx, file).await;
        let _ = self.free_tx.send(idx);
        out
    }

    async fn parse_on(&self, idx: usize, file: &Path) -> ParseResult {
        let started = std::time::Instant::now();
        let mut slot = self.slots[idx].lock().await;
        let fail = |message: String| ParseResult {
            file: file.display().to_string(),
            dags: vec![],
            import_errors: vec![ImportError::new(file.display().to_string(), None, message)],
            imports: vec![],
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            warnings: vec![],
        };
        if slot.is_none() {
            match spawn(&self.config) {
                Ok(w) => *slot = Some(w),
                Err(e) => {
                    return fail(format!(
                        "cannot start the Python parse worker ({}): {e}",
                        self.config.python.display()
                    ));
                }
            }
        }
        let worker = slot.as_mut().expect("just filled");
        worker.next_id += 1;
        let id = worker.next_id;
        let request = serde_json::json!({
            "id": id,
            "op": "parse",
            "path": file,
            "dags_folder": self.config.dags_folder,
            "timeout": self.config.timeout.as_secs_f64(),
        });
        let exchange = async {
            let mut line = serde_json::to_vec(&request).expect("serialisable");
            line.push(b'\n');
            worker.stdin.write_all(&line).await?;
            worker.stdin.flush().await?;
            worker.stdout.next_line().await
        };
        // The worker enforces the timeout itself; this outer bound only catches a stuck worker.
        let outer = self.config.timeout + Duration::from_secs(10);
        let answer = match tokio::time::timeout(outer, exchange).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => {
                kill(slot.take()).await;
                return fail(
                    "the Python parse worker exited while importing this file; it was restarted"
                        .into(),
                );
            }
            Err(_) => {
                kill(slot.take()).await;
                return fail(format!(
                    "DAG file import timed out after {}s (the parse worker stopped answering and was restarted)",
                    self.config.timeout.as_secs()
                ));
            }
        };
        #[derive(serde::Deserialize)]
        struct Answer {
            id: Option<u64>,
            error: Option<String>,
            #[serde(flatten)]
            result: ParseResult,
        }
        match serde_json::from_str::<Answer>(&answer) {
            Ok(a) if a.id == Some(id) => match a.error {
                Some(e) => fail(format!("the parse worker refused the request: {e}")),
                None => a.result,
            },
            _ => {
                kill(slot.take()).await;
                fail("the parse worker answered something unexpected; it was restarted".into())
            }
        }
    }

    /// Stops every worker.
    pub async fn shutdown(&self) {
        for slot in &self.slots {
            kill(slot.lock().await.take()).await;
        }
    }
}

fn spawn(config: &ParserConfig) -> std::io::Result<Worker> {
    let mut cmd = Command::new(&config.python);
    cmd.arg("-B")
        .arg(config.runtime.join("boot.py"))
        .arg("worker")
        .current_dir(&config.dags_folder)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("LEOFLOW_") {
            cmd.env_remove(k);
        }
    }
    if !config.dags_folder.is_dir() {
        cmd.current_dir(&config.runtime);
    }
    let mut child = cmd.spawn()?;
    let stdin = child.stdin.take().expect("piped");
    let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    let stderr = child.stderr.take().expect("piped");
    // What DAG files print while importing goes to stderr: surface it at debug level.
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            tracing::debug!(target: "leoflow::dag::import", "{l}");
        }
    });
    Ok(Worker {
        child,
        stdin,
        stdout,
        next_id: 0,
    })
}

async fn kill(worker: Option<Worker>) {
    if let Some(mut w) = worker {
        let _ = w.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(2), w.child.wait()).await;
    }
}
