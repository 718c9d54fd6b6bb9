//! Structural checks Lite applies to every parsed DAG (after any `leoflow.yaml` overlay):
//! ids, duplicate tasks, dangling upstreams, cycles, trigger rules, cron and time zones.
//!
//! Messages name the DAG, the task and the value at fault, and what would be accepted.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use super::model::{Dag, Schedule, TRIGGER_RULES};

/// Airflow's rule for dag and task ids.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Every problem found in `dag` (empty when it is fine).
pub fn validate(dag: &Dag) -> Vec<String> {
    let mut errors = Vec::new();
    let d = &dag.dag_id;
    if !valid_id(d) {
        errors.push(format!(
            "invalid dag_id {d:?}: use at most 250 letters, digits, '_', '.' or '-'"
        ));
    }
    let mut seen = HashSet::new();
    for t in &dag.tasks {
        if !valid_id(&t.task_id) {
            errors.push(format!(
                "invalid task_id {:?} in DAG {d:?}: use at most 250 letters, digits, '_', '.' or '-'",
                t.task_id
            ));
        }
        if !seen.insert(t.task_id.as_str()) {
            errors.push(format!("duplicate task_id {:?} in DAG {d:?}", t.task_id));
        }
        if !TRIGGER_RULES.contains(&t.trigger_rule.as_str()) {
            errors.push(format!(
                "task {:?} of DAG {d:?} has trigger_rule {:?}; valid rules: {}",
                t.task_id,
                t.trigger_rule,
                TRIGGER_RULES.join(", ")
            ));
        }
    }
    for t in &dag.tasks {
        for u in &t.upstream {
            if !seen.contains(u.as_str()) {
                errors.push(format!(
                    "task {:?} of DAG {d:?} depends on {u:?}, which is not a task of this DAG",
                    t.task_id
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(dag) {
        errors.push(format!(
            "cycle detected in DAG {d:?}: {}",
            cycle.join(" >> ")
        ));
    }
    if let Some(Schedule::Cron { expr, timezone, .. }) = &dag.schedule {
        if let Err(e) = check_cron(expr) {
            errors.push(format!("invalid schedule {expr:?} for DAG {d:?}: {e}"));
        }
        if chrono_tz::Tz::from_str(timezone).is_err() && timezone != "UTC" {
            errors.push(format!(
                "unknown time zone {timezone:?} for DAG {d:?}: use an IANA name such as \"Europe/Paris\" or \"UTC\""
            ));
        }
    }
    errors
}

/// Airflow's cron presets as the cron expressions they stand for.
pub fn expand_preset(expr: &str) -> &str {
    match expr.trim() {
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@quarterly" => "0 0 1 */3 *",
        "@yearly" | "@annually" => "0 0 1 1 *",
        other => other,
    }
}

/// Parses a cron expression or preset as Lite's scheduler will.
pub fn check_cron(expr: &str) -> Result<croner::Cron, String> {
    match expr {
        "@once" | "@continuous" => return Err("is not a cron expression".into()),
        _ => {}
    }
    let expr = expand_preset(expr);
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| {
            format!(
                "{e}; expected 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 5 * * *\", or a preset: @hourly, @daily, @weekly, @monthly, @quarterly, @yearly"
            )
        })
}

/// A cycle as a list of task ids that starts and ends with the same id.
pub fn find_cycle(dag: &Dag) -> Option<Vec<String>> {
    let down = dag.downstream();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark: BTreeMap<&str, Mark> = down.keys().map(|k| (*k, Mark::New)).collect();
    for t in &dag.tasks {
        let start = t.task_id.as_str();
        if mark.get(start) != Some(&Mark::New) {
            continue;
        }
        // Iterative DFS keeping the path, so deep DAGs cannot overflow the stack.
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        mark.insert(start, Mark::Active);
        while let Some((node, i)) = stack.last_mut() {
            let children = &down[*node];
            if *i < children.len() {
                let c = children[*i];
                *i += 1;
                match mark.get(c).copied() {
                    Some(Mark::New) => {
                        mark.insert(c, Mark::Active);
                        stack.push((c, 0));
                    }
                    Some(Mark::Active) => {
                        let pos = stack.iter().position(|(n, _)| *n == c).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[pos..].iter().map(|(n, _)| n.to_string()).collect();
                        cycle.push(c.to_string());
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                let n = *node;
                mark.insert(n, Mark::Done);
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dag(tasks: serde_json::Value, schedule: serde_json::Value) -> Dag {
        serde_json::from_value(json!({
            "dag_id": "d", "fileloc": "/x.py", "schedule": schedule, "tasks": tasks
        }))
        .unwrap()
    }

    fn t(id: &str, up: &[&str]) -> serde_json::Value {
        json!({"task_id": id, "operator": "EmptyOperator", "kind": "empty", "upstream": up})
    }

    #[test]
    fn cycle_is_printed_in_order() {
        let d = dag(
            json!([t("a", &["c"]), t("b", &["a"]), t("c", &["b"])]),
            json!(null),
        );
        let errs = validate(&d);
        assert_eq!(errs, vec!["cycle detected in DAG \"d\": a >> b >> c >> a"]);
    }

    #[test]
    fn dangling_duplicate_and_bad_ids() {
        let d = dag(
            json!([t("a", &["ghost"]), t("a", &[]), t("bad id", &[])]),
            json!(null),
        );
        let errs = validate(&d).join("\n");
        assert!(errs.contains("depends on \"ghost\""), "{errs}");
        assert!(errs.contains("duplicate task_id \"a\""), "{errs}");
        assert!(errs.contains("invalid task_id \"bad id\""), "{errs}");
    }

    #[test]
    fn cron_is_checked() {
        let ok = dag(
            json!([t("a", &[])]),
            json!({"kind": "cron", "expr": "@daily", "timezone": "Europe/Paris"}),
        );
        assert!(validate(&ok).is_empty());
        let bad = dag(
            json!([t("a", &[])]),
            json!({"kind": "cron", "expr": "61 * * * *", "timezone": "UTC"}),
        );
        let errs = validate(&bad).join("\n");
        assert!(
            errs.contains("invalid schedule \"61 * * * *\"") && errs.contains("5 fields"),
            "{errs}"
        );
        let tz = dag(
            json!([t("a", &[])]),
            json!({"kind": "cron", "expr": "0 * * * *", "timezone": "Mars/Base"}),
        );
        assert!(validate(&tz).join("").contains("Mars/Base"));
    }
}
