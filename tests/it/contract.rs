//! Contract tests: every response Airflow 3.2.2 gave in `tests/fixtures/airflow/` (each headed
//! by its request) is asked of Lite in the same state (the same DAG ids, task ids and runs),
//! and the two bodies must have the same shape both ways, recursively through objects and
//! array items: no field Airflow has is missing, no field Lite adds is unknown to Airflow.
//! A deliberate difference is listed in [`DIFFERENCES`] with its reason; a fixture Lite does
//! not serve is listed in [`NOT_SERVED`] with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, enc_run, get_json, http, kind, run_result};

/// Fixtures Lite does not answer, with why.
const NOT_SERVED: &[(&str, &str)] = &[
    (
        "auth_token_post.txt",
        "raw HTTP headers and a token: the auth tests check /auth/token",
    ),
    (
        "config_text.txt",
        "Airflow's whole airflow.cfg as text: Lite's config is its own",
    ),
    (
        "log_ndjson.txt",
        "NDJSON log lines: the log tests follow them live",
    ),
    (
        "ui_grid_ti_summaries.ndjson",
        "Airflow's private UI API (/ui): Lite's UI is its own",
    ),
];

/// Deliberate differences: (fixture, path of the field, reason). `+` marks a field Lite adds,
/// `-` one Airflow has that Lite leaves out.
const DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "dag_details.json",
        "+.image",
        "Lite's own: the image a registered DAG runs in (Pro's dag.json)",
    ),
    (
        "log_json.json",
        "-.content[].filename",
        "Airflow's records name the Python source line that logged them; Lite's task runtime logs no source location",
    ),
    (
        "log_json.json",
        "-.content[].lineno",
        "Airflow's records name the Python source line that logged them; Lite's task runtime logs no source location",
    ),
    (
        "log_json.json",
        "-.content[].ti",
        "the repr of Airflow's RuntimeTaskInstance on its 'Pushing xcom' record (an internal object)",
    ),
    (
        "health.json",
        "+.dag_processor.parse_progress",
        "Lite's own: how far the first parse of the DAG folder got",
    ),
];

/// The DAGs of the captures: the same ids and tasks as Airflow's `compat_dags.py`.
const COMPAT_DAGS: &str = r#"
import pendulum
from airflow.sdk import DAG, dag, task, TaskGroup
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator

START = pendulum.datetime(2025, 1, 1, tz="UTC")

with DAG("compat_linear", schedule=None, start_date=START, tags=["compat"]):
    extract = BashOperator(task_id="extract", bash_command="echo extracted")
    transform = BashOperator(task_id="transform", bash_command="echo transformed")
    load = EmptyOperator(task_id="load")
    extract >> transform >> load

with DAG("compat_failing", schedule=None, start_date=START, tags=["compat"]):
    boom = BashOperator(task_id="boom", bash_command="exit 1")
    after = EmptyOperator(task_id="after")
    boom >> after

@dag(dag_id="compat_taskflow", schedule=None, start_date=START, tags=["compat"])
def compat_taskflow():
    @task(multiple_outputs=True)
    def produce():
        return {"x": 1, "y": [1, 2, 3]}

    @task
    def square(x):
        return x * x

    @task
    def fanout(values):
        return sum(values)

    @task
    def consume(total):
        return total

    @task
    def inner1(v):
        return v

    @task
    def inner2(v):
        return v

    squares = square.expand(x=[1, 2, 3])
    produce() >> squares
    total = consume(fanout(squares))
    with TaskGroup("grp"):
        inner2(inner1(total))

compat_taskflow()
"#;

/// A captured response: its request line, status and body.
struct Capture {
    method: String,
    path: String,
    status: u16,
    body: Value,
}

