//! When scheduled runs are due, as Airflow 3 computes them.
//!
//! Airflow 3's default for a cron schedule is the *trigger* timetable: a run's `logical_date`
//! and `run_after` are the cron tick itself and its data interval is empty
//! (`start == end == tick`). A `timedelta` schedule ticks every delta from `start_date`; `@once`
//! ticks once at `start_date`. Cron ticks are computed in the DAG's time zone, so they follow
//! DST changes: a 02:30 job runs at 03:00 on the spring-forward day (the hour does not exist;
//! Airflow's pendulum shifts it to 03:30) and once on the autumn day.
//!
//! **Invariant:** pure functions of their inputs; no clock, no IO.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::dag::model::{Dag, Schedule};

/// The first tick strictly after `after` (or at/after `start` when there is no previous run).
pub fn next_tick(dag: &Dag, after: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    let start = parse(dag.start_date.as_deref());
    let end = parse(dag.end_date.as_deref());
    let mut schedule = dag.schedule.as_ref()?;
    // `AssetOrTimeSchedule`: its time schedule ticks (asset updates trigger the other runs).
    if let Schedule::Assets {
        or_timetable: Some(t),
        ..
    } = schedule
    {
        schedule = t;
    }
    let tick = match schedule {
        Schedule::Cron { expr, timezone, .. } => {
            let cron = crate::dag::validate::check_cron(expr).ok()?;
            let tz = chrono_tz::Tz::from_str(timezone).unwrap_or(chrono_tz::UTC);
            let (from, inclusive) = match (after, start) {
                (Some(a), _) => (a, false),
                (None, Some(s)) => (s, true),
                (None, None) => return None,
            };
            let from = from.with_timezone(&tz);
            cron.find_next_occurrence(&from, inclusive)
                .ok()?
                .with_timezone(&Utc)
        }
        Schedule::Delta { seconds, .. } => {
            let step = Duration::microseconds((*seconds * 1e6) as i64);
            if step <= Duration::zero() {
                return None;
            }
            match (after, start) {
                (Some(a), _) => a + step,
                (None, Some(s)) => s,
                (None, None) => return None,
            }
        }
        Schedule::Once => match after {
            Some(_) => return None,
            None => start.unwrap_or(DateTime::<Utc>::MIN_UTC),
        },
        // Continuous and asset-triggered DAGs are not driven by a clock (the scheduler creates
        // their runs from other conditions). A plugin timetable's runs come from its Python
        // `next_dagrun_info`, which Lite does not call yet: such DAGs run when triggered.
        Schedule::Continuous | Schedule::Assets { .. } | Schedule::Custom { .. } => return None,
    };
    match end {
        Some(e) if tick > e => None,
        _ => Some(tick),
    }
}

/// The latest tick at or before `now` (and before the end date) that comes after `after`, found
/// without walking the ticks in between: a minutely DAG that started years ago costs the same
/// as one that started today.
pub fn latest_tick(
    dag: &Dag,
    after: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let first = next_tick(dag, after)?;
    let bound = match parse(dag.end_date.as_deref()) {
        Some(e) if e < now => e,
        _ => now,
    };
    if first > bound {
        return None;
    }
    let latest = match dag.schedule.as_ref()? {
        Schedule::Cron { expr, timezone, .. } => {
            let cron = crate::dag::validate::check_cron(expr).ok()?;
            let tz = chrono_tz::Tz::from_str(timezone).unwrap_or(chrono_tz::UTC);
            cron.find_previous_occurrence(&bound.with_timezone(&tz), true)
                .ok()?
                .with_timezone(&Utc)
        }
        Schedule::Delta { seconds, .. } => {
            let step = Duration::microseconds((*seconds * 1e6) as i64);
            let steps = (bound - first).num_microseconds()? / step.num_microseconds()?;
            first + Duration::microseconds(step.num_microseconds()? * steps)
        }
        _ => first,
    };
    Some(latest.max(first))
}

