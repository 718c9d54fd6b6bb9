//! Issue 14 (item 3 and Human-in-the-loop): the remaining routes of Airflow 3.2's public API
//! (XCom entry delete, bulk task instances, dependencies, links, external log URL, jobs,
//! favourites, parse requests, upstream asset events) and HITL operators that wait for an
//! answer given through `PATCH .../hitlDetails`, on the real binary with real Python.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn call(method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut r = http().request(m, url);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().unwrap();
    let st = r.status().as_u16();
    let text = r.text().unwrap();
    (st, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn start(home: &Path, dags: &Path, n: i64) -> Server {
    let s = Server::start(home, &[dags.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_json(&s.url("/api/v2/dags")).1["total_entries"].as_i64() < Some(n) {
        assert!(
            Instant::now() < deadline,
            "DAGs not parsed:\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s
}

/// Waits until a task instance is in `state`; its JSON.
fn wait_ti(s: &Server, dag_id: &str, run_id: &str, task_id: &str, state: &str) -> Value {
    let url = s.url(&format!(
        "/api/v2/dags/{dag_id}/dagRuns/{}/taskInstances/{task_id}",
        enc_run(run_id)
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, ti) = get_json(&url);
        if ti["state"] == state {
            return ti;
        }
        assert!(
            Instant::now() < deadline,
            "{task_id} never {state}: {ti}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

const HITL_DAGS: &str = r#"
import datetime
import pendulum
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.hitl import (
    ApprovalOperator, HITLBranchOperator, HITLEntryOperator, HITLOperator)
from airflow.providers.standard.operators.empty import EmptyOperator

START = pendulum.datetime(2025, 1, 1, tz="UTC")

with DAG("approve", schedule=None, start_date=START):
    gate = ApprovalOperator(task_id="gate", subject="Ship {{ run_id }}?", body="Release notes",
                            assigned_users=[{"id": "Anonymous", "name": "Anonymous"}])
    ship = EmptyOperator(task_id="ship")
    gate >> ship

with DAG("choose", schedule=None, start_date=START):
    pick = HITLOperator(task_id="pick", subject="Pick", options=["a", "b", "c"], multiple=True,
                        params={"n": 1})

    @task
    def report(answer):
        return sorted(answer["chosen_options"])

    report(pick.output)

with DAG("timeout_default", schedule=None, start_date=START):
    HITLOperator(task_id="ask", subject="Anyone?", options=["yes", "no"], defaults="no",
                 response_timeout=datetime.timedelta(seconds=1))

with DAG("entry_default", schedule=None, start_date=START):
    HITLEntryOperator(task_id="entry", subject="Say something",
                      response_timeout=datetime.timedelta(seconds=1))

with DAG("branchy", schedule=None, start_date=START):
    b = HITLBranchOperator(task_id="b", subject="Where?", options=["left", "right"],
                           options_mapping={"left": "go_left"})
    b >> [EmptyOperator(task_id="go_left"), EmptyOperator(task_id="right")]
"#;

#[test]
fn hitl_operators_wait_for_an_answer_and_resume_with_it() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("hitl_dags.py"), HITL_DAGS).unwrap();
    let s = start(home.path(), dags.path(), 5);
    let api = |p: &str| s.url(&format!("/api/v2{p}"));

    // Approve: the task defers, holding no process, with the request recorded.
    let run = trigger_when_parsed(&s, "approve", json!({}), Duration::from_secs(5));
    let ti = wait_ti(&s, "approve", &run, "gate", "deferred");
    // The try's process is gone while it waits.
    let pid = ti["pid"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            Instant::now() < deadline,
            "the deferred try's process {pid} is still alive"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let base = format!(
        "/dags/approve/dagRuns/{}/taskInstances/gate/-1/hitlDetails",
        enc_run(&run)
    );
    let (st, d) = get_json(&api(&base));
    assert_eq!(st, 200, "{d}");
    assert_eq!(
        d["subject"],
        format!("Ship {run}?"),
        "rendered subject: {d}"
    );
    assert_eq!(d["options"], json!(["Approve", "Reject"]));
    assert_eq!(d["body"], "Release notes");
    assert_eq!(d["response_received"], false);
    assert_eq!(d["assigned_users"][0]["id"], "Anonymous");
    assert_eq!(d["task_instance"]["state"], "deferred");
    // In the run's list, with its filters.
    let (_, list) = get_json(&api(&format!(
        "/dags/approve/dagRuns/{}/hitlDetails?response_received=false",
        enc_run(&run)
    )));
    assert_eq!(list["total_entries"], 1, "{list}");
    let (_, none) = get_json(&api("/dags/~/dagRuns/~/hitlDetails?response_received=true"));
    assert_eq!(none["total_entries"], 0, "{none}");
    // An answer that is not an option fails validation (422), an empty one too.
    let (st, _) = call("PATCH", &api(&base), Some(json!({"chosen_options": []})));
    assert_eq!(st, 422);
    let (st, ans) = call(
        "PATCH",
        &api(&base),
        Some(json!({"chosen_options": ["Approve"]})),
    );
    assert_eq!(st, 200, "{ans}");
    assert_eq!(ans["responded_by"]["name"], "Anonymous");
    assert_eq!(ans["chosen_options"], json!(["Approve"]));
    // A second answer is Airflow's 409.
    let (st, again) = call(
        "PATCH",
        &api(&base),
        Some(json!({"chosen_options": ["Reject"]})),
    );
    assert_eq!(st, 409, "{again}");
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("already been updated")
    );
    let (r, tis) = run_result(&s, "approve", &run, Duration::from_secs(30));
    assert_eq!(r["state"], "success");
    assert_eq!(tis["gate"]["state"], "success");
    assert_eq!(
        tis["gate"]["try_number"], 1,
        "a resumed try is the same try"
    );
    assert_eq!(tis["ship"]["state"], "success");
    let (_, x) = get_json(&api(&format!(
        "/dags/approve/dagRuns/{}/taskInstances/gate/xcomEntries/return_value",
        enc_run(&run)
    )));
    assert_eq!(x["value"]["chosen_options"], json!(["Approve"]), "{x}");

    // Reject: the downstream task is skipped, the gate succeeds (as Airflow's default).
    let run2 = trigger_when_parsed(&s, "approve", json!({}), Duration::from_secs(5));
    wait_ti(&s, "approve", &run2, "gate", "deferred");
    let base2 = format!(
        "/dags/approve/dagRuns/{}/taskInstances/gate/-1/hitlDetails",
        enc_run(&run2)
    );
    let (st, _) = call(
        "PATCH",
        &api(&base2),
        Some(json!({"chosen_options": ["Reject"]})),
    );
    assert_eq!(st, 200);
    let (_, tis) = run_result(&s, "approve", &run2, Duration::from_secs(30));
    assert_eq!(tis["gate"]["state"], "success");
    assert_eq!(tis["ship"]["state"], "skipped");
    let (_, tried) = get_json(&api(&format!("{base2}/tries/1")));
    assert_eq!(tried["chosen_options"], json!(["Reject"]), "{tried}");
    assert_eq!(tried["task_instance"]["try_number"], 1);

    // Several options and params: the chosen options reach the downstream task as XCom.
    let run3 = trigger_when_parsed(&s, "choose", json!({}), Duration::from_secs(5));
    wait_ti(&s, "choose", &run3, "pick", "deferred");
    let pick = format!(
        "/dags/choose/dagRuns/{}/taskInstances/pick/-1/hitlDetails",
        enc_run(&run3)
    );
    let (_, d) = get_json(&api(&pick));
    assert_eq!(d["params"]["n"]["value"], 1, "{d}");
    assert_eq!(d["multiple"], true);
    let (st, _) = call(
        "PATCH",
        &api(&pick),
        Some(json!({"chosen_options": ["c", "a"], "params_input": {"n": 5}})),
    );
    assert_eq!(st, 200);
    let (_, tis) = run_result(&s, "choose", &run3, Duration::from_secs(30));
    assert_eq!(tis["report"]["state"], "success", "{:?}", tis);
    let (_, x) = get_json(&api(&format!(
        "/dags/choose/dagRuns/{}/taskInstances/report/xcomEntries/return_value",
        enc_run(&run3)
    )));
    assert_eq!(x["value"], json!(["a", "c"]));

    // No answer in time: the defaults answer (nobody responded) ...
    let run4 = trigger_when_parsed(&s, "timeout_default", json!({}), Duration::from_secs(5));
    let (r, tis) = run_result(&s, "timeout_default", &run4, Duration::from_secs(30));
    assert_eq!(r["state"], "success", "{:?}", tis);
    let (_, d) = get_json(&api(&format!(
        "/dags/timeout_default/dagRuns/{}/taskInstances/ask/-1/hitlDetails",
        enc_run(&run4)
    )));
    assert_eq!(d["chosen_options"], json!(["no"]), "{d}");
    assert_eq!(d["responded_by_user"], Value::Null);
    assert_eq!(d["response_received"], true);
    // HITLEntryOperator's own default (OK) answers the same way.
    let run5 = trigger_when_parsed(&s, "entry_default", json!({}), Duration::from_secs(5));
    let (r, tis) = run_result(&s, "entry_default", &run5, Duration::from_secs(30));
    assert_eq!(r["state"], "success", "{:?}", tis);

    // Branching: the mapped option's task runs, the other is skipped.
    let run6 = trigger_when_parsed(&s, "branchy", json!({}), Duration::from_secs(5));
    wait_ti(&s, "branchy", &run6, "b", "deferred");
    let (st, _) = call(
        "PATCH",
        &api(&format!(
            "/dags/branchy/dagRuns/{}/taskInstances/b/-1/hitlDetails",
            enc_run(&run6)
        )),
        Some(json!({"chosen_options": ["left"]})),
    );
    assert_eq!(st, 200);
    let (_, tis) = run_result(&s, "branchy", &run6, Duration::from_secs(30));
    assert_eq!(tis["go_left"]["state"], "success");
    assert_eq!(tis["right"]["state"], "skipped");

    // A task without a request: Airflow's 404s.
    let (st, e) = get_json(&api(&format!(
        "/dags/approve/dagRuns/{}/taskInstances/ship/-1/hitlDetails",
        enc_run(&run)
    )));
    assert_eq!(st, 404);
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with("Human-in-the-loop detail does not exist"),
        "{e}"
    );
}

#[test]
fn hitl_timeout_without_defaults_fails_the_task() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("t.py"),
        r#"
import datetime, pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.hitl import HITLOperator
with DAG("nodefault", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    HITLOperator(task_id="ask", subject="?", options=["a"],
                 response_timeout=datetime.timedelta(seconds=1))
"#,
    )
    .unwrap();
    let s = start(home.path(), dags.path(), 1);
    let run = trigger_when_parsed(&s, "nodefault", json!({}), Duration::from_secs(5));
    let (r, tis) = run_result(&s, "nodefault", &run, Duration::from_secs(30));
    assert_eq!(r["state"], "failed");
    assert_eq!(tis["ask"]["state"], "failed");
    let (_, log) = get_json(&s.url(&format!(
        "/api/v2/dags/nodefault/dagRuns/{}/taskInstances/ask/logs/1",
        enc_run(&run)
    )));
    assert!(log.to_string().contains("HITLTimeoutError"), "{log}");
}

const ROUTE_DAGS: &str = r#"
import pendulum
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("routes", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    @task
    def make():
        return {"a": 1}

    @task.bash
    def sleepy():
        return "sleep 30"

    after = EmptyOperator(task_id="after", pool="nope")
    make() >> sleepy() >> after

with DAG("other", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    EmptyOperator(task_id="t")
"#;

#[test]
fn remaining_routes_answer_as_airflow() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("routes_dags.py"), ROUTE_DAGS).unwrap();
    let s = start(home.path(), dags.path(), 2);
    let api = |p: &str| s.url(&format!("/api/v2{p}"));
    let run = trigger_when_parsed(&s, "routes", json!({}), Duration::from_secs(5));
    let r = enc_run(&run);
    let ti = |t: &str| format!("/dags/routes/dagRuns/{r}/taskInstances/{t}");
    wait_ti(&s, "routes", &run, "make", "success");
    wait_ti(&s, "routes", &run, "sleepy", "running");

    // Dependencies: a task waiting on its upstream, in Airflow's words; a running one: none.
    let (st, d) = get_json(&api(&format!("{}/dependencies", ti("after"))));
    assert_eq!(st, 200, "{d}");
    let names: Vec<&str> = d["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Pool Slots Available",
            "Task Instance State",
            "Trigger Rule"
        ],
        "{d}"
    );
    assert!(
        d.to_string()
            .contains("requires all upstream tasks to have succeeded, but found 1 non-success(es)"),
        "{d}"
    );
    assert!(d.to_string().contains("non-existent pool 'nope'"), "{d}");
    let (_, d) = get_json(&api(&format!("{}/-1/dependencies", ti("sleepy"))));
    assert_eq!(d, json!({"dependencies": []}));
    let (st, d) = get_json(&api(&format!("{}/dependencies", ti("zz"))));
    assert_eq!(st, 404);
    assert!(d["detail"][0].as_str().unwrap().contains("`zz`"), "{d}");

    // Links: none declared ({} as Airflow); external log URL: Airflow's 400 without a handler.
    let (st, l) = get_json(&api(&format!("{}/links", ti("make"))));
    assert_eq!(
        (st, l),
        (200, json!({"extra_links": {}, "total_entries": 0}))
    );
    let (st, l) = get_json(&api(&format!("{}/links", ti("zz"))));
    assert_eq!(
        (st, l["detail"].as_str()),
        (404, Some("TaskInstance not found"))
    );
    let (st, e) = get_json(&api(&format!("{}/externalLogUrl/1", ti("make"))));
    assert_eq!(st, 400);
    assert_eq!(
        e["detail"],
        "Task log handler does not support external logs."
    );

    // XCom entry delete: 204, then 404.
    let x = format!("{}/xcomEntries/return_value", ti("make"));
    let (st, _) = call("DELETE", &api(&x), None);
    assert_eq!(st, 204);
    let (st, e) = call("DELETE", &api(&x), None);
    assert_eq!(st, 404);
    assert_eq!(
        e["detail"],
        "The XCom with key: `return_value` with mentioned task instance doesn't exist."
    );
    let (st, _) = get_json(&api(&x));
    assert_eq!(st, 404);

    // Bulk task instances: create refused (405), update by task id, delete, missing ones.
    let (st, b) = call(
        "PATCH",
        &api(&format!("/dags/routes/dagRuns/{r}/taskInstances")),
        Some(json!({"actions": [
            {"action": "create", "entities": [{"task_id": "after"}]},
            {"action": "update", "entities": [{"task_id": "sleepy", "new_state": "failed", "note": "stop"}]},
            {"action": "delete", "entities": ["nope"], "action_on_non_existence": "fail"},
        ]})),
    );
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["create"]["errors"][0]["status_code"], 405, "{b}");
    assert_eq!(
        b["update"]["success"],
        json!([format!("routes.{run}.sleepy[-1]")]),
        "{b}"
    );
    assert_eq!(b["delete"]["errors"][0]["status_code"], 404, "{b}");
    let (_, t) = get_json(&api(&ti("sleepy")));
    assert_eq!(
        (t["state"].as_str(), t["note"].as_str()),
        (Some("failed"), Some("stop"))
    );
    let (st, b) = call(
        "PATCH",
        &api(&format!("/dags/routes/dagRuns/{r}/taskInstances")),
        Some(
            json!({"actions": [{"action": "delete", "entities": [{"task_id": "make", "map_index": -1}]}]}),
        ),
    );
    assert_eq!(st, 200);
    assert_eq!(
        b["delete"]["success"],
        json!([format!("routes.{run}.make[-1]")])
    );
    let (st, _) = get_json(&api(&ti("make")));
    assert_eq!(st, 404);
    let (_, b) = call(
        "PATCH",
        &api("/dags/~/dagRuns/~/taskInstances"),
        Some(json!({"actions": [{"action": "delete", "entities": ["after"]}]})),
    );
    assert_eq!(b["delete"]["errors"][0]["status_code"], 400, "{b}");

    // Jobs: Lite's three roles as Airflow's job rows.
    let (st, j) = get_json(&api("/jobs"));
    assert_eq!(st, 200);
    let types: Vec<&str> = j["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["job_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["DagProcessorJob", "SchedulerJob", "TriggererJob"],
        "{j}"
    );
    assert_same_shape(&airflow_sample("jobs.json"), &j, "jobs");
    let (_, j) = get_json(&api("/jobs?job_type=SchedulerJob&is_alive=true"));
    assert_eq!(j["jobs"].as_array().unwrap().len(), 1, "{j}");
    let (st, _) = get_json(&api("/jobs?order_by=nope"));
    assert_eq!(st, 400);

    // Favourites: per user, filter, details, Airflow's 404 and 409s.
    let (st, _) = call("POST", &api("/dags/routes/favorite"), None);
    assert_eq!(st, 204);
    let (st, e) = call("POST", &api("/dags/routes/favorite"), None);
    assert_eq!(st, 409);
    assert_eq!(e["detail"]["reason"], "Unique constraint violation", "{e}");
    let (_, fav) = get_json(&api("/dags?is_favorite=true"));
    assert_eq!(fav["total_entries"], 1);
    assert_eq!(fav["dags"][0]["dag_id"], "routes");
    let (_, other) = get_json(&api("/dags?is_favorite=false"));
    assert_eq!(other["dags"][0]["dag_id"], "other");
    let (_, details) = get_json(&api("/dags/routes/details"));
    assert_eq!(details["is_favorite"], true);
    let (st, _) = call("POST", &api("/dags/routes/unfavorite"), None);
    assert_eq!(st, 204);
    let (st, e) = call("POST", &api("/dags/routes/unfavorite"), None);
    assert_eq!(
        (st, e["detail"].as_str()),
        (409, Some("Dag is not marked as favorite"))
    );
    let (st, _) = call("POST", &api("/dags/nope/favorite"), None);
    assert_eq!(st, 404);
    let (_, fav) = get_json(&api("/dags?is_favorite=true"));
    assert_eq!(fav["total_entries"], 0);

    // Parse requests: the token of /details parses the file now; a forged one is 404.
    let token = details["file_token"].as_str().unwrap().to_string();
    let before = get_json(&api("/dags/routes")).1["last_parsed_time"].clone();
    let (st, v) = call("PUT", &api(&format!("/parseDagFile/{token}")), None);
    assert_eq!((st, v), (201, Value::Null));
    let deadline = Instant::now() + Duration::from_secs(10);
    while get_json(&api("/dags/routes")).1["last_parsed_time"] == before {
        assert!(Instant::now() < deadline, "the file was not parsed again");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (st, e) = call("PUT", &api(&format!("/parseDagFile/{token}x")), None);
    assert_eq!((st, e["detail"].as_str()), (404, Some("File not found")));

    // Upstream asset events: none for a manual run; 404 without the run.
    let (st, v) = get_json(&api(&format!(
        "/dags/routes/dagRuns/{r}/upstreamAssetEvents"
    )));
    assert_eq!(
        (st, v),
        (200, json!({"asset_events": [], "total_entries": 0}))
    );
    let (st, _) = get_json(&api("/dags/routes/dagRuns/nope/upstreamAssetEvents"));
    assert_eq!(st, 404);
}