fn read_capture(path: &Path) -> Capture {
    let text = std::fs::read_to_string(path).unwrap();
    let headers: Vec<&str> = text.lines().take_while(|l| l.starts_with("//")).collect();
    let request = headers[0].trim_start_matches("//").trim();
    let (method, target) = request.split_once(' ').unwrap();
    let status = headers[1]
        .trim_start_matches("//")
        .trim()
        .trim_start_matches("status ")
        .parse()
        .unwrap();
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    Capture {
        method: method.to_string(),
        path: target.to_string(),
        status,
        // Airflow's UI answered one capture with a plain-text 500.
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    }
}

/// Keys whose values are user data: compared by JSON kind only.
const FREE_FORM: &[&str] = &[
    "conf",
    "rendered_fields",
    "params",
    "default_args",
    "extra",
    "value",
    "owner_links",
    "asset_expression",
    "dag_run_timeout",
    "detail",
    "params_input",
    "hook_meta",
];

/// The shape of a value: objects keep their keys (recursively), arrays the merged shape of
/// their items (every key any item has), other values their kind; `null` is unknown.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let s = if FREE_FORM.contains(&k.as_str()) {
                        match x {
                            Value::Null => Value::Null,
                            other => json!(kind(other)),
                        }
                    } else {
                        shape(x)
                    };
                    (k.clone(), s)
                })
                .collect(),
        ),
        Value::Array(items) => {
            let merged = items.iter().map(shape).fold(Value::Null, merge);
            json!([merged])
        }
        Value::Null => Value::Null,
        other => json!(kind(other)),
    }
}

/// Two shapes as one: the keys of both objects, the known kind where one side is `null`.
fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Null, b) => b,
        (a, Value::Null) => a,
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let old = a.remove(&k).unwrap_or(Value::Null);
                a.insert(k, merge(old, v));
            }
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) => {
            let x = a.into_iter().chain(b).fold(Value::Null, merge);
            json!([x])
        }
        (a, _) => a,
    }
}

