//! Issue 5 (run engine): trigger through the API, the event-driven scheduler with trigger
//! rules, retries and backoff, dynamic task mapping, the subprocess executor (bash tasks with
//! templates, Python tasks through the zygote), XCom and its size limit, logs, skips, timeouts
//! and crash recovery.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn start(home: &Path, dags: &Path) -> Server {
    let s = Server::start(home, &[dags.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while get_json(&s.url("/api/v2/monitor/health")).1["dag_processor"]["parse_progress"]["initial_scan_done"]
        != true
    {
        assert!(Instant::now() < deadline, "initial scan did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    s
}

/// How many processes run `sleep MARKER` (tests use a marker only their tasks carry).
fn sleeping(marker: &str) -> usize {
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(&format!("sleep {marker}")))
        .count()
}

fn trigger(s: &Server, dag_id: &str, body: Value) -> (u16, Value) {
    let r = http()
        .post(s.url(&format!("/api/v2/dags/{dag_id}/dagRuns")))
        .json(&body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

fn enc(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

/// Waits for the run to finish; returns (run, task instances by id).
fn wait_run(
    s: &Server,
    dag_id: &str,
    run_id: &str,
) -> (Value, std::collections::BTreeMap<String, Value>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, run) = get_json(&s.url(&format!("/api/v2/dags/{dag_id}/dagRuns/{}", enc(run_id))));
        if run["state"] == "success" || run["state"] == "failed" {
            let (_, tis) = get_json(&s.url(&format!(
                "/api/v2/dags/{dag_id}/dagRuns/{}/taskInstances",
                enc(run_id)
            )));
            let map = tis["task_instances"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["task_id"].as_str().unwrap().to_string(), t.clone()))
                .collect();
            return (run, map);
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} did not finish: {run}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

const CHAIN: &str = r#"
from airflow.sdk import DAG, Param
from airflow.providers.standard.operators.bash import BashOperator
with DAG("chain", schedule=None, params={"who": Param("world", type="string"), "mode": Param("a", enum=["a", "b"])}):
    a = BashOperator(task_id="a", bash_command="echo hello {{ params.who }}; echo 42")
    b = BashOperator(task_id="b", bash_command="echo got {{ ti.xcom_pull(task_ids='a') }} in {{ run_id }}")
    c = BashOperator(task_id="c", bash_command="echo try $AIRFLOW_CTX_TRY_NUMBER; exit 3", retries=1, retry_delay=0)
    d = BashOperator(task_id="d", bash_command="echo cleanup", trigger_rule="one_failed")
    e = BashOperator(task_id="e", bash_command="echo never")
    a >> b >> c >> [d, e]
"#;

#[test]
fn a_triggered_bash_run_passes_xcom_retries_and_follows_trigger_rules() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), CHAIN).unwrap();
    let s = start(home.path(), dags.path());
    let (status, run) = trigger(
        &s,
        "chain",
        json!({"logical_date": null, "conf": {"who": "leoflow"}, "note": "from a test"}),
    );
    assert_eq!(status, 200, "{run}");
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    assert!(run_id.starts_with("manual__"), "{run_id}");
    assert_same_shape(&airflow_sample("dag_run_get.json"), &run, "dag_run");
    let (run, tis) = wait_run(&s, "chain", &run_id);
    // c failed after its retry; d (one_failed) ran; e (all_success) is upstream_failed. The
    // run's state follows its leaves: e is upstream_failed, so the run failed.
    assert_eq!(run["state"], "failed", "{run}");
    assert_eq!(tis["a"]["state"], "success");
    assert_eq!(tis["b"]["state"], "success");
    assert_eq!(tis["c"]["state"], "failed");
    assert_eq!(tis["c"]["try_number"], 2);
    assert_eq!(tis["d"]["state"], "success");
    assert_eq!(tis["e"]["state"], "upstream_failed");
    assert_eq!(
        tis["a"]["rendered_fields"]["bash_command"],
        "echo hello leoflow; echo 42"
    );
    assert_eq!(
        tis["b"]["rendered_fields"]["bash_command"],
        format!("echo got 42 in {run_id}")
    );
    assert_same_shape(
        &airflow_sample("task_instance_get.json"),
        &tis["a"],
        "task_instance",
    );

    let logs = home
        .path()
        .join("logs/dag_id=chain")
        .join(format!("run_id={run_id}"));
    let b_log = std::fs::read_to_string(logs.join("task_id=b/attempt=1.log")).unwrap();
    let lines: Vec<Value> = b_log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["stream"] == "stdout" && l["line"] == format!("got 42 in {run_id}")),
        "{b_log}"
    );
    assert!(lines.iter().all(|l| l["timestamp"].is_string()));
    let c2 = std::fs::read_to_string(logs.join("task_id=c/attempt=2.log")).unwrap();
    assert!(c2.contains("\"try 2\""), "{c2}");
}

#[test]
fn trigger_errors_use_airflows_status_codes() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), CHAIN).unwrap();
    let s = start(home.path(), dags.path());
    let (status, v) = trigger(&s, "nope", json!({"logical_date": null}));
    assert_eq!(status, 404, "{v}");
    let (status, v) = trigger(
        &s,
        "chain",
        json!({"logical_date": null, "conf": {"mode": "z"}}),
    );
    assert_eq!(status, 400, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("mode"), "{v}");
    let (status, v) = trigger(&s, "chain", json!({"logical_date": "yesterday"}));
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["detail"][0]["loc"], json!(["body", "logical_date"]));
    let (status, v) = trigger(&s, "chain", json!({"logical_date": null, "colour": "red"}));
    assert_eq!(status, 422, "{v}");
    let (status, _) = trigger(
        &s,
        "chain",
        json!({"logical_date": null, "dag_run_id": "mine"}),
    );
    assert_eq!(status, 200);
    let (status, v) = trigger(
        &s,
        "chain",
        json!({"logical_date": null, "dag_run_id": "mine"}),
    );
    assert_eq!(status, 409, "{v}");
}

