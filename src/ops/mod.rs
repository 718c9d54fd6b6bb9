//! Every user-initiated mutation, in one place: trigger, clear, mark, delete, pause, notes,
//! XCom entries, backfills and the admin resources (variables, connections, pools).
//!
//! Each operation validates its input, opens one write transaction, applies the change,
//! writes its audit row **in the same transaction** (so an action and its record commit or
//! fail together), and once committed performs the side effects the change calls for
//! ([`Effects`]: events on the bus, killing tries that no longer should run, clearing XCom,
//! waking the scheduler). It returns typed results; callers shape them.
//!
//! Callers: the HTTP handlers of `api` (parse, call, shape) and the CLI (`dags trigger`,
//! `dags test`).
//!
//! **Invariant:** no HTTP and no SQL here: inputs and outputs are typed, the store's typed
//! functions do the writing, and every successful mutation has exactly one audit row.

pub mod assets;
pub mod backfills;
pub mod dags;
pub mod hitl;
pub mod resources;
pub mod runs;
pub mod tis;
pub mod xcom;

use std::sync::Arc;

use serde_json::Value;

use crate::audit;
use crate::auth::Identity;
use crate::events::EventBus;
use crate::scheduler::Scheduler;
use crate::store::{Store, StoreError, Tx};
use crate::xcom::{XcomError, XcomStore};

/// The handles a mutation needs; cheap to clone.
#[derive(Clone)]
pub struct Ops {
    pub store: Store,
    /// `None` for CLI commands that write the database of a running server (sled allows
    /// one process): they cannot touch XCom.
    pub xcom: Option<XcomStore>,
    pub events: EventBus,
    /// Woken after changes that give it work; killed tries go through it.
    pub scheduler: Option<Arc<Scheduler>>,
    /// The home, for the secrets key of variables and connections.
    pub home: std::path::PathBuf,
    /// Files the DAG processor re-parses at once (`PUT /parseDagFile`); `None` where no
    /// processor runs.
    pub parse_requests: Option<tokio::sync::mpsc::UnboundedSender<std::path::PathBuf>>,
}

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A row that already exists (Airflow answers its database's unique-constraint error,
    /// with the statement hidden); the message is for logs.
    #[error("{0}")]
    UniqueViolation(String),
    /// Airflow answers 405 (a bulk action it does not support).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The caller may not do this to this object (beyond its role: e.g. not a respondent).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    /// One input field is invalid (FastAPI's 422): where, the kind, the message, the input.
    #[error("{msg}")]
    Invalid {
        loc: Vec<String>,
        kind: &'static str,
        msg: String,
        input: Value,
    },
    #[error("{0}")]
    TooLarge(String),
    /// The secrets key is missing or wrong: the message names its source, never the key.
    #[error("{0}")]
    Secrets(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Xcom(XcomError),
}

impl From<XcomError> for OpError {
    fn from(e: XcomError) -> OpError {
        match e {
            XcomError::TooLarge { .. } => OpError::TooLarge(e.to_string()),
            other => OpError::Xcom(other),
        }
    }
}

impl OpError {
    /// A 422 for one body field.
    pub fn invalid(
        field: &str,
        kind: &'static str,
        msg: impl Into<String>,
        input: Value,
    ) -> OpError {
        OpError::Invalid {
            loc: vec!["body".into(), field.into()],
            kind,
            msg: msg.into(),
            input,
        }
    }
}

/// XCom to delete: `(dag_id, run_id, Some((task_id, map_index)))`, or a whole run's.
pub type XcomScope = (String, String, Option<(String, i64)>);

/// What a committed change calls for.
#[derive(Debug, Default)]
pub struct Effects {
    /// Published on the event bus, in order.
    pub events: Vec<(&'static str, Value)>,
    /// Tries (task instance ids) whose processes must die.
    pub kill: Vec<String>,
    /// XCom to delete.
    pub clear_xcom: Vec<XcomScope>,
    /// The scheduler has work.
    pub wake: bool,
    /// DAG files to re-parse now.
    pub reparse: Vec<std::path::PathBuf>,
}

impl Effects {
    pub fn event(&mut self, kind: &'static str, data: Value) {
        self.events.push((kind, data));
    }
}

impl Ops {
    /// Runs `f` in one write transaction, then its effects once committed.
    pub async fn commit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Tx<'_>, &mut Effects) -> Result<T, OpError> + Send + 'static,
    ) -> Result<T, OpError> {
        let (out, effects) = self
            .store
            .write(move |tx| {
                let mut fx = Effects::default();
                let out = f(tx, &mut fx)?;
                Ok::<_, OpError>((out, fx))
            })
            .await?;
        self.apply(effects);
        Ok(out)
    }

    /// Performs committed effects. Failures here cannot undo the change: they are logged.
    fn apply(&self, fx: Effects) {
        if let Some(s) = &self.scheduler {
            for id in &fx.kill {
                s.kill(id);
            }
        }
        for (dag_id, run_id, task) in &fx.clear_xcom {
            let Some(xcom) = &self.xcom else {
                tracing::warn!(dag_id, run_id, "no XCom store here to clear");
                continue;
            };
            let r = match task {
                Some((task_id, map_index)) => {
                    xcom.delete_task(dag_id, run_id, task_id, Some(*map_index))
                }
                None => xcom.delete_run(dag_id, run_id),
            };
            if let Err(e) = r {
                tracing::warn!(error = %e, dag_id, run_id, "clearing XCom after a change failed");
            }
        }
        for file in fx.reparse {
            match &self.parse_requests {
                Some(tx) if tx.send(file.clone()).is_ok() => {}
                _ => {
                    tracing::warn!(file = %file.display(), "no DAG processor here to re-parse the file")
                }
            }
        }
        for (kind, data) in fx.events {
            self.events.publish(kind, data);
        }
        if fx.wake
            && let Some(s) = &self.scheduler
        {
            s.wake();
        }
    }
}

/// Parses an RFC 3339 timestamp (or a plain `YYYY-MM-DD`, midnight UTC) from user input into
/// the form the store keeps (UTC, microseconds, `Z`); `None` when it does not parse.
pub fn timestamp(v: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(v.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })?;
    Some(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// Writes the audit row of `entry`, done by `who`, in the operation's transaction.
pub fn audit(tx: &Tx<'_>, who: &Identity, entry: audit::Entry) -> Result<(), OpError> {
    audit::write(tx, who, entry)?;
    Ok(())
}
