//! The per-try log: [`LogWriter`] appends NDJSON records (time, stream, line, level) to the
//! try's log file, drops task output past `log_max_bytes` after one notice, and publishes
//! every record as a `log` event; [`Tail`] forwards the records another process (a Python
//! task's child) appends to the same file.
//!
//! **Invariant:** never fails a try: a record that cannot be written is lost, not raised.
//! Knows nothing of processes or of how a task runs.
//!
//! Called by `subprocess` (opens the log of each try), `bash`, `http` and `python`.

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::TaskRequest;
use crate::events::EventBus;

/// How often the lines a Python task appends to its log are forwarded to subscribers.
pub(super) const LOG_TAIL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// Writes one try's log file and publishes its lines.
pub(super) struct LogWriter {
    file: tokio::fs::File,
    events: EventBus,
    key: Value,
    /// Bytes of task output written, against `max_bytes` (0: no cap).
    written: u64,
    max_bytes: u64,
    capped: bool,
}

impl LogWriter {
    /// Opens (appends to) the log of `req`'s try, creating its folders.
    pub(super) async fn open(req: &TaskRequest, events: EventBus) -> std::io::Result<LogWriter> {
        if let Some(parent) = req.log_path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&req.log_path)
            .await?;
        let c = &req.context;
        Ok(LogWriter {
            file,
            events,
            key: json!({"dag_id": c.dag_id, "run_id": c.run_id, "task_id": c.task_id, "map_index": c.map_index, "try_number": req.try_number}),
            written: 0,
            max_bytes: req.log_max_bytes,
            capped: false,
        })
    }

    /// A writer to `path` with no cap, for unit tests.
    #[cfg(test)]
    pub(super) async fn scratch(path: &std::path::Path) -> LogWriter {
        LogWriter {
            file: tokio::fs::File::create(path).await.unwrap(),
            events: EventBus::new(16),
            key: Value::Null,
            written: 0,
            max_bytes: 0,
            capped: false,
        }
    }

    /// Waits until every record is written to the file: a tokio file hands writes to a
    /// blocking thread, so a reader could otherwise miss the last lines of a finished try.
    pub(super) async fn finish(&mut self) {
        let _ = self.file.flush().await;
    }

    /// Appends one record; `stream` is `stdout`, `stderr` or `leoflow` (never capped).
    pub(super) async fn line(&mut self, stream: &str, level: Option<&str>, text: &str) {
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut rec = json!({"timestamp": ts, "stream": stream, "line": text});
        if let Some(l) = level {
            rec["level"] = json!(l);
        }
        self.record(rec).await;
    }

    /// Appends a record another writer made (the Python runtime in a container).
    pub(super) async fn record(&mut self, rec: Value) {
        let stream = rec["stream"].as_str().unwrap_or("stdout").to_string();
        let mut bytes = serde_json::to_vec(&rec).unwrap_or_default();
        bytes.push(b'\n');
        if self.max_bytes > 0 && stream != "leoflow" {
            if self.capped {
                return;
            }
            if self.written + bytes.len() as u64 > self.max_bytes {
                self.capped = true;
                let notice = format!(
                    "Log size limit of {} bytes reached: further task output is dropped (raise log_max_bytes to keep more)",
                    self.max_bytes
                );
                Box::pin(self.line("leoflow", Some("warning"), &notice)).await;
                return;
            }
            self.written += bytes.len() as u64;
        }
        let _ = self.file.write_all(&bytes).await;
        let mut ev = self.key.clone();
        ev["lines"] = json!([rec]);
        self.events.publish("log", ev);
    }
}

/// Follows a log file another process appends NDJSON records to.
pub(super) struct Tail {
    path: std::path::PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl Tail {
    /// Starts at the current end of the file.
    pub(super) async fn new(path: &std::path::Path) -> Tail {
        let offset = tokio::fs::metadata(path)
            .await
            .map(|m| m.len())
            .unwrap_or(0);
        Tail {
            path: path.to_path_buf(),
            offset,
            partial: Vec::new(),
        }
    }

    /// Publishes the complete records appended since the last call as one `log` event.
    pub(super) async fn forward(&mut self, log: &LogWriter) {
        let lines = self.read().await;
        if !lines.is_empty() {
            let mut ev = log.key.clone();
            ev["lines"] = Value::Array(lines);
            log.events.publish("log", ev);
        }
    }

    /// Writes the complete records appended since the last call into `log` (a file another
    /// process writes outside the try's log: the runtime in a container).
    pub(super) async fn copy(&mut self, log: &mut LogWriter) {
        for rec in self.read().await {
            log.record(rec).await;
        }
    }

    /// The complete records appended since the last call.
    async fn read(&mut self) -> Vec<Value> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let Ok(mut f) = tokio::fs::File::open(&self.path).await else {
            return Vec::new();
        };
        if f.seek(std::io::SeekFrom::Start(self.offset)).await.is_err() {
            return Vec::new();
        }
        let mut buf = Vec::new();
        let Ok(n) = f.read_to_end(&mut buf).await else {
            return Vec::new();
        };
        self.offset += n as u64;
        self.partial.extend_from_slice(&buf);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return Vec::new();
        };
        let lines: Vec<Value> = self.partial[..end]
            .split(|b| *b == b'\n')
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect();
        self.partial.drain(..=end);
        lines
    }
}