/// Every difference between two shapes: `+path` (only Lite), `-path` (only Airflow),
/// `~path` (different kinds).
fn differences(airflow: &Value, lite: &Value, at: &str, out: &mut BTreeSet<String>) {
    match (airflow, lite) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(a), Value::Object(l)) => {
            let keys: BTreeSet<&String> = a.keys().chain(l.keys()).collect();
            for k in keys {
                let p = format!("{at}.{k}");
                match (a.get(k), l.get(k)) {
                    (Some(x), Some(y)) => differences(x, y, &p, out),
                    (Some(_), None) => {
                        out.insert(format!("-{p}"));
                    }
                    (None, _) => {
                        out.insert(format!("+{p}"));
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(l)) => {
            if let (Some(x), Some(y)) = (a.first(), l.first()) {
                differences(x, y, &format!("{at}[]"), out);
            }
        }
        (a, l) if a == l => {}
        (a, l) => {
            out.insert(format!("~{at} (Airflow {a}, Lite {l})"));
        }
    }
}

/// The request body each write capture was made with.
fn body_of(name: &str, runs: &BTreeMap<&str, String>) -> Option<Value> {
    Some(match name {
        "clear_task_instances_dry_run.json" => json!({"dry_run": true, "only_failed": true}),
        "dag_run_clear_dry_run.json" => json!({"dry_run": true}),
        "connection_post.json" => json!({"connection_id": "compat_http", "conn_type": "http",
            "host": "example.com", "login": "u", "password": "p", "port": 443}),
        "variable_post.json" => json!({"key": "compat_var", "value": "v", "description": "d"}),
        "patch_dag_run_note.json" => json!({"note": "looked at it"}),
        "patch_ti_dry_run.json" => json!({"new_state": "success"}),
        "error_409_duplicate_run.json" => {
            json!({"dag_run_id": runs["compat_linear"], "logical_date": null})
        }
        n if n.starts_with("patch_dag_compat") => json!({"is_paused": false}),
        n if n.starts_with("trigger_compat") => json!({"logical_date": null}),
        _ => return None,
    })
}

/// The capture's path with the captured run ids replaced by this server's runs of the same
/// DAGs.
fn local_path(path: &str, runs: &BTreeMap<&str, String>) -> String {
    let mut out = path.to_string();
    if let Some(i) = out.find("manual__") {
        let end = out[i..]
            .find(['/', '?'])
            .map(|e| i + e)
            .unwrap_or(out.len());
        let dag = out
            .split('/')
            .skip_while(|s| *s != "dags")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        out.replace_range(i..end, &enc_run(&runs[dag.as_str()]));
    }
    out
}

#[test]
fn every_airflow_capture_has_our_shape_both_ways() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("compat_dags.py"), COMPAT_DAGS).unwrap();
    let s = Server::start(home.path(), &[dags.path().to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_json(&s.url("/api/v2/dags")).1["total_entries"] != 3 {
        assert!(
            Instant::now() < deadline,
            "DAGs not parsed:\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // One finished run per DAG, as when Airflow's answers were captured.
    let mut runs = BTreeMap::new();
    for dag in ["compat_linear", "compat_failing", "compat_taskflow"] {
        let run = crate::support::trigger_when_parsed(&s, dag, json!({}), Duration::from_secs(10));
        run_result(&s, dag, &run, Duration::from_secs(60));
        runs.insert(dag, run);
    }

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/airflow");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut compared = 0;
    for name in &names {
        if NOT_SERVED.iter().any(|(n, _)| n == name) {
            continue;
        }
        let c = read_capture(&dir.join(name));
        if c.path.starts_with("/ui/") {
            // Airflow's private UI API: Lite's UI is its own and reads only /api/v2.
            continue;
        }
        let url = s.url(&local_path(&c.path, &runs));
        let req = match c.method.as_str() {
            "GET" => http().get(&url),
            "POST" => http().post(&url),
            "PATCH" => http().patch(&url),
            other => panic!("{name}: method {other}"),
        };
        let req = match body_of(name, &runs) {
            Some(b) => req.json(&b),
            None => req,
        };
        let r = req.send().unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        let Ok(ours) = serde_json::from_str::<Value>(&text) else {
            failures.push(format!("{name}: {} {url}: not JSON: {text}", c.method));
            continue;
        };
        if status != c.status {
            failures.push(format!(
                "{name}: {} {url}: status {status}, Airflow {}: {ours}",
                c.method, c.status
            ));
            continue;
        }
        compared += 1;
        let mut diffs = BTreeSet::new();
        differences(&shape(&c.body), &shape(&ours), "", &mut diffs);
        for d in diffs {
            let allowed = DIFFERENCES
                .iter()
                .any(|(n, p, _)| n == name && d.starts_with(p));
            if !allowed {
                failures.push(format!("{name}: {d}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "shape differences with Airflow ({} fixtures compared):\n{}\n{}",
        compared,
        failures.join("\n"),
        s.output()
            .chars()
            .rev()
            .take(3000)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    );
    // Every fixture was either compared or listed with a reason.
    let ui = names
        .iter()
        .filter(|n| {
            !NOT_SERVED.iter().any(|(x, _)| x == *n)
                && read_capture(&dir.join(n)).path.starts_with("/ui/")
        })
        .count();
    assert_eq!(compared + ui + NOT_SERVED.len(), names.len());
}

#[test]
fn shape_comparison_sees_both_directions_and_array_items() {
    let airflow = json!({"a": 1, "items": [{"x": 1}, {"y": "s"}], "n": null});
    let lite = json!({"a": 2, "b": true, "items": [{"x": 2, "z": 1}], "n": [1]});
    let mut d = BTreeSet::new();
    differences(&shape(&airflow), &shape(&lite), "", &mut d);
    assert_eq!(
        d.into_iter().collect::<Vec<_>>(),
        ["+.b", "+.items[].z", "-.items[].y"]
    );
}
