//! Issue 14 (item 1): asset-aware scheduling. Producers' outlets emit asset events that queue
//! the DAGs scheduled on them; the scheduler runs a consumer when its condition (assets,
//! `AssetAll`/`AssetAny`, aliases) is met; the `/api/v2/assets*` routes in Airflow 3.2's
//! shapes (events, materialize, queued events, upstream events); `@asset`, `@asset.multi`,
//! `@continuous`, and the bundled example pair.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn start(home: &Path, dags: &Path) -> Server {
    let s = Server::start(home, &[dags.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_json(&s.url("/api/v2/monitor/health")).1["dag_processor"]["parse_progress"]["initial_scan_done"]
        != true
    {
        assert!(Instant::now() < deadline, "initial scan did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    s
}

fn send(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut r = http().request(m, s.url(path));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The runs of `dag_id`, oldest first.
fn runs(s: &Server, dag_id: &str) -> Vec<Value> {
    let (_, v) = get_json(&s.url(&format!(
        "/api/v2/dags/{dag_id}/dagRuns?order_by=id&limit=100"
    )));
    v["dag_runs"].as_array().cloned().unwrap_or_default()
}

/// Waits until `dag_id` has `n` runs that ended; returns its runs.
fn wait_runs(s: &Server, dag_id: &str, n: usize, within: Duration) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let r = runs(s, dag_id);
        let done = r
            .iter()
            .filter(|x| x["state"] == "success" || x["state"] == "failed")
            .count();
        if done >= n {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{dag_id} did not get {n} finished runs: {r:?}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run_ok(s: &Server, dag_id: &str, run_id: &str) -> Value {
    let (run, tis) = run_result(s, dag_id, run_id, Duration::from_secs(60));
    assert_eq!(run["state"], "success", "{run} {tis:?}\n{}", s.output());
    run
}

/// Airflow's schema `name` (from the OpenAPI document Lite serves).
fn schema(name: &str) -> Value {
    let text = include_str!("../../src/api/openapi/airflow-v2.json");
    let doc: Value = serde_json::from_str(text).unwrap();
    doc["components"]["schemas"][name].clone()
}

/// `v` has exactly the fields of Airflow's schema `name`: none missing, none extra; and each
/// nested object listed in `nested` (field → schema) the same.
fn assert_fields(v: &Value, name: &str, nested: &[(&str, &str)]) {
    let want: BTreeSet<String> = schema(name)["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no schema {name}"))
        .keys()
        .cloned()
        .collect();
    let got: BTreeSet<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("{name}: not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    assert_eq!(got, want, "{name} fields of {v}");
    for (field, inner) in nested {
        match &v[*field] {
            Value::Array(items) => items.iter().for_each(|i| assert_fields(i, inner, &[])),
            Value::Null => {}
            o => assert_fields(o, inner, &[]),
        }
    }
}

fn assert_asset_shape(a: &Value) {
    assert_fields(
        a,
        "AssetResponse",
        &[
            ("scheduled_dags", "DagScheduleAssetReference"),
            ("producing_tasks", "TaskOutletAssetReference"),
            ("consuming_tasks", "TaskInletAssetReference"),
            ("aliases", "AssetAliasResponse"),
            ("watchers", "AssetWatcherResponse"),
            ("last_asset_event", "LastAssetEventResponse"),
        ],
    );
}

fn assert_event_shape(e: &Value) {
    assert_fields(
        e,
        "AssetEventResponse",
        &[("created_dagruns", "DagRunAssetReference")],
    );
}

/// The asset called `name` (active or not).
fn asset(s: &Server, name: &str) -> Value {
    let (st, v) = get_json(&s.url(&format!(
        "/api/v2/assets?only_active=false&name_pattern={name}"
    )));
    assert_eq!(st, 200, "{v}");
    v["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no asset {name}: {v}"))
}

const PRODUCERS: &str = r#"
import pendulum
from airflow.sdk import DAG, Asset, Metadata, task

START = pendulum.datetime(2025, 1, 1, tz="UTC")
a = Asset("s3://lake/a", extra={"owner": "team"})
b = Asset(name="b_asset", uri="s3://lake/b")

with DAG("make_a", schedule=None, start_date=START):
    @task(outlets=[a])
    def produce_a(*, outlet_events):
        outlet_events[a].extra["rows"] = 7
    produce_a()

with DAG("make_b", schedule=None, start_date=START):
    @task(outlets=[b])
    def produce_b():
        yield Metadata(b, {"size": 3})
        return "done"
    produce_b()

with DAG("need_all", schedule=a & b, start_date=START):
    @task(inlets=[a, b])
    def use_both():
        pass
    use_both()

with DAG("need_any", schedule=(a | b), start_date=START):
    @task
    def use_either():
        pass
    use_either()

with DAG("need_a", schedule=[a], start_date=START):
    @task
    def use_a():
        pass
    use_a()
"#;

/// AssetAll needs both producers, AssetAny either; each event queues every consumer; the run
/// links the events it consumed; assets, events and DAG details in Airflow's shapes.
#[test]
fn producers_trigger_all_and_any_consumers() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    std::fs::write(dags.join("assets_dag.py"), PRODUCERS).unwrap();
    let s = start(&dir.path().join("home"), &dags);

    let run_a = trigger_when_parsed(&s, "make_a", json!({}), Duration::from_secs(20));
    run_ok(&s, "make_a", &run_a);
    let any = wait_runs(&s, "need_any", 1, Duration::from_secs(30));
    let only_a = wait_runs(&s, "need_a", 1, Duration::from_secs(30));
    for r in [&any[0], &only_a[0]] {
        assert_eq!(r["run_type"], "asset_triggered", "{r}");
        assert_eq!(r["triggered_by"], "asset", "{r}");
        assert_eq!(r["logical_date"], Value::Null, "{r}");
        let id = r["dag_run_id"].as_str().unwrap();
        assert!(id.starts_with("asset_triggered__20"), "{id}");
    }
    // need_all waits for b: asset a stays queued for it.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        runs(&s, "need_all").is_empty(),
        "{:?}",
        runs(&s, "need_all")
    );
    let a = asset(&s, "s3://lake/a");
    let (st, q) = get_json(&s.url("/api/v2/dags/need_all/assets/queuedEvents"));
    assert_eq!(st, 200, "{q}");
    assert_eq!(q["total_entries"], 1, "{q}");
    assert_eq!(q["queued_events"][0]["asset_id"], a["id"], "{q}");
    assert_fields(&q["queued_events"][0], "QueuedEventResponse", &[]);
    assert_fields(&q, "QueuedEventCollectionResponse", &[]);

    let run_b = trigger_when_parsed(&s, "make_b", json!({}), Duration::from_secs(20));
    run_ok(&s, "make_b", &run_b);
    let all = wait_runs(&s, "need_all", 1, Duration::from_secs(30));
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["state"], "success", "{all:?}");
    let any = wait_runs(&s, "need_any", 2, Duration::from_secs(30));
    assert_eq!(any.len(), 2, "each update of a or b runs need_any: {any:?}");
    assert_eq!(runs(&s, "need_a").len(), 1, "b does not trigger need_a");
    let (_, q) = get_json(&s.url("/api/v2/dags/need_all/assets/queuedEvents"));
    assert_eq!(q["total_entries"], 0, "the run consumed the queue: {q}");

    // The consumer's upstream events: both producers' events, with what they recorded.
    let all_run = all[0]["dag_run_id"].as_str().unwrap();
    let (st, up) = get_json(&s.url(&format!(
        "/api/v2/dags/need_all/dagRuns/{}/upstreamAssetEvents",
        enc_run(all_run)
    )));
    assert_eq!(st, 200, "{up}");
    assert_fields(&up, "AssetEventCollectionResponse", &[]);
    let events = up["asset_events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{up}");
    let ea = events.iter().find(|e| e["name"] == "s3://lake/a").unwrap();
    let eb = events.iter().find(|e| e["name"] == "b_asset").unwrap();
    assert_eq!(ea["extra"], json!({"rows": 7}), "{ea}");
    assert_eq!(ea["source_dag_id"], "make_a");
    assert_eq!(ea["source_task_id"], "produce_a");
    assert_eq!(ea["source_run_id"], run_a.as_str());
    assert_eq!(ea["source_map_index"], -1);
    assert_eq!(eb["extra"], json!({"size": 3}), "a yielded Metadata: {eb}");
    assert_eq!(eb["uri"], "s3://lake/b");
    for e in events {
        assert_event_shape(e);
        assert!(
            e["created_dagruns"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["dag_id"] == "need_all" && r["run_id"] == all_run),
            "{e}"
        );
    }
    // A manual run consumed nothing.
    let (st, up) = get_json(&s.url(&format!(
        "/api/v2/dags/make_a/dagRuns/{}/upstreamAssetEvents",
        enc_run(&run_a)
    )));
    assert_eq!((st, up["total_entries"].clone()), (200, json!(0)), "{up}");
    let (st, _) = get_json(&s.url("/api/v2/dags/make_a/dagRuns/nope/upstreamAssetEvents"));
    assert_eq!(st, 404);

    // Assets: references, last event, Airflow's shape; filters.
    let (st, list) = get_json(&s.url("/api/v2/assets"));
    assert_eq!(st, 200, "{list}");
    assert_fields(&list, "AssetCollectionResponse", &[]);
    assert_eq!(list["total_entries"], 2, "{list}");
    for x in list["assets"].as_array().unwrap() {
        assert_asset_shape(x);
    }
    let a = asset(&s, "s3://lake/a");
    assert_eq!(a["extra"], json!({"owner": "team"}));
    assert_eq!(a["group"], "asset");
    let scheduled: BTreeSet<&str> = a["scheduled_dags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dag_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        scheduled,
        ["need_a", "need_all", "need_any"].into_iter().collect(),
        "{a}"
    );
    assert_eq!(
        a["producing_tasks"],
        json!([{"dag_id": "make_a", "task_id": "produce_a",
                "created_at": a["producing_tasks"][0]["created_at"],
                "updated_at": a["producing_tasks"][0]["updated_at"]}])
    );
    assert_eq!(a["consuming_tasks"][0]["task_id"], "use_both", "{a}");
    assert_eq!(a["last_asset_event"]["id"], ea["id"], "{a}");
    let (st, one) = get_json(&s.url(&format!("/api/v2/assets/{}", a["id"])));
    assert_eq!(st, 200);
    assert_eq!(one, a);
    let (st, e) = get_json(&s.url("/api/v2/assets/999999"));
    assert_eq!(st, 404, "{e}");
    assert_eq!(e["detail"], "The Asset with ID: `999999` was not found");
    let (_, by_uri) = get_json(&s.url("/api/v2/assets?uri_pattern=lake/b"));
    assert_eq!(by_uri["total_entries"], 1, "{by_uri}");
    assert_eq!(by_uri["assets"][0]["name"], "b_asset");
    let (_, by_dag) = get_json(&s.url("/api/v2/assets?dag_ids=make_b"));
    assert_eq!(by_dag["total_entries"], 1, "{by_dag}");
    let (_, ordered) = get_json(&s.url("/api/v2/assets?order_by=-name"));
    assert_eq!(ordered["assets"][0]["name"], "s3://lake/a", "{ordered}");
    let (st, _) = get_json(&s.url("/api/v2/assets?order_by=nope"));
    assert_eq!(st, 400);

    // Events: filters and order.
    let (_, ev) = get_json(&s.url("/api/v2/assets/events?source_dag_id=make_b"));
    assert_eq!(ev["total_entries"], 1, "{ev}");
    assert_event_shape(&ev["asset_events"][0]);
    let (_, ev) = get_json(&s.url(&format!(
        "/api/v2/assets/events?asset_id={}&order_by=-timestamp",
        a["id"]
    )));
    assert_eq!(ev["total_entries"], 1, "{ev}");
    let created: BTreeSet<&str> = ev["asset_events"][0]["created_dagruns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dag_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        created,
        ["need_a", "need_all", "need_any"].into_iter().collect()
    );
    let (_, ev) = get_json(&s.url("/api/v2/assets/events?timestamp_lte=2000-01-01T00:00:00Z"));
    assert_eq!(ev["total_entries"], 0, "{ev}");

    // DAG details and list: Airflow's asset fields.
    let (_, d) = get_json(&s.url("/api/v2/dags/need_all/details"));
    assert_eq!(d["timetable_summary"], "Asset");
    assert_eq!(d["timetable_description"], "Triggered by assets");
    assert_eq!(
        d["asset_expression"],
        json!({"all": [
            {"asset": {"uri": "s3://lake/a", "name": "s3://lake/a", "group": "asset"}},
            {"asset": {"uri": "s3://lake/b", "name": "b_asset", "group": "asset"}}
        ]})
    );
    let (_, d) = get_json(&s.url("/api/v2/dags/need_any/details"));
    assert_eq!(d["asset_expression"]["any"].as_array().unwrap().len(), 2);
    assert_same_shape(&airflow_sample("dag_details.json"), &d, "details");
}

const API_DAGS: &str = r#"
import pendulum
from airflow.sdk import DAG, Asset, AssetAlias, task

START = pendulum.datetime(2025, 1, 1, tz="UTC")
c = Asset("c")
d = Asset("d")
alias = AssetAlias("landing")

with DAG("make_c", schedule=None, start_date=START):
    @task(outlets=[c])
    def produce_c():
        pass
    produce_c()

with DAG("need_c", schedule=c, start_date=START):
    @task
    def use_c():
        pass
    use_c()

with DAG("need_c_and_d", schedule=[c, d], start_date=START):
    @task
    def use_cd():
        pass
    use_cd()

with DAG("fan_out", schedule=None, start_date=START):
    @task(outlets=[alias])
    def land(*, outlet_events):
        outlet_events[alias].add(Asset("s3://landing/2025"), extra={"part": 1})
    land()

with DAG("on_alias", schedule=alias, start_date=START):
    @task
    def after_landing():
        pass
    after_landing()
"#;

/// `POST /assets/events` triggers consumers; queued events listed and deleted by asset, DAG,
/// and both; materialize runs the producer; aliases resolve through events; all audited.
#[test]
fn api_events_queues_materialize_and_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    std::fs::write(dags.join("api_assets.py"), API_DAGS).unwrap();
    let s = start(&dir.path().join("home"), &dags);
    let c = asset(&s, "c");
    let d = asset(&s, "d");
    let (cid, did) = (c["id"].as_i64().unwrap(), d["id"].as_i64().unwrap());

    let (st, e) = send(
        &s,
        "POST",
        "/api/v2/assets/events",
        Some(json!({"asset_id": cid, "extra": {"from": "api"}})),
    );
    assert_eq!(st, 200, "{e}");
    assert_event_shape(&e);
    assert_eq!(e["asset_id"], cid);
    assert_eq!(e["extra"], json!({"from": "api"}));
    assert_eq!(e["source_dag_id"], Value::Null);
    assert_eq!(e["source_map_index"], -1);
    let need_c = wait_runs(&s, "need_c", 1, Duration::from_secs(30));
    assert_eq!(need_c[0]["run_type"], "asset_triggered");
    let (_, up) = get_json(&s.url(&format!(
        "/api/v2/dags/need_c/dagRuns/{}/upstreamAssetEvents",
        enc_run(need_c[0]["dag_run_id"].as_str().unwrap())
    )));
    assert_eq!(up["asset_events"][0]["id"], e["id"], "{up}");

    // need_c_and_d waits for d: c is queued for it.
    let (st, q) = get_json(&s.url(&format!("/api/v2/assets/{cid}/queuedEvents")));
    assert_eq!(st, 200, "{q}");
    assert_eq!(q["total_entries"], 1, "{q}");
    assert_eq!(q["queued_events"][0]["dag_id"], "need_c_and_d");
    let one = format!("/api/v2/dags/need_c_and_d/assets/{cid}/queuedEvents");
    let (st, q1) = get_json(&s.url(&one));
    assert_eq!(st, 200, "{q1}");
    assert_fields(&q1, "QueuedEventResponse", &[]);
    let (st, q0) = get_json(
        &s.url("/api/v2/dags/need_c_and_d/assets/queuedEvents?before=2000-01-01T00:00:00Z"),
    );
    assert_eq!((st, q0["total_entries"].clone()), (200, json!(0)), "{q0}");
    let (st, _) = send(&s, "DELETE", &one, None);
    assert_eq!(st, 204);
    let (st, gone) = get_json(&s.url(&one));
    assert_eq!(st, 404, "{gone}");
    assert_eq!(
        gone["detail"],
        format!("Queued event with dag_id: `need_c_and_d` and asset_id: `{cid}` was not found")
    );
    let (st, _) = send(&s, "DELETE", &one, None);
    assert_eq!(st, 404);

    // d alone does not satisfy [c, d] any more; its queue row is deleted by asset.
    let (st, _) = send(
        &s,
        "POST",
        "/api/v2/assets/events",
        Some(json!({"asset_id": did})),
    );
    assert_eq!(st, 200);
    let (_, q) = get_json(&s.url("/api/v2/dags/need_c_and_d/assets/queuedEvents"));
    assert_eq!(q["total_entries"], 1, "{q}");
    assert_eq!(q["queued_events"][0]["asset_id"], did, "{q}");
    assert!(runs(&s, "need_c_and_d").is_empty());
    let (st, _) = send(
        &s,
        "DELETE",
        &format!("/api/v2/assets/{did}/queuedEvents"),
        None,
    );
    assert_eq!(st, 204);
    let (_, q) = get_json(&s.url("/api/v2/dags/need_c_and_d/assets/queuedEvents"));
    assert_eq!(q["total_entries"], 0, "{q}");
    let (st, _) = send(
        &s,
        "DELETE",
        "/api/v2/dags/need_c_and_d/assets/queuedEvents",
        None,
    );
    assert_eq!(st, 404);

    // Materialize: a run of the one DAG producing c, which then updates c.
    let (st, run) = send(
        &s,
        "POST",
        &format!("/api/v2/assets/{cid}/materialize"),
        None,
    );
    assert_eq!(st, 200, "{run}");
    assert_eq!(run["dag_id"], "make_c");
    assert_eq!(run["run_type"], "asset_materialization");
    assert_same_shape(&airflow_sample("dag_run_get.json"), &run, "materialize");
    run_ok(&s, "make_c", run["dag_run_id"].as_str().unwrap());
    wait_runs(&s, "need_c", 2, Duration::from_secs(30));
    let (st, e) = send(
        &s,
        "POST",
        &format!("/api/v2/assets/{did}/materialize"),
        Some(json!({})),
    );
    assert_eq!(st, 404, "{e}");
    assert_eq!(
        e["detail"],
        format!("No Dag materializes asset with ID: {did}")
    );
    let (st, e) = send(
        &s,
        "POST",
        "/api/v2/assets/events",
        Some(json!({"asset_id": 424242})),
    );
    assert_eq!(st, 404, "{e}");
    assert_eq!(e["detail"], "Asset with ID: `424242` was not found");
    let (st, _) = send(
        &s,
        "POST",
        "/api/v2/assets/events",
        Some(json!({"asset": 1})),
    );
    assert_eq!(st, 422);

    // Aliases: an event through the alias creates the asset, resolves the alias, runs on_alias.
    let run = trigger_when_parsed(&s, "fan_out", json!({}), Duration::from_secs(10));
    run_ok(&s, "fan_out", &run);
    let on_alias = wait_runs(&s, "on_alias", 1, Duration::from_secs(30));
    assert_eq!(on_alias[0]["run_type"], "asset_triggered");
    let landed = asset(&s, "s3://landing/2025");
    assert_eq!(landed["aliases"][0]["name"], "landing", "{landed}");
    assert_asset_shape(&landed);
    let (_, ev) = get_json(&s.url(&format!("/api/v2/assets/events?asset_id={}", landed["id"])));
    assert_eq!(ev["asset_events"][0]["extra"], json!({"part": 1}), "{ev}");
    assert_eq!(ev["asset_events"][0]["source_task_id"], "land");
    let (st, al) = get_json(&s.url("/api/v2/assets/aliases"));
    assert_eq!(st, 200);
    assert_fields(&al, "AssetAliasCollectionResponse", &[]);
    assert_eq!(al["total_entries"], 1, "{al}");
    assert_fields(&al["asset_aliases"][0], "AssetAliasResponse", &[]);
    let (st, one) = get_json(&s.url(&format!(
        "/api/v2/assets/aliases/{}",
        al["asset_aliases"][0]["id"]
    )));
    assert_eq!((st, one.clone()), (200, al["asset_aliases"][0].clone()));
    let (st, _) = get_json(&s.url("/api/v2/assets/aliases/777"));
    assert_eq!(st, 404);

    // Every mutation left its audit row.
    let (_, logs) = get_json(&s.url("/api/v2/eventLogs?limit=100"));
    let names: BTreeSet<&str> = logs["event_logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["event"].as_str().unwrap())
        .collect();
    for want in [
        "create_asset_event",
        "materialize_asset",
        "delete_dag_asset_queued_event",
        "delete_asset_queued_events",
    ] {
        assert!(names.contains(want), "{want} not in {names:?}");
    }
}

const DECORATED: &str = r#"
import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, asset, task

class FileDeleteTrigger:
    def serialize(self):
        return ("airflow.providers.standard.triggers.file.FileDeleteTrigger", {})

watched = Asset("watched", watchers=[AssetWatcher(name="inbox", trigger=FileDeleteTrigger())])

@asset(schedule=None, uri="file:///data/raw.csv", extra={"fmt": "csv"})
def raw_data():
    return 1

@asset(schedule=raw_data)
def cooked(self, raw_data, context):
    print("cooking", self.name, "from", raw_data.uri, context["dag"].dag_id)

@asset.multi(schedule=None, outlets=[Asset("m1"), Asset("m2")])
def pair():
    pass

with DAG("after_pair", schedule=Asset("m1") & Asset("m2") | watched,
         start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    @task
    def after():
        pass
    after()

with DAG("forever", schedule="@continuous", max_active_runs=1,
         start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    @task
    def tick():
        pass
    tick()
"#;

/// `@asset` and `@asset.multi` define one-task DAGs whose outlets trigger consumers; an
/// `AssetWatcher` is recorded with a warning naming its trigger; `@continuous` runs back to
/// back, one at a time.
#[test]
fn asset_decorators_watchers_and_continuous() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    std::fs::write(dags.join("decorated.py"), DECORATED).unwrap();
    let home = dir.path().join("home");
    let s = start(&home, &dags);
    let (_, errs) = get_json(&s.url("/api/v2/importErrors"));
    assert_eq!(errs["total_entries"], 0, "{errs}");
    assert!(
        s.output().contains("FileDeleteTrigger") && s.output().contains("inbox"),
        "the watcher's warning names its trigger:\n{}",
        s.output()
    );
    let w = asset(&s, "watched");
    assert_eq!(w["watchers"][0]["name"], "inbox", "{w}");
    assert_asset_shape(&w);

    let (_, tasks) = get_json(&s.url("/api/v2/dags/raw_data/tasks"));
    assert_eq!(tasks["tasks"][0]["task_id"], "raw_data", "{tasks}");
    let raw = asset(&s, "raw_data");
    assert_eq!(raw["uri"], "file:///data/raw.csv");
    assert_eq!(raw["extra"], json!({"fmt": "csv"}));
    assert_eq!(raw["producing_tasks"][0]["dag_id"], "raw_data");
    assert_eq!(raw["consuming_tasks"][0]["dag_id"], "cooked", "{raw}");
    let (_, d) = get_json(&s.url("/api/v2/dags/cooked/details"));
    assert_eq!(d["timetable_summary"], "Asset");
    assert_eq!(
        d["asset_expression"]["asset"]["uri"],
        "file:///data/raw.csv"
    );

    let run = trigger_when_parsed(&s, "raw_data", json!({}), Duration::from_secs(10));
    run_ok(&s, "raw_data", &run);
    let cooked = wait_runs(&s, "cooked", 1, Duration::from_secs(30));
    assert_eq!(cooked[0]["state"], "success", "{cooked:?}");
    let rid = cooked[0]["dag_run_id"].as_str().unwrap();
    let log = try_log(&home, "cooked", rid, "cooked", 1);
    assert!(
        log.contains("cooking cooked from file:///data/raw.csv cooked"),
        "{log}"
    );

    let run = trigger_when_parsed(&s, "pair", json!({}), Duration::from_secs(10));
    run_ok(&s, "pair", &run);
    let after = wait_runs(&s, "after_pair", 1, Duration::from_secs(30));
    assert_eq!(after[0]["run_type"], "asset_triggered");
    let (_, up) = get_json(&s.url(&format!(
        "/api/v2/dags/after_pair/dagRuns/{}/upstreamAssetEvents",
        enc_run(after[0]["dag_run_id"].as_str().unwrap())
    )));
    assert_eq!(up["total_entries"], 2, "{up}");

    // @continuous: three runs back to back, never two at once.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = runs(&s, "forever");
        let active = r
            .iter()
            .filter(|x| x["state"] == "queued" || x["state"] == "running")
            .count();
        assert!(active <= 1, "two continuous runs at once: {r:?}");
        let done = r.iter().filter(|x| x["state"] == "success").count();
        if done >= 3 {
            assert!(r.iter().all(|x| x["run_type"] == "scheduled"), "{r:?}");
            break;
        }
        assert!(Instant::now() < deadline, "{r:?}\n{}", s.output());
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, d) = get_json(&s.url("/api/v2/dags/forever"));
    assert_eq!(d["timetable_summary"], "@continuous");
    let (st, _) = send(
        &s,
        "PATCH",
        "/api/v2/dags/forever",
        Some(json!({"is_paused": true})),
    );
    assert_eq!(st, 200);
}

/// The bundled example does what its comment says: a successful `assets_producer` run
/// triggers `assets_consumer`.
#[test]
fn the_bundled_example_pair() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dags/assets_producer_consumer.py");
    std::fs::copy(&example, dags.join("assets_producer_consumer.py")).unwrap();
    let s = start(&dir.path().join("home"), &dags);
    let run = trigger_when_parsed(&s, "assets_producer", json!({}), Duration::from_secs(10));
    run_ok(&s, "assets_producer", &run);
    let consumer = wait_runs(&s, "assets_consumer", 1, Duration::from_secs(30));
    let r = consumer
        .iter()
        .find(|r| r["state"] == "success")
        .unwrap_or_else(|| panic!("{consumer:?}"));
    assert_eq!(r["run_type"], "asset_triggered", "{r}");
    let (_, d) = get_json(&s.url("/api/v2/dags/assets_consumer"));
    assert_eq!(d["timetable_summary"], "Asset");
}
