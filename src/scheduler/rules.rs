//! Airflow 3's trigger rules as one pure function: given the states of a task's direct
//! upstream task instances, what happens to it now.
//!
//! **Invariant:** no IO here; the scheduler loop feeds states in and applies the answers.

/// Task instance states of Airflow 3 (`None` is "no status yet").
pub mod state {
    pub const SCHEDULED: &str = "scheduled";
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const SUCCESS: &str = "success";
    pub const FAILED: &str = "failed";
    pub const SKIPPED: &str = "skipped";
    pub const UPSTREAM_FAILED: &str = "upstream_failed";
    pub const UP_FOR_RETRY: &str = "up_for_retry";
    pub const UP_FOR_RESCHEDULE: &str = "up_for_reschedule";
    pub const REMOVED: &str = "removed";
    pub const RESTARTING: &str = "restarting";
    pub const DEFERRED: &str = "deferred";

    /// States after which a task instance will not run again on its own.
    pub fn is_finished(s: Option<&str>) -> bool {
        matches!(
            s,
            Some(SUCCESS | FAILED | SKIPPED | UPSTREAM_FAILED | REMOVED)
        )
    }
}

/// What the scheduler should do with a task instance that has not run yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Its rule is met: schedule it.
    Run,
    /// Not decidable yet: some upstream is still pending.
    Wait,
    Skip,
    UpstreamFailed,
}

/// Counts of the direct upstreams' states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upstream {
    pub total: usize,
    pub success: usize,
    pub skipped: usize,
    pub failed: usize,
    pub upstream_failed: usize,
    pub removed: usize,
    /// Direct upstreams that are setup tasks, and how many of them succeeded or skipped
    /// (for `all_done_setup_success`).
    pub setups: usize,
    pub setup_success: usize,
    pub setup_skipped: usize,
}

impl Upstream {
    /// Tallies a list of upstream states.
    pub fn tally<'a>(states: impl IntoIterator<Item = Option<&'a str>>) -> Upstream {
        let mut u = Upstream::default();
        for s in states {
            u.total += 1;
            match s {
                Some(state::SUCCESS) => u.success += 1,
                Some(state::SKIPPED) => u.skipped += 1,
                Some(state::FAILED) => u.failed += 1,
                Some(state::UPSTREAM_FAILED) => u.upstream_failed += 1,
                Some(state::REMOVED) => u.removed += 1,
                _ => {}
            }
        }
        u
    }

    /// Counts one upstream setup task's state (on top of [`Upstream::tally`]).
    pub fn add_setup(&mut self, s: Option<&str>) {
        self.setups += 1;
        match s {
            Some(state::SUCCESS) => self.setup_success += 1,
            Some(state::SKIPPED) => self.setup_skipped += 1,
            _ => {}
        }
    }

    fn done(&self) -> usize {
        self.success + self.skipped + self.failed + self.upstream_failed + self.removed
    }
    fn all_done(&self) -> bool {
        self.done() == self.total
    }
    fn any_failed(&self) -> bool {
        self.failed + self.upstream_failed > 0
    }
}

