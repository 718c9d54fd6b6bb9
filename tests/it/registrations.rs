//! DAGs registered through `POST /api/v2/dags/{dag_id}/versions` (issue #13): a Pro
//! `dag.json` is schema-checked, stored as a version of the `registered` bundle (201 new, 200
//! unchanged), listed like a parsed DAG, kept across rescans and restarts, and run in its image
//! with the container executor (real engine, as in `containers`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::engine_images::{PYTHON_IMAGE, docker_host, images};
use crate::support::*;

const WAIT: Duration = Duration::from_secs(90);

fn register(s: &Server, dag_id: &str, doc: &Value) -> (u16, Value) {
    let r = http()
        .post(s.url(&format!("/api/v2/dags/{dag_id}/versions")))
        .json(doc)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or_default())
}

/// A dag.json using the stdlib as its "DAG code" (the test image holds Python's stdlib): a
/// python task `json:dumps` with call_args, one `json:loads` fed by it through xcom_input, a
/// bash task, and an http_api task calling this server.
fn dag_json(port_url: &str, version: &str) -> Value {
    json!({
        "schema_version": "1.0", "dag_id": "reg", "dag_version": version,
        "image": PYTHON_IMAGE, "schedule": null, "owner": "data", "tags": ["deployed"],
        "source": "# the DAG's source, for the Code view\n",
        "tasks": [
            {"task_id": "dump", "type": "python", "execution_mode": "pod",
             "entrypoint": "json:dumps", "call_args": {"obj": [1, 2], "sort_keys": true}},
            {"task_id": "load", "type": "python", "execution_mode": "pod",
             "entrypoint": "json:loads", "xcom_input": {"s": "dump"}, "depends_on": ["dump"]},
            {"task_id": "shell", "type": "bash", "execution_mode": "pod",
             "entrypoint": "echo in-image uid=$(id -u)", "depends_on": ["load"]},
            {"task_id": "ping", "type": "http_api", "execution_mode": "inline",
             "http_request": {"method": "GET", "url": format!("{port_url}/api/v2/version")},
             "depends_on": ["shell"]}
        ]
    })
}