fn parse(ts: Option<&str>) -> Option<DateTime<Utc>> {
    ts.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The run the scheduler creates next, as Airflow shows it in `next_dagrun*`: with `catchup`
/// the first tick after the last run; without, the latest tick already due if there is one
/// (a DAG that started years ago runs its latest interval, not its first), else the next.
pub fn next_run(
    dag: &Dag,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if !dag.catchup
        && let Some(t) = latest_tick(dag, last, now)
    {
        return Some(t);
    }
    next_tick(dag, last)
}

/// The ticks that are due at `now` after the last scheduled one: all of them with `catchup`,
/// only the latest without (Airflow's default), in order.
pub fn due(
    dag: &Dag,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    limit: usize,
) -> Vec<DateTime<Utc>> {
    if !dag.catchup {
        return latest_tick(dag, last, now).into_iter().collect();
    }
    let mut out = Vec::new();
    let mut cursor = last;
    while let Some(t) = next_tick(dag, cursor) {
        if t > now {
            break;
        }
        out.push(t);
        cursor = Some(t);
        if out.len() >= limit {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dag(schedule: serde_json::Value, start: &str, catchup: bool) -> Dag {
        serde_json::from_value(json!({
            "dag_id": "d", "fileloc": "/d.py", "schedule": schedule, "start_date": start,
            "catchup": catchup, "tasks": []
        }))
        .unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn asset_or_time_schedules_tick_on_their_timetable_and_pure_asset_ones_never() {
        let d = dag(
            json!({"kind": "assets", "uris": ["s3://a"],
                   "or_timetable": {"kind": "cron", "expr": "0 1 * * *", "timezone": "UTC"}}),
            "2025-01-01T00:00:00+00:00",
            false,
        );
        assert_eq!(
            next_tick(&d, None).map(|t| t.to_rfc3339()),
            Some("2025-01-01T01:00:00+00:00".into())
        );
        let d = dag(
            json!({"kind": "assets", "uris": ["s3://a"]}),
            "2025-01-01T00:00:00+00:00",
            false,
        );
        assert_eq!(next_tick(&d, None), None);
    }

    #[test]
    fn catchup_across_the_spring_dst_change_in_paris() {
        // 02:30 Paris does not exist on 2025-03-30: that day runs at 03:00 local; UTC offsets change.
        let d = dag(
            json!({"kind": "cron", "expr": "30 2 * * *", "timezone": "Europe/Paris"}),
            "2025-03-28T00:00:00+00:00",
            true,
        );
        let ticks = due(&d, None, t("2025-04-01T12:00:00Z"), 100);
        let got: Vec<String> = ticks.iter().map(|x| x.to_rfc3339()).collect();
        assert_eq!(
            got,
            vec![
                "2025-03-28T01:30:00+00:00",
                "2025-03-29T01:30:00+00:00",
                "2025-03-30T01:00:00+00:00",
                "2025-03-31T00:30:00+00:00",
                "2025-04-01T00:30:00+00:00",
            ]
        );
    }

    #[test]
    fn daily_in_paris_follows_the_autumn_change() {
        let d = dag(
            json!({"kind": "cron", "expr": "0 6 * * *", "timezone": "Europe/Paris"}),
            "2025-10-25T00:00:00+00:00",
            true,
        );
        let got: Vec<String> = due(&d, None, t("2025-10-27T12:00:00Z"), 100)
            .iter()
            .map(|x| x.to_rfc3339())
            .collect();
        assert_eq!(
            got,
            vec![
                "2025-10-25T04:00:00+00:00",
                "2025-10-26T05:00:00+00:00",
                "2025-10-27T05:00:00+00:00"
            ]
        );
    }

    #[test]
    fn without_catchup_only_the_latest_tick_is_due() {
        let d = dag(
            json!({"kind": "cron", "expr": "@hourly", "timezone": "UTC"}),
            "2025-01-01T00:00:00+00:00",
            false,
        );
        assert_eq!(
            due(&d, None, t("2025-01-01T05:30:00Z"), 100),
            vec![t("2025-01-01T05:00:00Z")]
        );
        assert!(
            due(
                &d,
                Some(t("2025-01-01T05:00:00Z")),
                t("2025-01-01T05:30:00Z"),
                100
            )
            .is_empty()
        );
    }

    #[test]
    fn without_catchup_the_next_run_is_the_latest_due_interval_not_the_start_date() {
        let now = t("2026-12-04T18:42:10Z");
        let daily = dag(
            json!({"kind": "cron", "expr": "@daily", "timezone": "UTC"}),
            "2020-01-01T00:00:00+00:00",
            false,
        );
        assert_eq!(next_run(&daily, None, now), Some(t("2026-12-04T00:00:00Z")));
        // Once it ran, the next one is tomorrow.
        assert_eq!(
            next_run(&daily, Some(t("2026-12-04T00:00:00Z")), now),
            Some(t("2026-12-05T00:00:00Z"))
        );
        // A minutely schedule from years back is found without walking every minute.
        let minutely = dag(
            json!({"kind": "cron", "expr": "* * * * *", "timezone": "Europe/Paris"}),
            "2015-01-01T00:00:00+00:00",
            false,
        );
        let started = std::time::Instant::now();
        assert_eq!(
            due(&minutely, None, now, 1000),
            vec![t("2026-12-04T18:42:00Z")]
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // With catchup, the first interval comes first.
        let mut caught = daily.clone();
        caught.catchup = true;
        assert_eq!(
            next_run(&caught, None, now),
            Some(t("2020-01-01T00:00:00Z"))
        );
        // A timedelta grid from the start date; the end date bounds it.
        let mut delta = dag(
            json!({"kind": "delta", "seconds": 3600.0}),
            "2026-12-01T00:30:00+00:00",
            false,
        );
        assert_eq!(next_run(&delta, None, now), Some(t("2026-12-04T18:30:00Z")));
        delta.end_date = Some("2026-12-02T05:00:00+00:00".into());
        assert_eq!(next_run(&delta, None, now), Some(t("2026-12-02T04:30:00Z")));
        // Not started yet: the start date.
        let future = dag(
            json!({"kind": "cron", "expr": "@daily", "timezone": "UTC"}),
            "2027-01-01T00:00:00+00:00",
            false,
        );
        assert_eq!(
            next_run(&future, None, now),
            Some(t("2027-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn timedelta_once_and_end_date() {
        let d = dag(
            json!({"kind": "delta", "seconds": 1800.0}),
            "2025-01-01T00:00:00+00:00",
            true,
        );
        assert_eq!(due(&d, None, t("2025-01-01T01:00:00Z"), 100).len(), 3);
        let once = dag(json!({"kind": "once"}), "2025-01-01T00:00:00+00:00", false);
        assert_eq!(
            due(&once, None, t("2026-01-01T00:00:00Z"), 100),
            vec![t("2025-01-01T00:00:00Z")]
        );
        assert!(next_tick(&once, Some(t("2025-01-01T00:00:00Z"))).is_none());
        let mut ended = dag(
            json!({"kind": "cron", "expr": "@daily", "timezone": "UTC"}),
            "2025-01-01T00:00:00+00:00",
            true,
        );
        ended.end_date = Some("2025-01-02T12:00:00+00:00".into());
        assert_eq!(due(&ended, None, t("2025-02-01T00:00:00Z"), 100).len(), 2);
    }
}