#[test]
fn timeout_kills_the_whole_process_group_and_exit_99_skips() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    // A marker only this test's processes carry, to find orphans.
    let marker = format!(
        "{}.{}",
        3000 + std::process::id() % 1000,
        std::process::id()
    );
    std::fs::write(
        dags.path().join("slow.py"),
        format!(
            r#"
import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("slow", schedule=None):
    t = BashOperator(task_id="t", bash_command="sleep {marker} & sleep {marker}", execution_timeout=datetime.timedelta(seconds=1))
    skip = BashOperator(task_id="skip", bash_command="exit 99")
    after = BashOperator(task_id="after", bash_command="echo no")
    skip >> after
"#
        ),
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "slow", json!({"logical_date": null}));
    let started = Instant::now();
    let (run, tis) = wait_run(&s, "slow", run["dag_run_id"].as_str().unwrap());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(tis["t"]["state"], "failed", "{run}");
    assert_eq!(tis["skip"]["state"], "skipped");
    assert_eq!(tis["after"]["state"], "skipped");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(sleeping(&marker), 0, "orphans left: `sleep {marker}`");
}

#[test]
fn kill_9_mid_run_recovers_on_restart_without_orphans_or_lost_xcom() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let marker = format!(
        "{}.{}",
        4000 + std::process::id() % 1000,
        std::process::id()
    );
    std::fs::write(
        dags.path().join("crash.py"),
        format!(
            r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("crash", schedule=None):
    a = BashOperator(task_id="a", bash_command="echo 7")
    b = BashOperator(task_id="b", retries=1, retry_delay=0,
                     bash_command='if [ "$AIRFLOW_CTX_TRY_NUMBER" = 1 ]; then sleep {marker}; fi; echo done')
    c = BashOperator(task_id="c", bash_command="echo got {{{{ ti.xcom_pull(task_ids='a') }}}}")
    a >> b >> c
"#
        ),
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "crash", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    let db = home.path().join("leoflow.db");
    // Wait until b runs with its process recorded.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let c = rusqlite::Connection::open(&db).unwrap();
        let pid: Option<i64> = c
            .query_row(
                "SELECT pid FROM task_instance WHERE task_id = 'b' AND state = 'running'",
                [],
                |r| r.get(0),
            )
            .unwrap_or(None);
        if pid.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "b never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sleeping = || sleeping(&marker) > 0;
    assert!(sleeping());
    let (code, _) = s.stop(libc::SIGKILL);
    assert_eq!(code, -1, "killed by a signal");
    assert!(
        sleeping(),
        "the task's process group outlives a kill -9 of the server"
    );

    let s = start(home.path(), dags.path());
    let (run, tis) = wait_run(&s, "crash", &run_id);
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(tis["b"]["try_number"], 2, "{tis:?}");
    assert_eq!(tis["c"]["rendered_fields"]["bash_command"], "echo got 7");
    std::thread::sleep(Duration::from_millis(100));
    assert!(!sleeping(), "the orphaned try was not killed on restart");
}

#[test]
fn task_instance_logs_in_airflows_formats() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), CHAIN).unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "chain", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    wait_run(&s, "chain", &run_id);
    let base = s.url(&format!(
        "/api/v2/dags/chain/dagRuns/{}/taskInstances/a",
        enc(&run_id)
    ));
    let (status, ti) = get_json(&base);
    assert_eq!((status, ti["state"].as_str()), (200, Some("success")));
    // JSON
    let (status, v) = get_json(&format!("{base}/logs/1"));
    assert_eq!(status, 200);
    assert_same_shape(&airflow_sample("log_json.json"), &v, "log");
    let events: Vec<&str> = v["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert!(
        events.contains(&"hello world") && events.contains(&"42"),
        "{events:?}"
    );
    // NDJSON, as the Airflow UI reads it.
    let r = http()
        .get(format!("{base}/logs/1"))
        .header("Accept", "application/x-ndjson")
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "42" && l["logger"] == "task.stdout"),
        "{text}"
    );
    // Text
    let r = http()
        .get(format!("{base}/logs/1"))
        .header("Accept", "text/plain")
        .send()
        .unwrap();
    assert!(r.text().unwrap().contains("INFO - hello world"));
    // A try that never ran, and a task that does not exist.
    let (status, v) = get_json(&format!("{base}/logs/5"));
    assert_eq!(status, 200);
    assert!(v["content"].to_string().contains("has not started"), "{v}");
    let (status, _) = get_json(&s.url(&format!(
        "/api/v2/dags/chain/dagRuns/{}/taskInstances/zzz",
        enc(&run_id)
    )));
    assert_eq!(status, 404);
    // The wildcard list spans runs.
    let (_, all) = get_json(&s.url("/api/v2/dags/chain/dagRuns/~/taskInstances"));
    assert_eq!(all["total_entries"], 5);
}

