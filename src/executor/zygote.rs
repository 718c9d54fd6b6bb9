//! The client of `boot.py zygote`: one warm Python process with the shim and the task runtime
//! imported, which forks a child per task instance (contract: `python/PROTOCOL.md`, "Zygote
//! protocol"). A Python task then costs a fork, not an interpreter start.
//!
//! The zygote is started on first use and restarted on the next task if it dies; its tasks
//! still running at that moment are reported as crashed. When this process goes away, the
//! zygote's stdin closes and it SIGKILLs every task process group it started (also after a
//! `kill -9` of the server).
//!
//! **Invariant:** the zygote's own environment is scrubbed like a task's; each child's
//! environment is exactly the `env` of its TI. A pid it answers is used only once
//! `process::task_group` accepts it (positive, not init, within `i32`, not the server's own
//! group); anything else fails the task instead of reaching `kill`.
//!
//! Called by `python` (`run`, per try) and `subprocess` (which owns it; `warm` at start-up).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::oneshot;

/// How a task process ended, as the zygote reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exit {
    /// The exit code, or `-SIG` when killed by a signal.
    pub returncode: i64,
    pub signal: Option<i64>,
}

/// A task process the zygote started: its pid (also its process group) and its end.
pub struct Started {
    pub pid: u32,
    pub exit: oneshot::Receiver<Result<Exit, String>>,
}

#[derive(Default)]
struct Pending {
    pid: Option<oneshot::Sender<Result<u32, String>>>,
    exit: Option<oneshot::Sender<Result<Exit, String>>>,
}

type PendingMap = Arc<Mutex<HashMap<u64, Pending>>>;

struct Proc {
    child: Child,
    stdin: ChildStdin,
    pending: PendingMap,
    /// False once stdout closed (the zygote exited or crashed).
    alive: Arc<std::sync::atomic::AtomicBool>,
}

/// A lazily started, self-healing zygote.
pub struct Zygote {
    proc: tokio::sync::Mutex<Option<Proc>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Default for Zygote {
    fn default() -> Self {
        Zygote {
            proc: tokio::sync::Mutex::new(None),
            next_id: std::sync::atomic::AtomicU64::new(1),
        }
    }
}

fn lock(p: &PendingMap) -> std::sync::MutexGuard<'_, HashMap<u64, Pending>> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

impl Zygote {
    /// Hands `ti` (the TI object of the protocol) to the zygote, starting it with
    /// `python -B <runtime>/boot.py zygote` if needed; answers once the child has its own
    /// session.
    pub async fn run(
        &self,
        python: &std::path::Path,
        runtime: &std::path::Path,
        ti: Value,
    ) -> Result<Started, String> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (pid_tx, pid_rx) = oneshot::channel();
        let (exit_tx, exit_rx) = oneshot::channel();
        {
            let mut guard = self.proc.lock().await;
            let p = alive(&mut guard, python, runtime)?;
            lock(&p.pending).insert(
                id,
                Pending {
                    pid: Some(pid_tx),
                    exit: Some(exit_tx),
                },
            );
            let mut line = serde_json::to_vec(&json!({"id": id, "op": "run", "ti": ti}))
                .map_err(|e| e.to_string())?;
            line.push(b'\n');
            if let Err(e) = p.stdin.write_all(&line).await {
                lock(&p.pending).remove(&id);
                p.alive.store(false, std::sync::atomic::Ordering::Release);
                return Err(format!("the Python task runtime is not reachable: {e}"));
            }
            let _ = p.stdin.flush().await;
        }
        let pid = pid_rx
            .await
            .map_err(|_| "the Python task runtime exited before starting the task".to_string())??;
        Ok(Started { pid, exit: exit_rx })
    }

    /// Starts the zygote now if it is not running, so the first task does not wait for it.
    pub async fn warm(
        &self,
        python: &std::path::Path,
        runtime: &std::path::Path,
    ) -> Result<(), String> {
        alive(&mut *self.proc.lock().await, python, runtime).map(|_| ())
    }

    /// Asks the zygote to kill its children and exit (server shutdown).
    pub async fn shutdown(&self) {
        let mut guard = self.proc.lock().await;
        if let Some(mut p) = guard.take() {
            let _ = p
                .stdin
                .write_all(b"{\"id\": 0, \"op\": \"shutdown\"}\n")
                .await;
            let _ = p.stdin.flush().await;
            drop(p.stdin);
            let wait = tokio::time::timeout(std::time::Duration::from_secs(3), p.child.wait());
            if wait.await.is_err() {
                let _ = p.child.start_kill();
            }
        }
    }
}

/// The running zygote, started (and a dead one reaped) if needed.
fn alive<'a>(
    slot: &'a mut Option<Proc>,
    python: &std::path::Path,
    runtime: &std::path::Path,
) -> Result<&'a mut Proc, String> {
    if slot
        .as_ref()
        .is_none_or(|p| !p.alive.load(std::sync::atomic::Ordering::Acquire))
    {
        if let Some(mut old) = slot.take() {
            let _ = old.child.start_kill();
        }
        *slot = Some(spawn(python, runtime)?);
    }
    Ok(slot.as_mut().expect("just started"))
}

