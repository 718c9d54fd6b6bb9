//! Backfill mutations: create over a date range (and its dry run), pause, unpause, cancel.
//!
//! The logical dates come from the DAG's timetable (`scheduler::timetable`); each becomes a
//! `queued` run with `run_type = 'backfill'` that the scheduler starts oldest first within
//! `max_active_runs`. Existing runs are skipped or re-queued by `reprocess_behavior`.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::runs::{retries_of, run_event};
use super::{OpError, Ops, audit};
use crate::audit::Entry;
use crate::auth::Identity;
use crate::dag::Dag;
use crate::dag::model::Schedule;
use crate::scheduler::timetable;
use crate::store::backfills::{self as q, BackfillRow, CreateError, NewBackfill, Step};
use crate::store::runs::CreateRunError;
use crate::store::{Db, dags};

/// At most this many runs per backfill (a typo in a date should not queue a million runs).
const MAX_RUNS: usize = 10_000;

/// A backfill to create, as the API's body names it (dates as sent).
#[derive(Debug, Clone)]
pub struct Request {
    pub dag_id: String,
    pub from_date: String,
    pub to_date: String,
    pub run_backwards: bool,
    pub dag_run_conf: Option<Value>,
    pub reprocess_behavior: String,
    pub max_active_runs: i64,
}

/// A 422 for a body field that is not a timestamp.
pub fn bad_ts(field: &str, v: &str) -> OpError {
    OpError::invalid(
        field,
        "datetime_from_date_parsing",
        "Input should be a valid datetime or date (RFC 3339, e.g. 2026-01-31T00:00:00Z)",
        json!(v),
    )
}

/// The logical dates of `dag`'s timetable within `[from, to]` (and not after `now` or before
/// the DAG's `start_date`), oldest first; 409 for a DAG without a time-based schedule.
fn logical_dates(
    dag: &Dag,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, OpError> {
    let start = dag
        .start_date
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc));
    let from = start.map_or(from, |s| from.max(s));
    let to = to.min(now);
    let first = match &dag.schedule {
        Some(Schedule::Cron { .. }) => {
            timetable::next_tick(dag, Some(from - Duration::microseconds(1)))
        }
        // A timedelta timetable is not aligned: its ticks run from the range's start.
        Some(Schedule::Delta { .. }) => Some(from),
        Some(Schedule::Once) => timetable::next_tick(dag, None),
        _ => return Err(OpError::Conflict(format!("{} has no schedule", dag.dag_id))),
    };
    let mut out = Vec::new();
    let mut cursor = first;
    while let Some(t) = cursor {
        if t > to || out.len() > MAX_RUNS {
            break;
        }
        if t >= from {
            out.push(t);
        }
        cursor = timetable::next_tick(dag, Some(t)).filter(|n| *n > t);
    }
    if out.len() > MAX_RUNS {
        return Err(OpError::BadRequest(format!(
            "The range {} .. {} holds more than {MAX_RUNS} runs of {}; backfill a shorter range",
            from.to_rfc3339(),
            to.to_rfc3339(),
            dag.dag_id
        )));
    }
    Ok(out)
}