#[test]
fn clear_mark_and_delete_runs_and_task_instances() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let flag = dags.path().join("pass.flag");
    std::fs::write(
        dags.path().join("flaky.py"),
        format!(
            r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("flaky", schedule=None):
    a = BashOperator(task_id="a", bash_command="echo a")
    b = BashOperator(task_id="b", bash_command="test -f {flag}")
    c = BashOperator(task_id="c", bash_command="echo c")
    a >> b >> c
"#,
            flag = flag.display()
        ),
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "flaky", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    let (run, tis) = wait_run(&s, "flaky", &run_id);
    assert_eq!(run["state"], "failed");
    assert_eq!(tis["c"]["state"], "upstream_failed");
    let url = |p: &str| s.url(&format!("/api/v2/dags/flaky{p}"));

    // Dry runs list what would change and change nothing.
    let r = http()
        .post(url("/clearTaskInstances"))
        .json(&json!({"dag_run_id": run_id, "only_failed": true}))
        .send()
        .unwrap();
    let v: Value = r.json().unwrap();
    let ids: Vec<&str> = v["task_instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["b", "c"], "{v}");
    assert_same_shape(
        &airflow_sample("clear_task_instances_dry_run.json"),
        &v,
        "clear dry run",
    );
    let r = http()
        .patch(url(&format!(
            "/dagRuns/{}/taskInstances/a/dry_run",
            enc(&run_id)
        )))
        .json(&json!({"new_state": "failed", "include_downstream": true}))
        .send()
        .unwrap();
    assert_eq!(r.json::<Value>().unwrap()["total_entries"], 3);
    assert_eq!(wait_run(&s, "flaky", &run_id).1["a"]["state"], "success");

    // Fix the cause and clear the failed tasks: the run re-runs them and succeeds.
    std::fs::write(&flag, "").unwrap();
    let r = http().post(url("/clearTaskInstances")).json(&json!({"dry_run": false, "dag_run_id": run_id, "task_ids": ["b"], "include_downstream": true})).send().unwrap();
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (run, tis) = loop {
        let (run, tis) = wait_run(&s, "flaky", &run_id);
        if run["state"] == "success" || Instant::now() > deadline {
            break (run, tis);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(tis["b"]["try_number"], 2);
    assert_eq!(tis["a"]["try_number"], 1);

    // Mark the run failed, then a task success, then add a note.
    let r = http()
        .patch(url(&format!("/dagRuns/{}", enc(&run_id))))
        .json(&json!({"state": "failed"}))
        .send()
        .unwrap();
    assert_eq!(r.json::<Value>().unwrap()["state"], "failed");
    let r = http()
        .patch(url(&format!("/dagRuns/{}?update_mask=note", enc(&run_id))))
        .json(&json!({"note": "checked", "state": "success"}))
        .send()
        .unwrap();
    let v: Value = r.json().unwrap();
    assert_eq!(
        (v["note"].as_str(), v["state"].as_str()),
        (Some("checked"), Some("failed"))
    );
    let r = http()
        .patch(url(&format!("/dagRuns/{}/taskInstances/c", enc(&run_id))))
        .json(&json!({"new_state": "failed"}))
        .send()
        .unwrap();
    assert_eq!(
        r.json::<Value>().unwrap()["task_instances"][0]["state"],
        "failed"
    );
    let r = http()
        .patch(url(&format!("/dagRuns/{}/taskInstances/c", enc(&run_id))))
        .json(&json!({"new_state": "exploded"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 422);

    // Delete: 204, then 404.
    let r = http()
        .delete(url(&format!("/dagRuns/{}", enc(&run_id))))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _) = get_json(&url(&format!("/dagRuns/{}", enc(&run_id))));
    assert_eq!(status, 404);
}

#[test]
fn unpausing_a_cron_dag_with_catchup_creates_its_scheduled_runs() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let start_date = (chrono::Utc::now() - chrono::Duration::seconds(200)).to_rfc3339();
    std::fs::write(
        dags.path().join("minutely.py"),
        format!(
            r#"
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("minutely", schedule="* * * * *", start_date=pendulum.parse("{start_date}"), catchup=True,
         is_paused_upon_creation=True):
    BashOperator(task_id="t", bash_command="echo {{{{ ds }}}} {{{{ ts }}}}")
"#
        ),
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    // Paused at creation: nothing is scheduled yet.
    std::thread::sleep(Duration::from_millis(300));
    let (_, runs) = get_json(&s.url("/api/v2/dags/minutely/dagRuns"));
    assert_eq!(runs["total_entries"], 0);
    let r = http()
        .patch(s.url("/api/v2/dags/minutely"))
        .json(&json!({"is_paused": false}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let runs = loop {
        let (_, runs) = get_json(&s.url("/api/v2/dags/minutely/dagRuns?order_by=logical_date"));
        let list = runs["dag_runs"].as_array().unwrap().clone();
        if list.len() >= 3 && list.iter().all(|r| r["state"] == "success") {
            break list;
        }
        assert!(
            Instant::now() < deadline,
            "scheduled runs did not appear: {runs}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    for r in &runs {
        assert_eq!(r["run_type"], "scheduled");
        assert!(r["dag_run_id"].as_str().unwrap().starts_with("scheduled__"));
        // Airflow 3's trigger timetable: the data interval is the tick itself.
        assert_eq!(r["logical_date"], r["data_interval_start"]);
        assert_eq!(r["logical_date"], r["run_after"]);
    }
    let (_, d) = get_json(&s.url("/api/v2/dags/minutely"));
    let next =
        chrono::DateTime::parse_from_rfc3339(d["next_dagrun_run_after"].as_str().unwrap()).unwrap();
    assert!(
        next > chrono::Utc::now() - chrono::Duration::seconds(1),
        "{d}"
    );
}

/// Issue #14: a DAG without catchup that started years ago shows its latest due interval as
/// its next run (as Airflow does), not its start date; unpaused, it runs that interval only.
#[test]
fn without_catchup_the_next_run_is_the_latest_due_interval() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("daily_old.py"),
        r#"
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("daily_old", schedule="@daily", start_date=pendulum.datetime(2020, 1, 1), catchup=False,
         is_paused_upon_creation=True):
    BashOperator(task_id="t", bash_command="echo {{ ds }}")
"#,
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let midnight = || {
        chrono::Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let (d, expected) = loop {
        let expected = midnight();
        let (_, d) = get_json(&s.url("/api/v2/dags/daily_old"));
        let next = d["next_dagrun_logical_date"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        if next.is_some_and(|n| n == expected) {
            break (d, expected);
        }
        assert!(Instant::now() < deadline, "next run is not {expected}: {d}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(d["next_dagrun_run_after"], d["next_dagrun_logical_date"]);
    let r = http()
        .patch(s.url("/api/v2/dags/daily_old"))
        .json(&json!({"is_paused": false}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, runs) = get_json(&s.url("/api/v2/dags/daily_old/dagRuns"));
        if runs["total_entries"] == 1 {
            let logical = runs["dag_runs"][0]["logical_date"].as_str().unwrap();
            let logical = chrono::DateTime::parse_from_rfc3339(logical).unwrap();
            assert_eq!(logical, expected, "{runs}");
            break;
        }
        assert!(Instant::now() < deadline, "no single run: {runs}");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (_, runs) = get_json(&s.url("/api/v2/dags/daily_old/dagRuns"));
    assert_eq!(
        runs["total_entries"], 1,
        "only the latest interval runs: {runs}"
    );
}

#[test]
fn pools_limit_concurrent_slots() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("pooled.py"),
        r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("pooled", schedule=None):
    for i in range(4):
        BashOperator(task_id=f"t{i}", bash_command="sleep 0.3", pool="single")
"#,
    )
    .unwrap();
    // The pool table is the store's; create a one-slot pool before the server starts.
    leoflow::store::Store::open(&home.path().join("leoflow.db"))
        .unwrap()
        .write_sync(|tx| {
            leoflow::store::admin::put(tx, &leoflow::store::admin::new_pool("single", 1))
        })
        .unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "pooled", json!({"logical_date": null}));
    let (run, tis) = wait_run(&s, "pooled", run["dag_run_id"].as_str().unwrap());
    assert_eq!(run["state"], "success");
    // With one slot the four tries never overlap.
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let mut spans: Vec<_> = tis
        .values()
        .map(|t| (at(&t["start_date"]), at(&t["end_date"])))
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "tries overlap: {spans:?}");
    }
}

#[test]
fn dags_test_runs_one_dag_in_process_and_reports() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), CHAIN).unwrap();
    let mut c = leoflow(home.path());
    c.args([
        "dags",
        "test",
        "chain",
        "--conf",
        r#"{"who": "cli"}"#,
        "--dags-folder",
    ])
    .arg(dags.path());
    let (code, out, err) = run(c);
    // The chain's leaf e is upstream_failed, so the run fails and the command exits 1.
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("[a] hello cli"), "{out}");
    assert!(out.contains("[b] got 42"), "{out}");
    let row = |t: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{t} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        row("c").contains("failed") && row("c").contains(" 2 "),
        "{out}"
    );
    assert!(row("e").contains("upstream_failed"), "{out}");
    assert!(out.contains("failed in"), "{out}");
    assert!(err.contains("[5/5]"), "{err}");
    // Nothing was written to the configured home: the test run used a scratch directory.
    assert!(!home.path().join("leoflow.db").exists());
}

#[test]
fn python_tasks_pass_xcom_branch_and_fail_with_their_traceback() {
    let home = tempfile::tempdir().unwrap();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dags");
    let s = start(home.path(), &examples);
    // TaskFlow ETL passing dicts, with multiple_outputs keys pulled downstream.
    let (_, run) = trigger(&s, "etl_xcom", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    let (run, tis) = wait_run(&s, "etl_xcom", &run_id);
    assert_eq!(run["state"], "success", "{run}\n{}", s.output());
    assert!(tis.values().all(|t| t["state"] == "success"));
    let log = std::fs::read_to_string(
        home.path()
            .join("logs/dag_id=etl_xcom")
            .join(format!("run_id={run_id}"))
            .join("task_id=load/attempt=1.log"),
    )
    .unwrap();
    assert!(log.contains("TOTAL"), "{log}");
    // Branching skips the branch not taken; the join still runs.
    let (_, run) = trigger(&s, "branching", json!({"logical_date": null}));
    let (run, tis) = wait_run(&s, "branching", run["dag_run_id"].as_str().unwrap());
    assert_eq!(run["state"], "success", "{run}");
    let skipped: Vec<&String> = tis
        .iter()
        .filter(|(_, t)| t["state"] == "skipped")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(skipped.len(), 1, "{tis:?}");
    assert_eq!(tis["join"]["state"], "success");
    // Params reach the task's context.
    let (_, run) = trigger(&s, "hello_taskflow", json!({"logical_date": null}));
    let (run, _) = wait_run(&s, "hello_taskflow", run["dag_run_id"].as_str().unwrap());
    assert_eq!(run["state"], "success", "{run}");
}

#[test]
fn a_failing_python_task_logs_its_traceback_and_honours_fail_exceptions() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("boom.py"),
        r#"
from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowFailException
with DAG("boom", schedule=None):
    @task(retries=3, retry_delay=0)
    def fatal():
        raise AirflowFailException("no point retrying")
    @task
    def bad_return():
        return object()
    fatal()
    bad_return()
"#,
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "boom", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    let (_, tis) = wait_run(&s, "boom", &run_id);
    assert_eq!(tis["fatal"]["state"], "failed");
    assert_eq!(
        tis["fatal"]["try_number"], 1,
        "AirflowFailException must not retry"
    );
    let logs = home
        .path()
        .join("logs/dag_id=boom")
        .join(format!("run_id={run_id}"));
    let fatal = std::fs::read_to_string(logs.join("task_id=fatal/attempt=1.log")).unwrap();
    assert!(
        fatal.contains("Traceback") && fatal.contains("no point retrying"),
        "{fatal}"
    );
    let bad = std::fs::read_to_string(logs.join("task_id=bad_return/attempt=1.log")).unwrap();
    assert!(bad.contains("not JSON-serialisable"), "{bad}");
}

#[test]
fn a_version_rewritten_in_place_is_run_with_its_new_content() {
    // Regression: the scheduler cached a run-less version's model by id; after an in-place
    // rewrite (no runs yet) a new run's added task never got scheduled.
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let file = dags.path().join("grow.py");
    let head = "import pendulum\nfrom airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\nwith DAG('grow', schedule='@daily', start_date=pendulum.datetime(2025, 1, 1)):\n    a = BashOperator(task_id='a', bash_command='echo a')\n";
    std::fs::write(&file, head).unwrap();
    let s = start(home.path(), dags.path());
    // Let a scheduling pass look at the DAG (and cache its model).
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(
        &file,
        format!("{head}    b = BashOperator(task_id='b', bash_command='echo b')\n    a >> b\n"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while get_json(&s.url("/api/v2/dags/grow/tasks")).1["total_entries"] != 2 {
        assert!(Instant::now() < deadline, "edit not picked up");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (_, run) = trigger(&s, "grow", json!({"logical_date": null}));
    let (run, tis) = wait_run(&s, "grow", run["dag_run_id"].as_str().unwrap());
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(tis["b"]["state"], "success");
}

/// All task instances of a run as (task_id, map_index, state), sorted.
fn ti_rows(s: &Server, dag_id: &str, run_id: &str) -> Vec<(String, i64, String)> {
    let (_, tis) = get_json(&s.url(&format!(
        "/api/v2/dags/{dag_id}/dagRuns/{}/taskInstances?limit=100",
        enc(run_id)
    )));
    let mut rows: Vec<(String, i64, String)> = tis["task_instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["task_id"].as_str().unwrap().to_string(),
                t["map_index"].as_i64().unwrap(),
                t["state"].as_str().unwrap_or("none").to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn log_of(home: &Path, dag_id: &str, run_id: &str, task: &str) -> String {
    std::fs::read_to_string(
        home.join(format!("logs/dag_id={dag_id}"))
            .join(format!("run_id={run_id}"))
            .join(format!("task_id={task}"))
            .join("attempt=1.log"),
    )
    .unwrap_or_default()
}

#[test]
fn mapped_tasks_expand_at_run_time_from_upstream_xcom() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("mapped.py"),
        r#"
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator
with DAG("mapped", schedule=None):
    @task
    def numbers():
        return [1, 2, 3]
    @task
    def scale(x, factor):
        return x * factor
    @task
    def total(values):
        print("total is", sum(values))
    @task
    def nothing():
        return []
    @task
    def scalar():
        return 5
    @task
    def letters():
        return ["a", "b"]
    total(scale.partial(factor=10).expand(x=numbers()))
    BashOperator.partial(task_id="echo").expand(bash_command=["echo first", "echo second"])
    scale.override(task_id="zero").partial(factor=1).expand(x=nothing())
    scale.override(task_id="bad").partial(factor=1).expand(x=scalar())
    scale.override(task_id="product").expand(x=letters(), factor=[1, 2, 3])
"#,
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "mapped", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    let (run, _) = wait_run(&s, "mapped", &run_id);
    assert_eq!(run["state"], "failed", "the unmappable input fails the run");
    let rows = ti_rows(&s, "mapped", &run_id);
    let of = |task: &str| -> Vec<(i64, String)> {
        rows.iter()
            .filter(|r| r.0 == task)
            .map(|r| (r.1, r.2.clone()))
            .collect()
    };
    let ok = |n: i64| {
        (0..n)
            .map(|i| (i, "success".to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(of("scale"), ok(3), "{rows:?}");
    assert_eq!(of("echo"), ok(2), "{rows:?}");
    assert_eq!(of("product"), ok(6), "cartesian product of 2 x 3: {rows:?}");
    assert_eq!(of("zero"), vec![(-1, "skipped".to_string())]);
    // As in Airflow, the upstream that pushed an unmappable value fails, naming the type.
    assert_eq!(of("scalar"), vec![(-1, "failed".to_string())]);
    assert_eq!(of("bad"), vec![(-1, "upstream_failed".to_string())]);
    let scalar = log_of(home.path(), "mapped", &run_id, "scalar");
    assert!(scalar.contains("unmappable return type 'int'"), "{scalar}");
    assert_eq!(of("total"), vec![(-1, "success".to_string())]);
    // The downstream got every map index's value, in order.
    assert!(
        log_of(home.path(), "mapped", &run_id, "total").contains("total is 60"),
        "{}",
        log_of(home.path(), "mapped", &run_id, "total")
    );
    let echo1 = std::fs::read_to_string(
        home.path()
            .join("logs/dag_id=mapped")
            .join(format!("run_id={run_id}"))
            .join("task_id=echo/map_index=1/attempt=1.log"),
    )
    .unwrap();
    assert!(echo1.contains("second"), "{echo1}");
    let (_, xcom) = get_json(&s.url(&format!(
        "/api/v2/dags/mapped/dagRuns/{}/taskInstances/scale/xcomEntries/return_value?map_index=2",
        enc(&run_id)
    )));
    assert_eq!(xcom["value"], json!(30), "{xcom}");
}

#[test]
fn python_timeouts_kill_the_group_retries_wait_oversized_xcom_fails_and_logs_are_capped() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let marker = format!(
        "{}.{}",
        4000 + std::process::id() % 1000,
        std::process::id()
    );
    std::fs::write(
        dags.path().join("py.py"),
        format!(
            r#"
import datetime, subprocess, time
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator
with DAG("py", schedule=None):
    @task(execution_timeout=datetime.timedelta(seconds=1))
    def hangs():
        subprocess.Popen(["sleep", "{marker}"])
        time.sleep(60)
    @task(retries=2, retry_delay=datetime.timedelta(seconds=1), retry_exponential_backoff=True)
    def flaky():
        raise ValueError("not yet")
    @task
    def big():
        return "x" * 5000
    @task
    def chatty():
        for i in range(2000):
            print("line", i)
    hangs()
    flaky()
    big()
    chatty()
    BashOperator(task_id="chatty_bash", bash_command="seq 1 2000")
"#
        ),
    )
    .unwrap();
    let mut cmd = leoflow(home.path());
    cmd.env("LEOFLOW_XCOM_MAX_BYTES", "1024")
        .env("LEOFLOW_LOG_MAX_BYTES", "8192");
    let s = Server::start_with(cmd, home.path(), &[dags.path().to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while get_json(&s.url("/api/v2/dags/py")).0 != 200 {
        assert!(Instant::now() < deadline, "{}", s.output());
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, run) = trigger(&s, "py", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    let (_, tis) = wait_run(&s, "py", &run_id);
    assert_eq!(tis["hangs"]["state"], "failed");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(sleeping(&marker), 0, "orphans left: `sleep {marker}`");
    // Three tries; the waits between them back off exponentially: 1 s, then 2 s.
    assert_eq!(tis["flaky"]["state"], "failed");
    assert_eq!(tis["flaky"]["try_number"], 3);
    let (_, tries) = get_json(&s.url(&format!(
        "/api/v2/dags/py/dagRuns/{}/taskInstances/flaky/tries",
        enc(&run_id)
    )));
    let tries = tries["task_instances"].as_array().unwrap().clone();
    assert_eq!(tries.len(), 3, "{tries:?}");
    let t =
        |v: &Value, k: &str| chrono::DateTime::parse_from_rfc3339(v[k].as_str().unwrap()).unwrap();
    let gap1 = (t(&tries[1], "start_date") - t(&tries[0], "end_date")).num_milliseconds();
    let gap2 = (t(&tries[2], "start_date") - t(&tries[1], "end_date")).num_milliseconds();
    assert!((1000..1800).contains(&gap1), "first retry after {gap1} ms");
    assert!((2000..2800).contains(&gap2), "second retry after {gap2} ms");
    // An XCom over the limit fails the task with a message saying what to do.
    assert_eq!(tis["big"]["state"], "failed");
    let big = log_of(home.path(), "py", &run_id, "big");
    assert!(big.contains("over the limit of 1024 bytes"), "{big}");
    // Logs are capped: the output past 8 KiB is dropped after one notice, the task still ends.
    for task in ["chatty", "chatty_bash"] {
        assert_eq!(tis[task]["state"], "success");
        let log = log_of(home.path(), "py", &run_id, task);
        assert!(log.len() < 8192 + 2048, "{task}: {} bytes", log.len());
        assert!(
            log.contains("Log size limit of 8192 bytes reached"),
            "{task}: {log}"
        );
        assert!(
            log.contains("line 3") || log.contains("\"3\""),
            "{task}: {log}"
        );
    }
}

#[test]
fn tasks_test_runs_one_task_and_dags_trigger_queues_a_run_a_server_starts() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), CHAIN).unwrap();
    // `tasks test`: only b runs (its upstream a never ran, so the pull renders None).
    let mut c = leoflow(home.path());
    c.args(["tasks", "test", "chain", "b", "--dags-folder"])
        .arg(dags.path());
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("[b] got None in manual__"), "{out}");
    assert!(!out.contains("[a]") && !out.contains("removed"), "{out}");
    let mut c = leoflow(home.path());
    c.args(["tasks", "test", "chain", "nope", "--dags-folder"])
        .arg(dags.path());
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("has no task \"nope\""), "{err}");
    let mut c = leoflow(home.path());
    c.args([
        "dags",
        "test",
        "chain",
        "--conf",
        r#"{"mode": "z"}"#,
        "--dags-folder",
    ])
    .arg(dags.path());
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("Invalid input for param mode"), "{err}");

    // `dags trigger` writes the home's database; the running server picks the run up.
    let s = start(home.path(), dags.path());
    let mut c = leoflow(home.path());
    c.args([
        "dags",
        "trigger",
        "chain",
        "--conf",
        r#"{"who": "trigger"}"#,
    ]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    let run_id = out.trim().to_string();
    assert!(run_id.starts_with("manual__"), "{out}");
    let (dag_run, tis) = wait_run(&s, "chain", &run_id);
    assert_eq!(dag_run["conf"]["who"], "trigger");
    // The (cached) run list shows a run another process wrote, without any API write.
    let (_, before) = get_json(&s.url("/api/v2/dags/chain/dagRuns"));
    let mut c = leoflow(home.path());
    c.args(["dags", "trigger", "chain", "--run-id", "second_from_cli"]);
    assert_eq!(run(c).0, 0);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (_, after) = get_json(&s.url("/api/v2/dags/chain/dagRuns"));
        if after["total_entries"] == before["total_entries"].as_i64().unwrap() + 1 {
            break;
        }
        assert!(Instant::now() < deadline, "{after}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, logs) = get_json(&s.url("/api/v2/eventLogs?event=cli_dags_trigger"));
    assert_eq!(logs["event_logs"][0]["run_id"], run_id.as_str(), "{logs}");
    assert_eq!(tis["a"]["state"], "success", "{dag_run}");
    let mut c = leoflow(home.path());
    c.args(["dags", "trigger", "chain", "--conf", r#"{"mode": "z"}"#]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("Invalid input for param mode"), "{err}");
    let mut c = leoflow(home.path());
    c.args(["dags", "trigger", "missing"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("\"missing\" is not in"), "{err}");
}

#[test]
fn dagrun_timeout_fails_the_run_skips_what_is_unfinished_and_kills_it() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let marker = format!(
        "{}.{}",
        5000 + std::process::id() % 1000,
        std::process::id()
    );
    std::fs::write(
        dags.path().join("slow_run.py"),
        format!(
            r#"
import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("slow_run", schedule=None, dagrun_timeout=datetime.timedelta(seconds=1)):
    quick = BashOperator(task_id="quick", bash_command="echo done")
    slow = BashOperator(task_id="slow", bash_command="sleep {marker}")
    after = BashOperator(task_id="after", bash_command="echo never")
    quick >> slow >> after
"#
        ),
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let started = Instant::now();
    let (_, run) = trigger(&s, "slow_run", json!({"logical_date": null}));
    let (run, tis) = wait_run(&s, "slow_run", run["dag_run_id"].as_str().unwrap());
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "timed out after {took:?}");
    assert_eq!(run["state"], "failed");
    assert_eq!(tis["quick"]["state"], "success");
    assert_eq!(tis["slow"]["state"], "skipped");
    assert_eq!(tis["after"]["state"], "skipped");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(sleeping(&marker), 0, "orphans left: `sleep {marker}`");
}

/// A tiny HTTP/1.1 server on loopback: records each request (request line, headers, body)
/// and answers `500` on paths containing `fail`, else `200` with `pong <path>`.
fn recording_http_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let request = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break String::from_utf8_lossy(&buf).into_owned();
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break text;
                    }
                }
            };
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            log.lock().unwrap().push(request);
            let (status, body) = if path.contains("fail") {
                ("500 Internal Server Error", "boom".to_string())
            } else {
                ("200 OK", format!("pong {path}"))
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

#[test]
fn http_operator_calls_the_connection_natively_and_with_python_callables() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let (port, seen) = recording_http_server();
    std::fs::write(
        dags.path().join("calls.py"),
        r#"
from airflow.sdk import DAG
from airflow.providers.http.operators.http import HttpOperator
with DAG("calls", schedule=None):
    HttpOperator(task_id="get", http_conn_id="api", endpoint="items", method="GET",
                 data={"q": "{{ params.get('q', 'x') }}"}, headers={"X-Run": "{{ run_id }}"})
    HttpOperator(task_id="post", http_conn_id="api", endpoint="/create", data='{"a": 1}',
                 headers={"Content-Type": "application/json"})
    HttpOperator(task_id="fails", http_conn_id="api", endpoint="fail", method="GET")
    HttpOperator(task_id="nowhere", http_conn_id="missing", endpoint="x", method="GET")
    HttpOperator(task_id="checked", http_conn_id="api", endpoint="checked", method="GET",
                 response_check=lambda r: r.status_code == 200 and "pong" in r.text,
                 response_filter=lambda r: r.text.upper())
"#,
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let r = http()
        .post(s.url("/api/v2/connections"))
        .json(
            &json!({"connection_id": "api", "conn_type": "http", "host": "127.0.0.1",
                      "port": port, "login": "ann", "password": "s3cret",
                      "extra": "{\"X-Api-Key\": \"k1\"}"}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().unwrap());
    let (_, run) = trigger(&s, "calls", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    let (_, tis) = wait_run(&s, "calls", &run_id);
    let xcom = |task: &str| {
        get_json(&s.url(&format!(
            "/api/v2/dags/calls/dagRuns/{}/taskInstances/{task}/xcomEntries/return_value",
            enc(&run_id)
        )))
        .1["value"]
            .clone()
    };
    assert_eq!(
        tis["get"]["state"],
        "success",
        "{}",
        log_of(home.path(), "calls", &run_id, "get")
    );
    assert_eq!(xcom("get"), json!("pong /items?q=x"));
    assert_eq!(tis["post"]["state"], "success");
    assert_eq!(tis["checked"]["state"], "success");
    assert_eq!(xcom("checked"), json!("PONG /CHECKED"));
    assert_eq!(tis["fails"]["state"], "failed");
    let fails = log_of(home.path(), "calls", &run_id, "fails");
    assert!(fails.contains("500:Internal Server Error"), "{fails}");
    assert_eq!(tis["nowhere"]["state"], "failed");
    let nowhere = log_of(home.path(), "calls", &run_id, "nowhere");
    assert!(
        nowhere.contains("The conn_id `missing` isn't defined"),
        "{nowhere}"
    );
    let seen = seen.lock().unwrap().clone();
    let get = seen.iter().find(|r| r.starts_with("GET /items")).unwrap();
    let lower = get.to_ascii_lowercase();
    assert!(
        lower.contains("x-api-key: k1"),
        "connection extra as headers: {get}"
    );
    assert!(
        lower.contains(&format!("x-run: {}", run_id.to_ascii_lowercase())),
        "{get}"
    );
    // Basic auth from the connection's login and password (ann:s3cret).
    assert!(get.contains("Basic YW5uOnMzY3JldA=="), "{get}");
    let post = seen.iter().find(|r| r.starts_with("POST /create")).unwrap();
    assert!(post.ends_with("{\"a\": 1}"), "{post}");
}

/// The Python side's own contract checks (`python/PROTOCOL.md`): the parse worker and the task
/// runtime (zygote, logs, results, templates, XCom, branching, sensors...), run with the
/// same python3 the server would use.
#[test]
fn python_runtime_contract_checks_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for script in ["check_worker.py", "check_task_runtime.py"] {
        let out = std::process::Command::new("python3")
            .arg(root.join("python/tests").join(script))
            .current_dir(root)
            .output()
            .expect("python3 runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{script} failed:\n{text}");
        assert!(text.contains("passed"), "{script}:\n{text}");
    }
}

#[test]
fn trigger_dag_run_operator_creates_the_run_it_asks_for() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("family.py"),
        r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
with DAG("parent", schedule=None):
    TriggerDagRunOperator(task_id="kick", trigger_dag_id="child", conf={"x": 1},
                          trigger_run_id="from_parent_{{ ds_nodash }}")
    TriggerDagRunOperator(task_id="ghost", trigger_dag_id="no_such_dag")
    TriggerDagRunOperator(task_id="waits", trigger_dag_id="slow_child", wait_for_completion=True,
                          poke_interval=1) >> BashOperator(task_id="after_wait", bash_command="echo ok")
    TriggerDagRunOperator(task_id="waits_fail", trigger_dag_id="failing_child",
                          wait_for_completion=True)
with DAG("child", schedule=None):
    BashOperator(task_id="echo", bash_command="echo x={{ dag_run.conf['x'] }}")
with DAG("slow_child", schedule=None):
    BashOperator(task_id="nap", bash_command="sleep 1")
with DAG("failing_child", schedule=None):
    BashOperator(task_id="boom", bash_command="exit 1")
"#,
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "parent", json!({"logical_date": null}));
    let (_, tis) = wait_run(&s, "parent", run["dag_run_id"].as_str().unwrap());
    assert_eq!(tis["kick"]["state"], "success");
    assert_eq!(tis["ghost"]["state"], "failed");
    let (_, runs) = get_json(&s.url("/api/v2/dags/child/dagRuns"));
    let child = &runs["dag_runs"][0];
    let child_id = child["dag_run_id"].as_str().unwrap().to_string();
    assert!(child_id.starts_with("from_parent_"), "{runs}");
    assert_eq!(child["conf"], json!({"x": 1}));
    let (child, _) = wait_run(&s, "child", &child_id);
    assert_eq!(child["state"], "success");
    // wait_for_completion: the task ends with the run it triggered, its downstream after it.
    assert_eq!(tis["waits"]["state"], "success");
    assert_eq!(tis["after_wait"]["state"], "success");
    let (_, slow) = get_json(&s.url("/api/v2/dags/slow_child/dagRuns"));
    let slow = &slow["dag_runs"][0];
    assert_eq!(slow["state"], "success");
    let ended = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(
        ended(&tis["waits"]["end_date"]) >= ended(&slow["end_date"]),
        "{tis:?}"
    );
    assert_eq!(tis["waits_fail"]["state"], "failed");
}

#[test]
fn a_graceful_stop_kills_running_tasks_and_the_next_start_retries_them() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let marker = format!(
        "{}.{}",
        6000 + std::process::id() % 1000,
        std::process::id()
    );
    std::fs::write(
        dags.path().join("long.py"),
        format!(
            r#"
import subprocess, time
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator
with DAG("long", schedule=None):
    BashOperator(task_id="bash", bash_command="sleep {marker} & sleep {marker}; echo done")
    @task
    def py():
        subprocess.Popen(["sleep", "{marker}"])
        time.sleep(60)
    py()
"#
        ),
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let (_, run) = trigger(&s, "long", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    let sleeping = || sleeping(&marker);
    let deadline = Instant::now() + Duration::from_secs(15);
    while sleeping() < 3 {
        assert!(
            Instant::now() < deadline,
            "tasks did not start: {}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, _) = s.stop(libc::SIGTERM);
    assert_eq!(code, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while sleeping() > 0 {
        assert!(
            Instant::now() < deadline,
            "task processes outlived the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The next start fails the interrupted tries (no retries left: the run fails).
    let s = start(home.path(), dags.path());
    let (run, tis) = wait_run(&s, "long", &run_id);
    assert_eq!(run["state"], "failed");
    assert_eq!(tis["bash"]["state"], "failed");
    assert_eq!(tis["py"]["state"], "failed");
}

#[test]
fn runs_of_a_paused_dag_wait_until_it_is_unpaused() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), CHAIN).unwrap();
    let mut cmd = leoflow(home.path());
    cmd.env("LEOFLOW_DAGS_PAUSED_AT_CREATION", "true");
    let s = Server::start_with(cmd, home.path(), &[dags.path().to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while get_json(&s.url("/api/v2/dags/chain")).0 != 200 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, run) = trigger(&s, "chain", json!({"logical_date": null}));
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(500));
    let (_, queued) = get_json(&s.url(&format!("/api/v2/dags/chain/dagRuns/{}", enc(&run_id))));
    assert_eq!(queued["state"], "queued", "as in Airflow 3: {queued}");
    let r = http()
        .patch(s.url("/api/v2/dags/chain"))
        .json(&json!({"is_paused": false}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (done, tis) = wait_run(&s, "chain", &run_id);
    assert_eq!(
        done["state"], "failed",
        "the chain's leaf is upstream_failed: {done}"
    );
    assert_eq!(tis["a"]["state"], "success");
}

/// Issue #14: a sensor in `mode="reschedule"` pokes once per start, waits `up_for_reschedule`
/// between pokes without holding a slot (another task runs meanwhile with parallelism 1),
/// keeps its try number and log, and times out counting from its first poke.
#[test]
fn reschedule_sensors_release_their_slot_between_pokes() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let flag = dags.path().join("flag.txt");
    std::fs::write(
        dags.path().join("resched.py"),
        format!(
            r#"
import os
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.python import PythonSensor

def ready():
    print("poking")
    return os.path.exists({flag:?})

with DAG("resched", schedule=None):
    # The higher weight makes the sensor take the single slot first.
    PythonSensor(task_id="wait", python_callable=ready, mode="reschedule", poke_interval=0.3,
                 timeout=60, priority_weight=10)
    BashOperator(task_id="meanwhile", bash_command="echo meanwhile")

with DAG("resched_timeout", schedule=None):
    PythonSensor(task_id="never", python_callable=lambda: False, mode="reschedule",
                 poke_interval=0.3, timeout=1.5, retries=2)
"#
        ),
    )
    .unwrap();
    let mut cmd = leoflow(home.path());
    cmd.env("LEOFLOW_PARALLELISM", "1");
    let s = Server::start_with(cmd, home.path(), &[dags.path().to_str().unwrap()]);
    let run_id = trigger_when_parsed(&s, "resched", json!({}), Duration::from_secs(20));
    let ti_url = |task: &str| {
        s.url(&format!(
            "/api/v2/dags/resched/dagRuns/{}/taskInstances/{task}",
            enc_run(&run_id)
        ))
    };
    // With one slot, `meanwhile` can only run because the sensor gave its slot back.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, m) = get_json(&ti_url("meanwhile"));
        if m["state"] == "success" {
            break;
        }
        assert!(Instant::now() < deadline, "meanwhile never ran: {m}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let waiting = loop {
        let (_, w) = get_json(&ti_url("wait"));
        if w["state"] == "up_for_reschedule" {
            break w;
        }
        assert!(Instant::now() < deadline, "never up_for_reschedule: {w}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(waiting["try_number"], 1, "{waiting}");
    std::thread::sleep(Duration::from_millis(1000));
    std::fs::write(&flag, "go").unwrap();
    let (run, tis) = run_result(&s, "resched", &run_id, Duration::from_secs(20));
    assert_eq!(run["state"], "success", "{tis:?}");
    let wait = &tis["wait"];
    assert_eq!(wait["state"], "success");
    assert_eq!(
        wait["try_number"], 1,
        "a reschedule is not a new try: {wait}"
    );
    let log = try_log(home.path(), "resched", &run_id, "wait", 1);
    let pokes = log.matches("poking").count();
    assert!(pokes >= 3, "several pokes in one try's log: {log}");
    assert!(log.contains("UP_FOR_RESCHEDULE"), "{log}");
    let (_, tries) = get_json(&format!("{}/tries", ti_url("wait")));
    assert_eq!(tries["total_entries"], 1, "{tries}");
    // Started at the first poke: the try spans the whole wait.
    let (start, end) = (
        chrono::DateTime::parse_from_rfc3339(wait["start_date"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(wait["end_date"].as_str().unwrap()).unwrap(),
    );
    assert!(end - start >= chrono::Duration::milliseconds(900), "{wait}");

    // A sensor that never succeeds times out from its first poke and is not retried.
    let run_id = trigger_when_parsed(&s, "resched_timeout", json!({}), Duration::from_secs(20));
    let (run, tis) = run_result(&s, "resched_timeout", &run_id, Duration::from_secs(30));
    assert_eq!(run["state"], "failed");
    let never = &tis["never"];
    assert_eq!(never["state"], "failed", "{never}");
    assert_eq!(
        never["try_number"], 1,
        "a sensor timeout is not retried: {never}"
    );
    let log = try_log(home.path(), "resched_timeout", &run_id, "never", 1);
    assert!(log.contains("Sensor has timed out"), "{log}");
}
