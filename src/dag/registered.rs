//! Registered DAGs: a Pro `dag.json` (`schemas/dag-schema.json`, what `leoflow compile` emits
//! and `leoflow deploy` registers) read back into Lite's DAG model, so a DAG registered through
//! `POST /api/v2/dags/{dag_id}/versions` lists, shows and runs like a parsed one.
//!
//! Every task runs in the dag.json's `image` (with `--executor docker`): `bash` as `bash -c
//! entrypoint`, `python` through the runtime's `entrypoint` kind (`module:callable` imported in
//! the image, called with `call_args` and the upstream return values named by `xcom_input`),
//! `http_api` natively. The input is schema-checked first ([`super::compile::check_schema`]).

use serde_json::{Map, Value, json};

use super::model::{Dag, Schedule, Task};

/// The task kind of a registered `python` task (see `python/PROTOCOL.md`).
pub const ENTRYPOINT: &str = "entrypoint";

/// The DAG model of a schema-valid `dag.json`, or why it cannot be read (naming the field).
pub fn from_dag_json(doc: &Value) -> Result<Dag, String> {
    let text = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(String::from);
    let dag_id = text("dag_id").ok_or("`dag_id` is missing")?;
    let image = text("image").ok_or("`image` is missing")?;
    let timezone = text("schedule_timezone").unwrap_or_else(|| "UTC".into());
    let schedule = text("schedule").map(|expr| Schedule::Cron {
        expr,
        timezone: timezone.clone(),
        extra: Map::new(),
    });
    let defaults = doc.get("default_args").cloned().unwrap_or(json!({}));
    let mut default_args = Map::new();
    if let Some(r) = defaults.get("retries") {
        default_args.insert("retries".into(), r.clone());
    }
    for (from, to) in [
        ("retry_delay_seconds", "retry_delay"),
        ("execution_timeout_seconds", "execution_timeout"),
    ] {
        if let Some(s) = defaults.get(from).and_then(|v| v.as_f64()) {
            default_args.insert(to.into(), json!({ "__timedelta__": s }));
        }
    }
    let mut tasks = Vec::new();
    for (i, t) in doc["tasks"].as_array().into_iter().flatten().enumerate() {
        tasks.push(task(t, &defaults, &image).map_err(|e| format!("`tasks[{i}]`: {e}"))?);
    }
    if tasks.is_empty() {
        return Err("`tasks` is empty".into());
    }
    for t in &tasks {
        if let Some(u) = t
            .upstream
            .iter()
            .find(|u| !tasks.iter().any(|x| &x.task_id == *u))
        {
            return Err(format!(
                "task {:?} depends on {u:?}, which is not a task of the DAG",
                t.task_id
            ));
        }
    }
    let mut extra = Map::new();
    extra.insert("image".into(), json!(image));
    extra.insert("dag_version".into(), json!(text("dag_version")));
    Ok(Dag {
        fileloc: format!("{}/{dag_id}/dag.json", crate::store::dags::REGISTERED),
        timetable_summary: schedule.as_ref().map(|s| match s {
            Schedule::Cron { expr, .. } => expr.clone(),
            _ => String::new(),
        }),
        schedule,
        description: text("description"),
        owner: text("owner").unwrap_or_else(|| "airflow".into()),
        tags: doc["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        start_date: text("start_date"),
        end_date: text("end_date"),
        timezone,
        catchup: doc["catchup"].as_bool().unwrap_or(false),
        max_active_runs: doc["max_active_runs"].as_u64().unwrap_or(16) as u32,
        max_active_tasks: 16,
        default_args,
        tasks,
        extra,
        dag_id,
        ..Default::default()
    })
}

fn task(t: &Value, defaults: &Value, image: &str) -> Result<Task, String> {
    let text = |k: &str| t.get(k).and_then(|v| v.as_str()).map(String::from);
    let task_id = text("task_id").ok_or("`task_id` is missing")?;
    let number = |k: &str| {
        t.get(k)
            .or_else(|| defaults.get(k))
            .and_then(|v| v.as_f64())
    };
    let mut args = Map::new();
    if let Some(env) = t.get("env") {
        args.insert("env".into(), env.clone());
    }
    let (kind, operator) = match text("type").as_deref() {
        Some("bash") => {
            let cmd = text("entrypoint").ok_or("a bash task needs `entrypoint`")?;
            args.insert("bash_command".into(), json!(cmd));
            ("bash", "BashOperator")
        }
        Some("python") => {
            let entry = text("entrypoint").ok_or("a python task needs `entrypoint`")?;
            if !entry.contains(':') {
                return Err(format!(
                    "entrypoint {entry:?} is not `module.path:callable`"
                ));
            }
            args.insert("entrypoint".into(), json!(entry));
            args.insert(
                "call_args".into(),
                t.get("call_args").cloned().unwrap_or(json!({})),
            );
            args.insert(
                "xcom_input".into(),
                t.get("xcom_input").cloned().unwrap_or(json!({})),
            );
            (ENTRYPOINT, "PythonOperator")
        }
        Some("http_api") => {
            let r = t
                .get("http_request")
                .ok_or("an http_api task needs `http_request`")?;
            args.insert("http_conn_id".into(), json!(""));
            args.insert("endpoint".into(), r["url"].clone());
            args.insert("method".into(), r["method"].clone());
            args.insert(
                "headers".into(),
                r.get("headers").cloned().unwrap_or(json!({})),
            );
            args.insert("data".into(), r.get("body").cloned().unwrap_or(json!({})));
            ("http", "HttpOperator")
        }
        other => return Err(format!("type {other:?} is not python, bash or http_api")),
    };
    let mut extra = Map::new();
    for k in ["resources", "execution", "secrets", "xcom_schema"] {
        if let Some(v) = t.get(k) {
            extra.insert(k.into(), v.clone());
        }
    }
    let http_timeout = t
        .pointer("/http_request/timeout_seconds")
        .and_then(|v| v.as_f64());
    // Pro calls an http_api task from its control plane, not in a pod: no image.
    let image = (kind != "http").then(|| image.to_string());
    Ok(Task {
        operator: operator.into(),
        kind: kind.into(),
        upstream: t["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u.as_str().map(String::from))
            .collect(),
        trigger_rule: text("trigger_rule").unwrap_or_else(|| "all_success".into()),
        retries: number("retries").unwrap_or(0.0) as u32,
        retry_delay: number("retry_delay_seconds").unwrap_or(300.0),
        execution_timeout: number("execution_timeout_seconds").or(http_timeout),
        pool: "default_pool".into(),
        pool_slots: 1,
        priority_weight: 1,
        owner: "airflow".into(),
        do_xcom_push: true,
        args,
        image,
        extra,
        task_id,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "schema_version": "1.0", "dag_id": "etl", "dag_version": "v7",
            "image": "registry.local/etl@sha256:abc", "schedule": "0 6 * * *",
            "schedule_timezone": "Europe/Paris", "tags": ["a"], "owner": "data",
            "default_args": {"retries": 2, "retry_delay_seconds": 30},
            "tasks": [
                {"task_id": "extract", "type": "python", "entrypoint": "etl.dag:extract",
                 "call_args": {"n": 3}, "execution_mode": "pod"},
                {"task_id": "load", "type": "bash", "entrypoint": "echo done",
                 "depends_on": ["extract"], "retries": 0, "env": {"A": "1"}},
                {"task_id": "ping", "type": "http_api", "depends_on": ["load"],
                 "http_request": {"method": "GET", "url": "https://example.com/x", "timeout_seconds": 9}}
            ]
        })
    }

    #[test]
    fn a_dag_json_reads_into_the_model() {
        let d = from_dag_json(&doc()).unwrap();
        assert_eq!(d.dag_id, "etl");
        assert_eq!(d.fileloc, "registered/etl/dag.json");
        assert_eq!(d.extra["image"], "registry.local/etl@sha256:abc");
        assert!(
            matches!(&d.schedule, Some(Schedule::Cron { expr, timezone, .. }) if expr == "0 6 * * *" && timezone == "Europe/Paris")
        );
        let [extract, load, ping] = &d.tasks[..] else {
            panic!("{:?}", d.tasks)
        };
        assert_eq!(extract.kind, ENTRYPOINT);
        assert_eq!(extract.args["entrypoint"], "etl.dag:extract");
        assert_eq!(extract.args["call_args"], json!({"n": 3}));
        assert_eq!(extract.retries, 2, "the DAG's default");
        assert_eq!(extract.retry_delay, 30.0);
        assert_eq!(
            extract.image.as_deref(),
            Some("registry.local/etl@sha256:abc")
        );
        assert_eq!(load.kind, "bash");
        assert_eq!(load.args["bash_command"], "echo done");
        assert_eq!(load.upstream, ["extract"]);
        assert_eq!(load.retries, 0, "the task's own");
        assert_eq!(ping.kind, "http");
        assert_eq!(ping.args["endpoint"], "https://example.com/x");
        assert_eq!(ping.execution_timeout, Some(9.0));
        assert_eq!(ping.image, None, "called from the server, as Pro does");
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        let mut d = doc();
        d["tasks"][1]["depends_on"] = json!(["nope"]);
        let e = from_dag_json(&d).unwrap_err();
        assert!(e.contains("\"load\" depends on \"nope\""), "{e}");
        let mut d = doc();
        d["tasks"][0]["entrypoint"] = json!("no_colon");
        let e = from_dag_json(&d).unwrap_err();
        assert!(
            e.starts_with("`tasks[0]`") && e.contains("module.path:callable"),
            "{e}"
        );
    }
}
