//! Run configuration against a DAG's `params`: what the API's trigger, `leoflow dags trigger`
//! and `leoflow dags test` accept. Each param's value (from `conf`, else its default) is
//! validated against the param's JSON schema, as Airflow does with `jsonschema`.

use serde_json::{Map, Value};

/// Returns the first problem, worded as Airflow's (`Invalid input for param NAME: ...`).
pub fn check_conf(dag: &crate::dag::Dag, conf: &Map<String, Value>) -> Result<(), String> {
    for (name, p) in &dag.params {
        let Some(v) = conf.get(name).or_else(|| p.get("value")) else {
            continue;
        };
        let bad = |why: String| format!("Invalid input for param {name}: {why}");
        let schema = match p.get("schema") {
            Some(s @ Value::Object(_)) => s,
            _ => continue,
        };
        // A param without a value (None) is fine unless its schema says otherwise, as in Airflow.
        if v.is_null() && schema.get("type").is_none() {
            continue;
        }
        let validator = jsonschema::validator_for(schema)
            .map_err(|e| bad(format!("the param's schema is invalid: {e}")))?;
        if let Some(e) = validator.iter_errors(v).next() {
            return Err(bad(e.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn dag() -> crate::dag::Dag {
        serde_json::from_value(json!({
            "dag_id": "d", "fileloc": "/x.py",
            "params": {
                "count": {"value": 1, "schema": {"type": "integer", "minimum": 1}},
                "mode": {"value": "a", "schema": {"type": "string", "enum": ["a", "b"]}},
                "free": {"value": null, "schema": {}}
            },
            "tasks": []
        }))
        .unwrap()
    }

    #[test]
    fn conf_is_checked_against_param_schemas() {
        let d = dag();
        let ok = |c: serde_json::Value| super::check_conf(&d, c.as_object().unwrap());
        assert_eq!(ok(json!({})), Ok(()));
        assert_eq!(ok(json!({"count": 5, "mode": "b", "free": [1]})), Ok(()));
        let e = ok(json!({"count": 0})).unwrap_err();
        assert!(
            e.starts_with("Invalid input for param count:") && e.contains("minimum"),
            "{e}"
        );
        let e = ok(json!({"mode": "c"})).unwrap_err();
        assert!(e.contains("param mode") && e.contains("\"c\""), "{e}");
        let e = ok(json!({"count": "3"})).unwrap_err();
        assert!(e.contains("integer"), "{e}");
    }
}
