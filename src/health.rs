//! Component heartbeats behind `GET /api/v2/monitor/health`.
//!
//! Lite runs Airflow's scheduler, DAG processor and triggerer roles inside one process; each
//! component calls [`Heartbeats::beat`] from its loop. A component that never beat reports
//! `null`, as Airflow does for a component that is not running.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// The roles Airflow's health endpoint reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Scheduler,
    Triggerer,
    DagProcessor,
}

/// A heartbeat older than this makes a component unhealthy (Airflow's default threshold).
pub const HEALTH_THRESHOLD_SECS: i64 = 30;

/// Last heartbeat per component.
#[derive(Debug, Default)]
pub struct Heartbeats {
    beats: Mutex<[Option<DateTime<Utc>>; 3]>,
    /// The first heartbeat of each component: when its job started.
    first: Mutex<[Option<DateTime<Utc>>; 3]>,
}

impl Heartbeats {
    /// Records that `c` is alive now.
    pub fn beat(&self, c: Component) {
        let now = Utc::now();
        self.beats.lock().unwrap_or_else(|p| p.into_inner())[c as usize] = Some(now);
        self.first.lock().unwrap_or_else(|p| p.into_inner())[c as usize].get_or_insert(now);
    }

    /// When `c` first beat (its job's start), if it ever did.
    pub fn started(&self, c: Component) -> Option<DateTime<Utc>> {
        self.first.lock().unwrap_or_else(|p| p.into_inner())[c as usize]
    }

    /// Whether `c`'s last heartbeat is recent enough (Airflow's `is_alive`).
    pub fn alive(&self, c: Component) -> bool {
        self.status(c) == Some("healthy")
    }

    /// The last heartbeat of `c`, if any.
    pub fn last(&self, c: Component) -> Option<DateTime<Utc>> {
        self.beats.lock().unwrap_or_else(|p| p.into_inner())[c as usize]
    }

    /// Airflow's status word for `c`: `Some("healthy")`, `Some("unhealthy")`, or `None` when
    /// the component never ran.
    pub fn status(&self, c: Component) -> Option<&'static str> {
        self.last(c).map(|t| {
            if (Utc::now() - t).num_seconds() <= HEALTH_THRESHOLD_SECS {
                "healthy"
            } else {
                "unhealthy"
            }
        })
    }
}