/// The zygote's environment: the same scrubbed base a task gets, nothing of the server's.
fn zygote_env() -> Vec<(String, String)> {
    let mut env = vec![
        (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        ),
        (
            "LANG".to_string(),
            std::env::var("LANG").unwrap_or_else(|_| "C.UTF-8".into()),
        ),
        (
            "TZ".to_string(),
            std::env::var("TZ").unwrap_or_else(|_| "UTC".into()),
        ),
        ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
    ];
    if let Ok(h) = std::env::var("HOME") {
        env.push(("HOME".into(), h));
    }
    env
}

fn spawn(python: &std::path::Path, runtime: &std::path::Path) -> Result<Proc, String> {
    let mut c = tokio::process::Command::new(python);
    c.arg("-B")
        .arg(runtime.join("boot.py"))
        .arg("zygote")
        .env_clear()
        .envs(zygote_env())
        .current_dir(runtime)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // No kill_on_drop: a SIGKILLed zygote could not kill its tasks' process groups. Dropping
    // the handle closes its stdin, and on EOF the zygote kills them and exits by itself.
    let mut child = c.spawn().map_err(|e| {
        format!(
            "cannot start the Python task runtime ({} {}): {e}",
            python.display(),
            PathBuf::from(runtime).join("boot.py").display()
        )
    })?;
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let pending: PendingMap = Arc::default();
    let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
    tokio::spawn(read_answers(stdout, pending.clone(), alive.clone()));
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            tracing::warn!(target: "leoflow::zygote", "{l}");
        }
    });
    Ok(Proc {
        child,
        stdin,
        pending,
        alive,
    })
}

async fn read_answers(
    stdout: tokio::process::ChildStdout,
    pending: PendingMap,
    alive: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            tracing::warn!(target: "leoflow::zygote", line, "unexpected line from the zygote");
            continue;
        };
        let Some(id) = msg["id"].as_u64() else {
            if let Some(e) = msg["error"].as_str() {
                tracing::warn!(target: "leoflow::zygote", error = e, "the zygote refused a line");
            }
            continue;
        };
        let mut map = lock(&pending);
        if msg["event"] == "exit" {
            if let Some(mut p) = map.remove(&id)
                && let Some(tx) = p.exit.take()
            {
                let _ = tx.send(Ok(Exit {
                    returncode: msg["returncode"].as_i64().unwrap_or(-1),
                    signal: msg["signal"].as_i64(),
                }));
            }
        } else if let Some(p) = map.get_mut(&id) {
            if let Some(raw) = msg.get("pid") {
                let pid = answered_pid(raw);
                let refused = pid.is_err();
                if let Some(tx) = p.pid.take() {
                    let _ = tx.send(pid);
                }
                if refused {
                    // The task fails now; its exit, if reported, has nobody to tell.
                    map.remove(&id);
                }
            } else if let Some(e) = msg["error"].as_str() {
                if let Some(tx) = p.pid.take() {
                    let _ = tx.send(Err(format!(
                        "the Python task runtime refused the task: {e}"
                    )));
                }
                map.remove(&id);
            }
        }
    }
    alive.store(false, std::sync::atomic::Ordering::Release);
    for (_, mut p) in lock(&pending).drain() {
        if let Some(tx) = p.pid.take() {
            let _ = tx.send(Err("the Python task runtime exited".into()));
        }
        if let Some(tx) = p.exit.take() {
            let _ = tx.send(Err(
                "the Python task runtime (zygote) exited while the task ran".into(),
            ));
        }
    }
}

/// The pid the zygote answered for a started task, if it is one the executor may track and
/// kill (see `process::task_group`); otherwise the task's error.
fn answered_pid(raw: &Value) -> Result<u32, String> {
    let pid = raw.as_i64().ok_or_else(|| {
        format!("the Python task runtime answered a pid that is not a whole number: {raw}")
    })?;
    let group = super::process::task_group(pid)
        .map_err(|e| format!("the Python task runtime answered an unusable pid: {e}"))?;
    // Checked positive, so the conversion is exact.
    Ok(group.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_usable_pids_are_accepted() {
        assert_eq!(answered_pid(&json!(31337)), Ok(31337));
        for (raw, says) in [
            (json!(0), "pid 0 is not positive"),
            (json!(-5), "pid -5 is not positive"),
            (json!(1), "pid 1 is init"),
            (json!(2_147_483_648_u64), "pid 2147483648 is beyond"),
            (json!(u64::MAX), "not a whole number"),
            (json!("12"), "not a whole number"),
            (json!(null), "not a whole number"),
        ] {
            let e = answered_pid(&raw).unwrap_err();
            assert!(e.contains(says), "{raw}: {e}");
        }
    }
}