#[test]
fn a_registered_dag_json_is_versioned_listed_and_runs_in_its_image() {
    images();
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("filed.py"),
        "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\nwith DAG('filed', schedule=None):\n    EmptyOperator(task_id='t')\n",
    )
    .unwrap();
    let start = || {
        let mut cmd = leoflow(home.path());
        cmd.env("DOCKER_HOST", docker_host());
        Server::start_with(
            cmd,
            home.path(),
            &["--executor", "docker", dags.path().to_str().unwrap()],
        )
    };
    let s = start();
    let doc = dag_json(&s.base, "v1");

    let (status, body) = register(&s, "reg", &doc);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["dag_id"], "reg");
    assert_eq!(body["version"], 1);
    assert_eq!(body["created"], true);
    let hash = body["spec_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);

    // The same content again: 200, same version and hash.
    let (status, again) = register(&s, "reg", &doc);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["version"], 1);
    assert_eq!(again["spec_hash"], hash.as_str());
    assert_eq!(again["created"], false);

    // Refusals: schema, URL mismatch, a DAG a file defines.
    let mut bad = doc.clone();
    bad["tasks"][0]["type"] = json!("java");
    let (status, e) = register(&s, "reg", &bad);
    assert_eq!(status, 422, "{e}");
    assert!(e.to_string().contains("java"), "{e}");
    let (status, e) = register(&s, "other", &doc);
    assert_eq!(status, 400, "{e}");
    let mut filed = doc.clone();
    filed["dag_id"] = json!("filed");
    let deadline = std::time::Instant::now() + WAIT;
    while get_json(&s.url("/api/v2/dags/filed")).0 != 200 {
        assert!(std::time::Instant::now() < deadline, "filed.py not parsed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, e) = register(&s, "filed", &filed);
    assert_eq!(status, 409, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("filed.py"), "{e}");

    // Listed as a registered DAG, its source and version shown.
    let (_, d) = get_json(&s.url("/api/v2/dags/reg"));
    assert_eq!(d["bundle_name"], "registered", "{d}");
    assert_eq!(d["bundle_version"], "v1");
    assert_eq!(d["owners"], json!(["data"]));
    let (_, src) = get_json(&s.url("/api/v2/dagSources/reg"));
    assert!(
        src["content"]
            .as_str()
            .unwrap()
            .contains("the DAG's source"),
        "{src}"
    );

    // A changed dag.json is a new version.
    let mut v2 = doc.clone();
    v2["dag_version"] = json!("v2");
    v2["tasks"][0]["call_args"] = json!({"obj": [1, 2, 3], "sort_keys": true});
    let (status, body) = register(&s, "reg", &v2);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], 2);
    let (_, versions) = get_json(&s.url("/api/v2/dags/reg/dagVersions"));
    assert_eq!(versions["total_entries"], 2, "{versions}");
    assert_eq!(versions["dag_versions"][1]["bundle_name"], "registered");
    assert_eq!(versions["dag_versions"][1]["bundle_version"], "v2");

    // It runs in its image.
    let r = http()
        .patch(s.url("/api/v2/dags/reg"))
        .json(&json!({"is_paused": false}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let run_id = trigger_when_parsed(&s, "reg", json!({}), WAIT);
    let (run, tis) = run_result(&s, "reg", &run_id, WAIT);
    let log = |t: &str| try_log(home.path(), "reg", &run_id, t, 1);
    assert_eq!(
        run["state"],
        "success",
        "{tis:?}\ndump: {}\nload: {}\nshell: {}\nping: {}",
        log("dump"),
        log("load"),
        log("shell"),
        log("ping")
    );
    let xcom = |t: &str| {
        let (_, x) = get_json(&s.url(&format!(
            "/api/v2/dags/reg/dagRuns/{}/taskInstances/{t}/xcomEntries/return_value",
            enc_run(&run_id)
        )));
        x["value"].clone()
    };
    assert_eq!(xcom("dump"), "[1, 2, 3]");
    assert_eq!(xcom("load"), json!([1, 2, 3]));
    assert_eq!(xcom("shell"), "in-image uid=65534");
    assert!(log("shell").contains("Container"), "{}", log("shell"));
    assert!(
        xcom("ping").to_string().contains("version"),
        "{}",
        xcom("ping")
    );
    let (_, run) = get_json(&s.url(&format!("/api/v2/dags/reg/dagRuns/{}", enc_run(&run_id))));
    assert_eq!(run["dag_versions"][0]["version_number"], 2);
    assert_eq!(run["bundle_version"], "v2");

    // A DAG folder rescan and a restart keep it.
    std::fs::write(dags.path().join("another.py"), "x = 1\n").unwrap();
    drop(s);
    let s = start();
    std::thread::sleep(Duration::from_millis(500));
    let (status, d) = get_json(&s.url("/api/v2/dags/reg"));
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["is_stale"], false, "{d}");
    let (status, again) = register(&s, "reg", &v2);
    assert_eq!((status, again["version"].clone()), (200, json!(2)));
}

/// Without the container executor a registered python task fails saying how to run it.
#[test]
fn a_registered_python_task_needs_the_container_executor() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    let doc = dag_json(&s.base, "v1");
    assert_eq!(register(&s, "reg", &doc).0, 201);
    http()
        .patch(s.url("/api/v2/dags/reg"))
        .json(&json!({"is_paused": false}))
        .send()
        .unwrap();
    let run_id = trigger_when_parsed(&s, "reg", json!({}), WAIT);
    let (run, tis) = run_result(&s, "reg", &run_id, WAIT);
    assert_eq!(run["state"], "failed");
    assert_eq!(tis["dump"]["state"], "failed");
    let log = try_log(home.path(), "reg", &run_id, "dump", 1);
    assert!(log.contains("--executor docker"), "{log}");
}