/// Checks a request and computes its dates: the backfill to create, its logical dates and
/// the DAG's model.
fn prepare(
    db: &Db<'_>,
    r: Request,
    user: Option<String>,
) -> Result<(NewBackfill, Vec<String>, Dag), OpError> {
    if !["none", "failed", "completed"].contains(&r.reprocess_behavior.as_str()) {
        return Err(OpError::invalid(
            "reprocess_behavior",
            "enum",
            "Input should be 'failed', 'completed' or 'none'",
            json!(r.reprocess_behavior),
        ));
    }
    if r.max_active_runs < 1 {
        return Err(OpError::invalid(
            "max_active_runs",
            "greater_than_equal",
            "Input should be greater than or equal to 1",
            json!(r.max_active_runs),
        ));
    }
    let date = |field: &str, v: &str| super::timestamp(v).ok_or_else(|| bad_ts(field, v));
    let (from, to) = (
        date("from_date", &r.from_date)?,
        date("to_date", &r.to_date)?,
    );
    if from > to {
        return Err(OpError::invalid(
            "to_date",
            "value_error",
            format!("to_date ({to}) must not be before from_date ({from})"),
            json!(r.to_date),
        ));
    }
    let conf = match r.dag_run_conf {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(OpError::invalid(
                "dag_run_conf",
                "dict_type",
                "Input should be a valid dictionary",
                other,
            ));
        }
    };
    let row = dags::get_dag(db, &r.dag_id)?
        .ok_or_else(|| OpError::NotFound(format!("Could not find dag {}", r.dag_id)))?;
    crate::dag::params::check_conf(&row.dag, &conf).map_err(OpError::BadRequest)?;
    if r.run_backwards
        && let Some(t) = row.dag.tasks.iter().find(|t| {
            t.extra
                .get("depends_on_past")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
    {
        return Err(OpError::invalid(
            "run_backwards",
            "value_error",
            format!(
                "Backfill cannot be run in reverse when the DAG has tasks where depends_on_past=True (task {})",
                t.task_id
            ),
            json!(true),
        ));
    }
    let parse = |v: &str| {
        DateTime::parse_from_rfc3339(v)
            .expect("normalised above")
            .with_timezone(&Utc)
    };
    let dates: Vec<String> = logical_dates(&row.dag, parse(&from), parse(&to), Utc::now())?
        .iter()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .collect();
    let new = NewBackfill {
        dag_id: r.dag_id,
        from_date: from,
        to_date: to,
        dag_run_conf: Value::Object(conf),
        reprocess_behavior: r.reprocess_behavior,
        max_active_runs: r.max_active_runs,
        run_backwards: r.run_backwards,
        triggering_user_name: user,
    };
    Ok((new, dates, (*row.dag).clone()))
}

/// Creates the backfill and queues its runs.
pub async fn create(ops: &Ops, who: &Identity, r: Request) -> Result<BackfillRow, OpError> {
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let (new, dates, dag) = prepare(tx, r, Some(who.username.clone()))?;
        let b = q::create(tx, &new, &dates, &retries_of(&dag)).map_err(|e| match e {
            CreateError::AlreadyRunning(_) => OpError::Conflict(e.to_string()),
            CreateError::Run(CreateRunError::Duplicate { .. }) => OpError::Conflict(e.to_string()),
            CreateError::Run(CreateRunError::NoDag(d)) => {
                OpError::NotFound(format!("Could not find dag {d}"))
            }
            CreateError::Run(CreateRunError::Store(e)) => OpError::Store(e),
        })?;
        fx.event(
            "backfill",
            json!({"id": b.id, "dag_id": b.dag_id, "state": "created"}),
        );
        fx.wake = true;
        let entry = Entry::new("create_backfill").dag(&b.dag_id);
        audit(
            tx,
            &who,
            entry.extra(json!({"method": "POST", "backfill_id": b.id})),
        )?;
        Ok(b)
    })
    .await
}

/// The logical dates a backfill would run (nothing written).
pub async fn dry_run(ops: &Ops, r: Request) -> Result<Vec<String>, OpError> {
    ops.store
        .read(move |db| {
            let (new, dates, _) = prepare(db, r, None)?;
            let steps = q::plan(db, &new.dag_id, &dates, &new.reprocess_behavior)?;
            Ok(steps
                .into_iter()
                .filter(|(_, step)| !matches!(step, Step::Skip(_)))
                .map(|(d, _)| d)
                .collect())
        })
        .await
}

fn no_backfill(id: i64) -> OpError {
    OpError::NotFound(format!("Could not find backfill with id {id}"))
}

/// A backfill that has not completed (404, or 409 when it has).
fn open_backfill(db: &Db<'_>, id: i64) -> Result<BackfillRow, OpError> {
    let b = q::get(db, id)?.ok_or_else(|| no_backfill(id))?;
    if b.completed_at.is_some() {
        return Err(OpError::Conflict("Backfill is already completed.".into()));
    }
    Ok(b)
}

/// Pauses (its queued runs stay queued) or unpauses a backfill.
pub async fn set_paused(
    ops: &Ops,
    who: &Identity,
    id: i64,
    paused: bool,
) -> Result<BackfillRow, OpError> {
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let b = open_backfill(tx, id)?;
        q::set_paused(tx, id, paused)?;
        fx.event(
            "backfill",
            json!({"id": id, "dag_id": b.dag_id, "is_paused": paused}),
        );
        fx.wake = true;
        let event = if paused {
            "pause_backfill"
        } else {
            "unpause_backfill"
        };
        let extra = json!({"method": "PUT", "backfill_id": id.to_string()});
        audit(tx, &who, Entry::new(event).extra(extra))?;
        q::get(tx, id)?.ok_or_else(|| no_backfill(id))
    })
    .await
}

/// Cancels a backfill: paused, its queued runs failed, completed now.
pub async fn cancel(ops: &Ops, who: &Identity, id: i64) -> Result<BackfillRow, OpError> {
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let b = open_backfill(tx, id)?;
        for (dag_id, run_id) in q::cancel(tx, id)? {
            fx.event("dag_run", run_event(&dag_id, &run_id, "failed"));
        }
        fx.event(
            "backfill",
            json!({"id": id, "dag_id": b.dag_id, "state": "cancelled"}),
        );
        let entry = Entry::new("cancel_backfill").dag(&b.dag_id);
        audit(
            tx,
            &who,
            entry.extra(json!({"method": "PUT", "backfill_id": id})),
        )?;
        q::get(tx, id)?.ok_or_else(|| no_backfill(id))
    })
    .await
}
