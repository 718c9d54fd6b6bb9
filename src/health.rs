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
}

impl Heartbeats {
    /// Records that `c` is alive now.
    pub fn beat(&self, c: Component) {
        self.beats.lock().unwrap_or_else(|p| p.into_inner())[c as usize] = Some(Utc::now());
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