/// Why `rule` does not let a task run yet, in the words of Airflow's `TriggerRuleDep`
/// (`upstream_ids` as Python prints the set); `None` when it may run.
pub fn explain(rule: &str, u: &Upstream, upstream_ids: &[String]) -> Option<String> {
    if evaluate(rule, u) == Verdict::Run {
        return None;
    }
    let not_done = u.total - u.done();
    let why = match rule {
        "all_success" => format!(
            "requires all upstream tasks to have succeeded, but found {} non-success(es).",
            u.total - u.success
        ),
        "all_failed" => format!(
            "requires all upstream tasks to have failed, but found {} non-failure(s).",
            u.total - u.failed - u.upstream_failed
        ),
        "all_done" | "all_done_setup_success" => format!(
            "requires all upstream tasks to have completed, but found {not_done} task(s) that were not done."
        ),
        "one_success" => "requires one upstream task success, but none were found.".into(),
        "one_failed" => "requires one upstream task failure, but none were found.".into(),
        "one_done" => {
            "requires at least one upstream task failure or success but none were failed or success."
                .into()
        }
        "none_failed" | "none_failed_min_one_success" => format!(
            "requires all upstream tasks to have succeeded or been skipped, but found {} non-success(es).",
            u.total - u.success - u.skipped
        ),
        "none_skipped" => format!(
            "requires all upstream tasks to not have been skipped, but found {} task(s) skipped.",
            u.skipped
        ),
        "all_skipped" => format!(
            "requires all upstream tasks to have been skipped, but found {} task(s) in non skipped state.",
            u.total - u.skipped
        ),
        _ => format!(
            "requires all non-skipped upstream tasks to have completed, but found {not_done} task(s) that were not done."
        ),
    };
    let ids: Vec<String> = upstream_ids.iter().map(|i| format!("'{i}'")).collect();
    Some(format!(
        "Task's trigger rule '{rule}' {why} upstream_states=_UpstreamTIStates(success={}, skipped={}, failed={}, upstream_failed={}, removed={}, done={}, success_setup=0, skipped_setup=0), upstream_task_ids={{{}}}",
        u.success,
        u.skipped,
        u.failed,
        u.upstream_failed,
        u.removed,
        u.done(),
        ids.join(", ")
    ))
}

