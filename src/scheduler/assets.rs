//! Asset conditions: whether the assets queued for a DAG satisfy its schedule, as Airflow's
//! `AssetEvaluator` decides. An asset counts when it is queued (by `(name, uri)`); an alias
//! when any asset it resolved to is queued; `Asset.ref(name=...)` / `Asset.ref(uri=...)` when
//! a queued asset has that name / URI; `AssetAll` when every member counts (an empty one
//! does, as Python's `all([])`), `AssetAny` when one does.
//!
//! Also the run id of an asset-triggered run.
//!
//! **Invariant:** pure; no clock, no IO (the caller passes the random suffix).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::dag::model::AssetExpr;

/// The queued assets, `(name, uri)`, and what each alias resolved to.
#[derive(Debug, Clone, Default)]
pub struct Statuses {
    pub queued: HashSet<(String, String)>,
    pub aliases: HashMap<String, Vec<(String, String)>>,
}

/// Whether `cond` holds for `s`.
pub fn ready(cond: &AssetExpr, s: &Statuses) -> bool {
    match cond {
        AssetExpr::Asset(k) => s.queued.contains(&(k.name.clone(), k.uri.clone())),
        AssetExpr::Alias(a) => s
            .aliases
            .get(&a.name)
            .is_some_and(|targets| targets.iter().any(|t| s.queued.contains(t))),
        AssetExpr::AssetRef(r) => s.queued.iter().any(|(name, uri)| match (&r.name, &r.uri) {
            (Some(n), _) => n == name,
            (None, Some(u)) => u == uri,
            (None, None) => false,
        }),
        AssetExpr::All(v) => v.iter().all(|x| ready(x, s)),
        AssetExpr::Any(v) => v.iter().any(|x| ready(x, s)),
    }
}

/// Airflow's id of a run without a logical date: `asset_triggered__<run_after>_<suffix>`
/// (`generate_run_id` appends 8 random letters or digits).
pub fn run_id(run_after: &DateTime<Utc>, suffix: &str) -> String {
    format!(
        "asset_triggered__{}_{suffix}",
        run_after.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(v: serde_json::Value) -> AssetExpr {
        serde_json::from_value(v).unwrap()
    }

    fn asset(name: &str) -> serde_json::Value {
        json!({"asset": {"uri": format!("s3://b/{name}"), "name": name, "group": "asset"}})
    }

    fn queued(names: &[&str]) -> Statuses {
        Statuses {
            queued: names
                .iter()
                .map(|n| (n.to_string(), format!("s3://b/{n}")))
                .collect(),
            aliases: HashMap::new(),
        }
    }

    /// `check(condition, queued assets, expected)`.
    fn check(c: serde_json::Value, names: &[&str], expect: bool) {
        assert_eq!(
            ready(&cond(c.clone()), &queued(names)),
            expect,
            "{c} with {names:?}"
        );
    }

    #[test]
    fn a_single_asset_needs_itself() {
        check(asset("a"), &["a"], true);
        check(asset("a"), &["b"], false);
        check(asset("a"), &[], false);
    }

    #[test]
    fn all_needs_every_asset_and_any_one_of_them() {
        let all = json!({"all": [asset("a"), asset("b")]});
        check(all.clone(), &["a"], false);
        check(all.clone(), &["b"], false);
        check(all, &["a", "b"], true);
        let any = json!({"any": [asset("a"), asset("b")]});
        check(any.clone(), &["a"], true);
        check(any.clone(), &["b"], true);
        check(any, &["c"], false);
    }

    #[test]
    fn nested_conditions_follow_and_or() {
        // (a & b) | (c & (d | e))
        let c = json!({"any": [
            {"all": [asset("a"), asset("b")]},
            {"all": [asset("c"), {"any": [asset("d"), asset("e")]}]}
        ]});
        check(c.clone(), &["a"], false);
        check(c.clone(), &["a", "b"], true);
        check(c.clone(), &["c"], false);
        check(c.clone(), &["c", "e"], true);
        check(c, &["a", "d"], false);
    }

    #[test]
    fn empty_all_holds_and_empty_any_does_not() {
        check(json!({"all": []}), &[], true);
        check(json!({"any": []}), &["a"], false);
    }

    #[test]
    fn the_same_uri_under_another_name_is_another_asset() {
        let s = Statuses {
            queued: [("other".to_string(), "s3://b/a".to_string())].into(),
            aliases: HashMap::new(),
        };
        assert!(!ready(&cond(asset("a")), &s));
    }

    #[test]
    fn aliases_count_through_the_assets_they_resolved_to() {
        let mut s = queued(&["x"]);
        let c = cond(json!({"alias": {"name": "al", "group": "asset"}}));
        assert!(!ready(&c, &s), "an alias that resolved to nothing");
        s.aliases
            .insert("al".into(), vec![("x".into(), "s3://b/x".into())]);
        assert!(ready(&c, &s));
        s.queued.clear();
        assert!(!ready(&c, &s));
    }

    #[test]
    fn references_match_by_name_or_uri() {
        let s = queued(&["a"]);
        assert!(ready(&cond(json!({"asset_ref": {"name": "a"}})), &s));
        assert!(ready(&cond(json!({"asset_ref": {"uri": "s3://b/a"}})), &s));
        assert!(!ready(
            &cond(json!({"asset_ref": {"name": "s3://b/a"}})),
            &s
        ));
        assert!(!ready(&cond(json!({"asset_ref": {}})), &s));
    }

    #[test]
    fn run_ids_look_like_airflows() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            run_id(&t, "AbCd1234"),
            "asset_triggered__2026-01-02T03:04:05.123456+00:00_AbCd1234"
        );
    }
}