/// Evaluates `rule` (an Airflow 3 trigger rule name) against the upstream tally.
pub fn evaluate(rule: &str, u: &Upstream) -> Verdict {
    use Verdict::*;
    if u.total == 0 {
        return Run;
    }
    // Removed upstreams count as done and as neither success nor failure.
    let effective = u.total - u.removed;
    match rule {
        "always" => Run,
        "all_success" => {
            if u.any_failed() {
                UpstreamFailed
            } else if u.skipped > 0 {
                Skip
            } else if u.success == effective {
                Run
            } else {
                Wait
            }
        }
        "all_failed" => {
            if u.success + u.skipped > 0 {
                Skip
            } else if u.all_done() {
                Run
            } else {
                Wait
            }
        }
        "all_done" => {
            if u.all_done() {
                Run
            } else {
                Wait
            }
        }
        // A teardown: runs once everything upstream is done, unless its setups all skipped
        // (skipped) or none of them succeeded (upstream failed), as Airflow's
        // `TriggerRuleDep`.
        "all_done_setup_success" => {
            if !u.all_done() {
                Wait
            } else if u.setups > 0 && u.setup_skipped >= u.setups {
                Skip
            } else if u.setups > 0 && u.setup_success == 0 {
                UpstreamFailed
            } else {
                Run
            }
        }
        "all_done_min_one_success" => {
            if !u.all_done() {
                Wait
            } else if u.success > 0 {
                Run
            } else {
                Skip
            }
        }
        "one_success" => {
            if u.success > 0 {
                Run
            } else if !u.all_done() {
                Wait
            } else if u.any_failed() {
                UpstreamFailed
            } else {
                Skip
            }
        }
        "one_failed" => {
            if u.any_failed() {
                Run
            } else if u.all_done() {
                Skip
            } else {
                Wait
            }
        }
        "one_done" => {
            if u.success + u.failed > 0 {
                Run
            } else if u.all_done() {
                Skip
            } else {
                Wait
            }
        }
        "none_failed" => {
            if u.any_failed() {
                UpstreamFailed
            } else if u.all_done() {
                Run
            } else {
                Wait
            }
        }
        "none_failed_min_one_success" => {
            if u.any_failed() {
                UpstreamFailed
            } else if !u.all_done() {
                Wait
            } else if u.success > 0 {
                Run
            } else {
                Skip
            }
        }
        "none_skipped" => {
            if u.skipped > 0 {
                Skip
            } else if u.all_done() {
                Run
            } else {
                Wait
            }
        }
        "all_skipped" => {
            if u.success + u.failed + u.upstream_failed > 0 {
                Skip
            } else if u.all_done() {
                Run
            } else {
                Wait
            }
        }
        // Unknown rules are refused at parse time; be conservative if one slips through.
        _ => Wait,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn explain_says_what_airflow_says() {
        let u = super::Upstream::tally([Some("success"), None]);
        let ids = vec!["a".to_string(), "b".to_string()];
        let why = super::explain("all_success", &u, &ids).unwrap();
        assert_eq!(
            why,
            "Task's trigger rule 'all_success' requires all upstream tasks to have succeeded, but found 1 non-success(es). upstream_states=_UpstreamTIStates(success=1, skipped=0, failed=0, upstream_failed=0, removed=0, done=1, success_setup=0, skipped_setup=0), upstream_task_ids={'a', 'b'}"
        );
        let done = super::Upstream::tally([Some("success"), Some("success")]);
        assert_eq!(super::explain("all_success", &done, &ids), None);
        assert!(
            super::explain("one_failed", &u, &ids)
                .unwrap()
                .contains("requires one upstream task failure")
        );
    }

    use super::Verdict::*;
    use super::*;

    fn t(states: &[Option<&str>]) -> Upstream {
        Upstream::tally(states.iter().copied())
    }
    const S: Option<&str> = Some("success");
    const F: Option<&str> = Some("failed");
    const K: Option<&str> = Some("skipped");
    const U: Option<&str> = Some("upstream_failed");
    const R: Option<&str> = Some("running");
    const N: Option<&str> = None;

    #[test]
    fn every_airflow_3_rule() {
        let cases: &[(&str, &[Option<&str>], Verdict)] = &[
            ("all_success", &[S, S], Run),
            ("all_success", &[S, R], Wait),
            ("all_success", &[S, F], UpstreamFailed),
            ("all_success", &[S, U], UpstreamFailed),
            ("all_success", &[S, K], Skip),
            ("all_failed", &[F, U], Run),
            ("all_failed", &[F, R], Wait),
            ("all_failed", &[F, S], Skip),
            ("all_done", &[S, F, K], Run),
            ("all_done", &[S, N], Wait),
            ("all_done_setup_success", &[F, K], Run),
            ("all_done_min_one_success", &[S, F], Run),
            ("all_done_min_one_success", &[K, F], Skip),
            ("all_done_min_one_success", &[S, R], Wait),
            ("one_success", &[S, R], Run),
            ("one_success", &[R, N], Wait),
            ("one_success", &[F, K], UpstreamFailed),
            ("one_success", &[K, K], Skip),
            ("one_failed", &[F, R], Run),
            ("one_failed", &[S, S], Skip),
            ("one_failed", &[S, R], Wait),
            ("one_done", &[F, R], Run),
            ("one_done", &[S, N], Run),
            ("one_done", &[K, K], Skip),
            ("one_done", &[K, R], Wait),
            ("none_failed", &[S, K], Run),
            ("none_failed", &[S, F], UpstreamFailed),
            ("none_failed", &[S, R], Wait),
            ("none_failed_min_one_success", &[S, K], Run),
            ("none_failed_min_one_success", &[K, K], Skip),
            ("none_failed_min_one_success", &[S, U], UpstreamFailed),
            ("none_skipped", &[S, F], Run),
            ("none_skipped", &[S, K], Skip),
            ("none_skipped", &[S, R], Wait),
            ("always", &[R, N], Run),
            ("all_skipped", &[K, K], Run),
            ("all_skipped", &[K, S], Skip),
            ("all_skipped", &[K, R], Wait),
        ];
        for (rule, states, want) in cases {
            assert_eq!(evaluate(rule, &t(states)), *want, "{rule} with {states:?}");
        }
        let mut teardown = t(&[S, F]);
        teardown.add_setup(S);
        assert_eq!(evaluate("all_done_setup_success", &teardown), Run);
        let mut teardown = t(&[F, U]);
        teardown.add_setup(F);
        assert_eq!(
            evaluate("all_done_setup_success", &teardown),
            UpstreamFailed
        );
        let mut teardown = t(&[K, K]);
        teardown.add_setup(K);
        assert_eq!(evaluate("all_done_setup_success", &teardown), Skip);
        let mut teardown = t(&[S, R]);
        teardown.add_setup(S);
        assert_eq!(evaluate("all_done_setup_success", &teardown), Wait);
        for rule in crate::dag::model::TRIGGER_RULES {
            assert_eq!(evaluate(rule, &t(&[])), Run, "{rule} without upstream");
        }
    }
}
