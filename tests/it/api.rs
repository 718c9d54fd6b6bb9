//! The Airflow REST API surface: DAGs (list filters, bulk patch, delete, tags, stats,
//! warnings), runs and task instances (batch lists, wildcards, tries, mapped routes), XCom
//! entries, backfills, and Lite's own OpenAPI document and `/docs`, all over real HTTP.
//! Bodies are checked against Airflow's captured responses and the spec's response schemas.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// Airflow 3.2's OpenAPI document, as embedded in the binary.
fn spec() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api/openapi/airflow-v2.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Checks `v` against the spec's schema `schema` (types, required keys, nullability, enums),
/// recursively; returns the first mismatch.
fn check_schema(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return check_schema(doc, &doc["components"]["schemas"][name], v, at);
    }
    if let Some(alts) = schema
        .get("anyOf")
        .or(schema.get("oneOf"))
        .and_then(Value::as_array)
    {
        let errs: Vec<String> = alts
            .iter()
            .filter_map(|a| check_schema(doc, a, v, at).err())
            .collect();
        return if errs.len() < alts.len() {
            Ok(())
        } else {
            Err(errs.join(" / "))
        };
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(v)
    {
        return Err(format!("{at}: {v} is not one of {options:?}"));
    }
    let ok = match schema.get("type").and_then(Value::as_str) {
        None => true,
        Some("string") => v.is_string(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        Some("boolean") => v.is_boolean(),
        Some("null") => v.is_null(),
        Some("array") => v.is_array(),
        Some("object") => v.is_object(),
        Some(_) => true,
    };
    if !ok {
        return Err(format!("{at}: {v} is not a {}", schema["type"]));
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            check_schema(doc, items, x, &format!("{at}[{i}]"))?;
        }
    }
    if let Some(o) = v.as_object() {
        for k in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let k = k.as_str().unwrap();
            if !o.contains_key(k) {
                return Err(format!("{at}: required field {k:?} missing"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, p) in props {
                if let Some(x) = o.get(k) {
                    check_schema(doc, p, x, &format!("{at}.{k}"))?;
                }
            }
        }
    }
    Ok(())
}

/// Asserts `v` matches the spec's component schema `name`.
fn assert_schema(doc: &Value, name: &str, v: &Value) {
    let schema = json!({"$ref": format!("#/components/schemas/{name}")});
    if let Err(e) = check_schema(doc, &schema, v, name) {
        panic!("{e}\nin {v}");
    }
}

/// A client that neither follows redirects nor waits long.
fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sends `method url` with an optional JSON body: (status, body as JSON or null).
fn call(method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client().request(m, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn enc(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

/// Starts a server on `dags` and waits until `n` DAGs are listed.
fn start(home: &Path, dags: &Path, n: i64) -> Server {
    let s = Server::start(home, &[dags.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v) = get_json(&s.url("/api/v2/dags?limit=1"));
        if v["total_entries"].as_i64().unwrap_or(0) >= n {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{n} DAGs not parsed in time; output:\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_run_done(s: &Server, dag_id: &str, run_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (_, run) = get_json(&s.url(&format!("/api/v2/dags/{dag_id}/dagRuns/{}", enc(run_id))));
        if run["state"] == "success" || run["state"] == "failed" {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} did not finish: {run}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts a 4xx answer with a `detail` that mentions `needle`.
fn assert_4xx(method: &str, url: &str, body: Option<Value>, status: u16, needle: &str) {
    let (st, v) = call(method, url, body);
    let short: String = v.to_string().chars().take(400).collect();
    assert_eq!(st, status, "{method} {url}: {short}");
    let detail = v["detail"].to_string();
    assert!(
        detail.contains(needle),
        "{method} {url}: detail {detail} should mention {needle:?}"
    );
}

/// A file with `n` DAGs `gen_000`.. (tags by parity; odd ones paused) and one bash task each.
fn many_dags(n: usize) -> String {
    format!(
        r#"from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

for i in range({n}):
    with DAG(f"gen_{{i:03d}}", schedule=None, tags=["gen", "odd" if i % 2 else "even"],
             is_paused_upon_creation=bool(i % 2)) as d:
        BashOperator(task_id="t", bash_command="true")
    globals()[f"dag_{{i}}"] = d
"#
    )
}

#[test]
fn dag_list_filters_paging_bulk_patch_delete_tags_stats_and_warnings() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("many.py"), many_dags(105)).unwrap();
    std::fs::write(
        dags.path().join("pooled.py"),
        r#"from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("pooled", schedule=None, tags=["pools"]):
    BashOperator(task_id="t", bash_command="true", pool="no_such_pool")
"#,
    )
    .unwrap();
    let s = start(home.path(), dags.path(), 106);
    let doc = spec();
    let api = |p: &str| s.url(&format!("/api/v2{p}"));

    // Paging: default 50, capped at 100, total before paging, contract shape.
    let (st, page) = get_json(&api("/dags"));
    assert_eq!(st, 200);
    assert_eq!(page["dags"].as_array().unwrap().len(), 50);
    assert_eq!(page["total_entries"], 106);
    assert_schema(&doc, "DAGCollectionResponse", &page);
    assert_same_shape(&airflow_sample("dags_list.json"), &page, "dags");
    let (_, big) = get_json(&api("/dags?limit=1000"));
    assert_eq!(big["dags"].as_array().unwrap().len(), 100);
    let (_, last) = get_json(&api("/dags?limit=10&offset=100"));
    let ids: Vec<&str> = last["dags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dag_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "gen_100", "gen_101", "gen_102", "gen_103", "gen_104", "pooled"
        ]
    );
    let (_, desc) = get_json(&api("/dags?order_by=-dag_id&limit=2"));
    assert_eq!(desc["dags"][0]["dag_id"], "pooled");
    assert_eq!(desc["dags"][1]["dag_id"], "gen_104");

    // The other DAG reads, against Airflow's captured bodies and the spec's schemas.
    for (path, sample, schema) in [
        ("/dags/pooled", "dag_get.json", "DAGResponse"),
        (
            "/dags/pooled/details",
            "dag_details.json",
            "DAGDetailsResponse",
        ),
        (
            "/dags/pooled/tasks",
            "dag_tasks.json",
            "TaskCollectionResponse",
        ),
        (
            "/dags/pooled/dagVersions",
            "dag_versions.json",
            "DAGVersionCollectionResponse",
        ),
        ("/dagSources/pooled", "dag_source.json", "DAGSourceResponse"),
        (
            "/importErrors",
            "import_errors.json",
            "ImportErrorCollectionResponse",
        ),
        ("/version", "version.json", "VersionInfo"),
        ("/monitor/health", "health.json", "HealthInfoResponse"),
    ] {
        let (st, v) = get_json(&api(path));
        assert_eq!(st, 200, "{path}: {v}");
        assert_same_shape(&airflow_sample(sample), &v, path);
        assert_schema(&doc, schema, &v);
    }
    let (_, task) = get_json(&api("/dags/pooled/tasks/t"));
    assert_schema(&doc, "TaskResponse", &task);
    let (_, version) = get_json(&api("/dags/pooled/dagVersions/1"));
    assert_schema(&doc, "DagVersionResponse", &version);
    assert_4xx("GET", &api("/dags/pooled/tasks/zz"), None, 404, "zz");
    assert_4xx(
        "GET",
        &api("/dags/pooled/dagVersions/x"),
        None,
        422,
        "version_number",
    );
    assert_4xx(
        "GET",
        &api("/dags/pooled/tasks?order_by=owner_x"),
        None,
        400,
        "owner_x",
    );

    // Patterns (`|` ORs, `~` matches all, `_` is a wildcard), prefix, tags, paused.
    let (_, v) = get_json(&api("/dags?dag_id_pattern=gen_00|pool"));
    assert_eq!(v["total_entries"], 11);
    let (_, v) = get_json(&api("/dags?dag_id_pattern=~"));
    assert_eq!(v["total_entries"], 106);
    let (_, v) = get_json(&api("/dags?dag_id_prefix_pattern=gen_10"));
    assert_eq!(v["total_entries"], 5);
    let (_, v) = get_json(&api("/dags?tags=odd&tags=pools"));
    assert_eq!(v["total_entries"], 53);
    let (_, v) = get_json(&api("/dags?tags=odd&tags=gen&tags_match_mode=all"));
    assert_eq!(v["total_entries"], 52);
    let (_, v) = get_json(&api("/dags?paused=false&tags=gen"));
    assert_eq!(v["total_entries"], 53);
    assert!(
        v["dags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["is_paused"] == false)
    );
    let (_, v) = get_json(&api("/dags?last_dag_run_state=success"));
    assert_eq!(v["total_entries"], 0);

    // Bad parameters: 4xx naming the parameter, never 500.
    assert_4xx("GET", &api("/dags?limit=-1"), None, 422, "limit");
    assert_4xx("GET", &api("/dags?offset=x"), None, 422, "offset");
    assert_4xx("GET", &api("/dags?paused=maybe"), None, 422, "paused");
    assert_4xx("GET", &api("/dags?order_by=nope"), None, 400, "nope");
    assert_4xx(
        "GET",
        &api("/dags?tags_match_mode=some"),
        None,
        422,
        "tags_match_mode",
    );
    assert_4xx(
        "GET",
        &api("/dags?last_dag_run_state=done"),
        None,
        422,
        "last_dag_run_state",
    );
    assert_4xx(
        "GET",
        &api("/dags?dag_run_start_date_gte=yesterday"),
        None,
        422,
        "dag_run_start_date_gte",
    );

    // Bulk patch: nothing without a dag_id pattern; `update_mask` is checked.
    let body = json!({"is_paused": true});
    let (st, v) = call("PATCH", &api("/dags?paused=false"), Some(body.clone()));
    assert_eq!((st, v["total_entries"].clone()), (200, json!(0)), "{v}");
    let (st, v) = call(
        "PATCH",
        &api("/dags?dag_id_pattern=gen_00"),
        Some(body.clone()),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["total_entries"], 10);
    assert!(
        v["dags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["is_paused"] == true)
    );
    assert_schema(&doc, "DAGCollectionResponse", &v);
    let (_, v) = get_json(&api("/dags/gen_002"));
    assert_eq!(v["is_paused"], true);
    assert_4xx(
        "PATCH",
        &api("/dags?dag_id_pattern=~&update_mask=description"),
        Some(body.clone()),
        400,
        "description",
    );
    assert_4xx(
        "PATCH",
        &api("/dags?dag_id_pattern=~"),
        Some(json!({})),
        422,
        "is_paused",
    );
    assert_4xx(
        "PATCH",
        &api("/dags/gen_001"),
        Some(json!({"is_paused": "sure"})),
        422,
        "is_paused",
    );

    // Tags, stats, warnings.
    let (_, tags) = get_json(&api("/dagTags"));
    assert_eq!(
        tags,
        json!({"tags": ["even", "gen", "odd", "pools"], "total_entries": 4})
    );
    assert_same_shape(&airflow_sample("dag_tags.json"), &tags, "dagTags");
    let (_, tags) = get_json(&api("/dagTags?tag_name_pattern=o&order_by=-name"));
    assert_eq!(tags["tags"], json!(["pools", "odd"]));
    let (st, stats) = get_json(&api("/dagStats?dag_ids=gen_001&dag_ids=pooled"));
    assert_eq!(st, 200);
    assert_same_shape(&airflow_sample("dag_stats.json"), &stats, "dagStats");
    assert_schema(&doc, "DagStatsCollectionResponse", &stats);
    assert_eq!(
        stats["dags"][0]["stats"][0],
        json!({"state": "queued", "count": 0})
    );
    assert_4xx("GET", &api("/dagStats?dag_ids=nope"), None, 404, "nope");
    let (_, warnings) = get_json(&api("/dagWarnings"));
    assert_schema(&doc, "DAGWarningCollectionResponse", &warnings);
    assert_eq!(warnings["total_entries"], 1, "{warnings}");
    assert_eq!(warnings["dag_warnings"][0]["dag_id"], "pooled");
    assert_eq!(
        warnings["dag_warnings"][0]["warning_type"],
        "non-existent pool"
    );
    assert!(
        warnings["dag_warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no_such_pool")
    );
    assert_4xx(
        "GET",
        &api("/dagWarnings?warning_type=bad"),
        None,
        422,
        "warning_type",
    );

    // Delete: the DAG and what is recorded about it go (it returns at its file's next parse).
    let (st, v) = call("DELETE", &api("/dags/gen_000"), None);
    assert_eq!(st, 200, "{v}");
    assert_4xx("GET", &api("/dags/gen_000/dagRuns"), None, 404, "gen_000");
    assert_4xx("DELETE", &api("/dags/gen_000"), None, 404, "gen_000");
}

const RUN_DAG: &str = r#"from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("chain", schedule=None, tags=["api"]):
    a = BashOperator(task_id="extract", bash_command="echo rows=3")
    b = BashOperator(task_id="transform", bash_command="echo 7")
    c = BashOperator(task_id="load", bash_command="exit 1")
    a >> b >> c

with DAG("slowlog", schedule=None):
    BashOperator(task_id="talk", bash_command="echo first; sleep 1.5; echo second")
"#;

#[test]
fn runs_task_instances_tries_and_xcom_match_airflow() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), RUN_DAG).unwrap();
    let s = start(home.path(), dags.path(), 2);
    let doc = spec();
    let api = |p: &str| s.url(&format!("/api/v2{p}"));
    for id in ["r1", "r2"] {
        let (st, v) = call(
            "POST",
            &api("/dags/chain/dagRuns"),
            Some(json!({"dag_run_id": id, "logical_date": null, "note": "from the test"})),
        );
        assert_eq!(st, 200, "{v}");
        assert_schema(&doc, "DAGRunResponse", &v);
    }
    assert_eq!(wait_run_done(&s, "chain", "r1")["state"], "failed");
    assert_eq!(wait_run_done(&s, "chain", "r2")["state"], "failed");

    // Runs: filters, batch list, ordering, errors.
    let (_, runs) = get_json(&api("/dags/~/dagRuns?state=failed&order_by=-run_id"));
    assert_eq!(runs["total_entries"], 2);
    assert_eq!(runs["dag_runs"][0]["dag_run_id"], "r2");
    assert_schema(&doc, "DAGRunCollectionResponse", &runs);
    assert_same_shape(&airflow_sample("dag_runs_list.json"), &runs, "dagRuns");
    let (_, v) = get_json(&api("/dags/chain/dagRuns?run_id_pattern=1"));
    assert_eq!(v["total_entries"], 1);
    let (_, v) = get_json(&api(
        "/dags/chain/dagRuns?start_date_gte=2000-01-01T00:00:00Z&limit=1",
    ));
    assert_eq!(
        (
            v["total_entries"].clone(),
            v["dag_runs"].as_array().unwrap().len()
        ),
        (json!(2), 1)
    );
    let (st, v) = call(
        "POST",
        &api("/dags/~/dagRuns/list"),
        Some(
            json!({"dag_ids": ["chain"], "states": ["failed"], "order_by": "-run_after", "page_limit": 1}),
        ),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["total_entries"], 2);
    assert_eq!(v["dag_runs"][0]["dag_run_id"], "r2");
    assert_4xx(
        "POST",
        &api("/dags/chain/dagRuns/list"),
        Some(json!({})),
        400,
        "~",
    );
    assert_4xx(
        "POST",
        &api("/dags/~/dagRuns/list"),
        Some(json!({"bogus": 1})),
        422,
        "bogus",
    );
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns?state=done"),
        None,
        422,
        "state",
    );
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns?end_date_lt=soon"),
        None,
        422,
        "end_date_lt",
    );
    assert_4xx("GET", &api("/dags/nope/dagRuns"), None, 404, "nope");

    // Task instances: list, wildcards, filters, ordering, batch, contract shapes.
    let (_, tis) = get_json(&api("/dags/chain/dagRuns/r1/taskInstances"));
    assert_eq!(tis["total_entries"], 3);
    assert_schema(&doc, "TaskInstanceCollectionResponse", &tis);
    assert_same_shape(
        &airflow_sample("task_instances_list.json"),
        &tis,
        "taskInstances",
    );
    let (_, all) = get_json(&api(
        "/dags/~/dagRuns/~/taskInstances?order_by=-task_id&limit=2",
    ));
    assert_eq!(all["total_entries"], 6);
    assert_eq!(all["task_instances"][0]["task_id"], "transform");
    let (_, v) = get_json(&api("/dags/~/dagRuns/~/taskInstances?state=failed"));
    assert_eq!(v["total_entries"], 2);
    let (_, v) = get_json(&api(
        "/dags/chain/dagRuns/~/taskInstances?task_id_pattern=trans&state=success",
    ));
    assert_eq!(v["total_entries"], 2);
    let (st, v) = call(
        "POST",
        &api("/dags/~/dagRuns/~/taskInstances/list"),
        Some(
            json!({"dag_run_ids": ["r2"], "task_ids": ["extract", "load"], "order_by": "task_id"}),
        ),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["total_entries"], 2);
    assert_eq!(v["task_instances"][1]["task_id"], "load");
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/r1/taskInstances?state=great"),
        None,
        422,
        "state",
    );
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/r1/taskInstances?order_by=x"),
        None,
        400,
        "x",
    );
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/nope/taskInstances"),
        None,
        404,
        "nope",
    );
    assert_4xx(
        "POST",
        &api("/dags/chain/dagRuns/r1/taskInstances/list"),
        Some(json!({})),
        400,
        "~",
    );

    // One instance, by map index, its tries.
    let (_, ti) = get_json(&api("/dags/chain/dagRuns/r1/taskInstances/extract"));
    assert_schema(&doc, "TaskInstanceResponse", &ti);
    assert_same_shape(&airflow_sample("task_instance_get.json"), &ti, "ti");
    assert!(ti["dag_version"].is_object(), "{ti}");
    let (_, by_index) = get_json(&api("/dags/chain/dagRuns/r1/taskInstances/extract/-1"));
    assert_eq!(by_index, ti);
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/r1/taskInstances/extract/x"),
        None,
        422,
        "map_index",
    );
    let (_, mapped) = get_json(&api(
        "/dags/chain/dagRuns/r1/taskInstances/extract/listMapped",
    ));
    assert_eq!(mapped["total_entries"], 0);
    let (_, tries) = get_json(&api("/dags/chain/dagRuns/r1/taskInstances/extract/tries"));
    assert_eq!(tries["total_entries"], 1);
    assert_schema(&doc, "TaskInstanceHistoryCollectionResponse", &tries);
    assert_same_shape(&airflow_sample("task_instance_tries.json"), &tries, "tries");
    let (st, one) = get_json(&api("/dags/chain/dagRuns/r1/taskInstances/extract/tries/1"));
    assert_eq!((st, one["try_number"].clone()), (200, json!(1)));
    let (_, one_mapped) = get_json(&api(
        "/dags/chain/dagRuns/r1/taskInstances/extract/-1/tries/1",
    ));
    assert_eq!(one, one_mapped);
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/r1/taskInstances/extract/tries/7"),
        None,
        404,
        "try_number",
    );

    // Patch by map index with update_mask (note only).
    let (st, v) = call(
        "PATCH",
        &api("/dags/chain/dagRuns/r1/taskInstances/load/-1?update_mask=note"),
        Some(json!({"new_state": "success", "note": "looked at it"})),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["task_instances"][0]["note"], "looked at it");
    assert_eq!(
        v["task_instances"][0]["state"], "failed",
        "update_mask=note keeps the state"
    );
    assert_4xx(
        "PATCH",
        &api("/dags/chain/dagRuns/r1/taskInstances/load?update_mask=pool"),
        Some(json!({"note": "x"})),
        400,
        "pool",
    );

    // XCom: list, get, stringify, create, conflict, patch, wildcards.
    let x = "/dags/chain/dagRuns/r1/taskInstances/extract/xcomEntries";
    let (_, list) = get_json(&api(x));
    assert_eq!(list["total_entries"], 1, "{list}");
    assert_same_shape(&airflow_sample("xcom_entries.json"), &list, "xcom");
    assert_schema(&doc, "XComCollectionResponse", &list);
    let (_, e) = get_json(&api(&format!("{x}/return_value")));
    assert_eq!(e["value"], "rows=3");
    let mut sample = airflow_sample("xcom_entry.json");
    sample["value"] = Value::Null; // user data: any JSON
    assert_same_shape(&sample, &e, "xcom entry");
    assert_schema(&doc, "XComResponseNative", &e);
    let (st, e) = call(
        "POST",
        &api(x),
        Some(json!({"key": "extra", "value": [1, "a", null]})),
    );
    assert_eq!(st, 201, "{e}");
    assert_schema(&doc, "XComResponseNative", &e);
    let (_, e) = get_json(&api(&format!("{x}/extra?stringify=true")));
    assert_eq!(e["value"], "[1, 'a', None]");
    assert_4xx(
        "POST",
        &api(x),
        Some(json!({"key": "extra", "value": 1})),
        409,
        "extra",
    );
    assert_4xx("POST", &api(x), Some(json!({"value": 1})), 422, "key");
    assert_4xx(
        "POST",
        &api("/dags/chain/dagRuns/r1/taskInstances/nope/xcomEntries"),
        Some(json!({"key": "k", "value": 1})),
        404,
        "nope",
    );
    let (st, e) = call(
        "PATCH",
        &api(&format!("{x}/extra")),
        Some(json!({"value": {"n": 2}})),
    );
    assert_eq!((st, e["value"].clone()), (200, json!({"n": 2})));
    assert_4xx(
        "PATCH",
        &api(&format!("{x}/missing")),
        Some(json!({"value": 1})),
        404,
        "missing",
    );
    assert_4xx("GET", &api(&format!("{x}/missing")), None, 404, "missing");
    let (_, wild) = get_json(&api(
        "/dags/~/dagRuns/~/taskInstances/~/xcomEntries?limit=2",
    ));
    assert_eq!(wild["total_entries"], 5, "{wild}");
    assert_eq!(wild["xcom_entries"].as_array().unwrap().len(), 2);
    assert_same_shape(
        &airflow_sample("xcom_entries_wildcard.json"),
        &wild,
        "xcom ~",
    );
    let (_, v) = get_json(&api(
        "/dags/~/dagRuns/~/taskInstances/~/xcomEntries?xcom_key=extra",
    ));
    assert_eq!(v["total_entries"], 1);
    let (_, v) = get_json(&api(
        "/dags/~/dagRuns/r2/taskInstances/~/xcomEntries?task_id_pattern=trans",
    ));
    assert_eq!(v["total_entries"], 1);

    // Delete a task instance (and its XCom).
    let (st, _) = call(
        "DELETE",
        &api("/dags/chain/dagRuns/r2/taskInstances/extract"),
        None,
    );
    assert_eq!(st, 200);
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/r2/taskInstances/extract"),
        None,
        404,
        "extract",
    );
    let (_, v) = get_json(&api("/dags/chain/dagRuns/r2/taskInstances"));
    assert_eq!(v["total_entries"], 2);

    // Logs: continuation tokens, full_content.
    let log = "/dags/chain/dagRuns/r1/taskInstances/extract/logs/1";
    let (st, first) = get_json(&api(log));
    assert_eq!(st, 200);
    let token = first["continuation_token"].as_str().unwrap().to_string();
    assert!(first["content"].to_string().contains("rows=3"), "{first}");
    let (_, again) = get_json(&api(&format!("{log}?token={token}")));
    assert_eq!(again["content"], json!([]), "nothing new after the token");
    let (_, full) = get_json(&api(&format!("{log}?token={token}&full_content=true")));
    assert_eq!(full["content"], first["content"]);
    assert_4xx(
        "GET",
        &api(&format!("{log}?token=garbage")),
        None,
        400,
        "token",
    );

    // NDJSON of a running try is followed until the try ends.
    let (st, _) = call(
        "POST",
        &api("/dags/slowlog/dagRuns"),
        Some(json!({"dag_run_id": "f1", "logical_date": null})),
    );
    assert_eq!(st, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, ti) = get_json(&api("/dags/slowlog/dagRuns/f1/taskInstances/talk"));
        let (_, l) = get_json(&api("/dags/slowlog/dagRuns/f1/taskInstances/talk/logs/1"));
        if ti["state"] == "running" && l["content"].to_string().contains("first") {
            break;
        }
        assert!(Instant::now() < deadline, "talk did not start: {ti}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let t0 = Instant::now();
    let body = client()
        .get(api("/dags/slowlog/dagRuns/f1/taskInstances/talk/logs/1"))
        .header("Accept", "application/x-ndjson")
        .send()
        .unwrap()
        .text()
        .unwrap();
    let events: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(
        lines.contains(&"first") && lines.contains(&"second"),
        "{lines:?}"
    );
    assert!(
        t0.elapsed() > Duration::from_millis(300),
        "the stream waited for the try"
    );

    // wait: NDJSON states until the run finishes, then the results asked for.
    let body = client()
        .get(api(
            "/dags/slowlog/dagRuns/f1/wait?interval=0.1&result=talk",
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let last: Value = serde_json::from_str(body.lines().last().unwrap()).unwrap();
    assert_eq!(last["state"], "success", "{body}");
    assert_eq!(last["results"]["talk"], "second", "{body}");
    let body = client()
        .get(api("/dags/chain/dagRuns/r1/wait?interval=5&result=extract"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        body.lines().count(),
        1,
        "a finished run answers at once: {body}"
    );
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/r1/wait"),
        None,
        422,
        "interval",
    );
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/r1/wait?interval=0"),
        None,
        422,
        "interval",
    );
    assert_4xx(
        "GET",
        &api("/dags/chain/dagRuns/zz/wait?interval=1"),
        None,
        404,
        "zz",
    );

    // clearTaskInstances: run selection (past/future, dates), task selection (relatives,
    // [task_id, map_index]), state filters, prevent_running_task, reset_dag_runs.
    let clear = |b: Value| call("POST", &api("/dags/chain/clearTaskInstances"), Some(b));
    let ids = |v: &Value| -> Vec<(String, String)> {
        v["task_instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["dag_run_id"].as_str().unwrap().into(),
                    t["task_id"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let (st, v) = clear(
        json!({"dag_run_id": "r1", "task_ids": ["load"], "include_future": true, "only_failed": false}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        ids(&v),
        [("r1".into(), "load".into()), ("r2".into(), "load".into())]
    );
    assert_same_shape(
        &airflow_sample("clear_task_instances_dry_run.json"),
        &v,
        "clear",
    );
    let (_, v) = clear(
        json!({"dag_run_id": "r2", "task_ids": ["load"], "include_upstream": true, "only_failed": false}),
    );
    assert_eq!(ids(&v).len(), 2, "r2's extract was deleted above: {v}");
    let (_, v) = clear(json!({"task_ids": [["load", 3]], "only_failed": false}));
    assert_eq!(v["total_entries"], 0, "no map index 3: {v}");
    let (_, v) = clear(json!({"start_date": "2999-01-01T00:00:00Z", "only_failed": false}));
    assert_eq!(v["total_entries"], 0);
    let (_, v) = clear(json!({}));
    assert_eq!(v["total_entries"], 2, "only_failed by default: {v}");
    assert_4xx(
        "POST",
        &api("/dags/chain/clearTaskInstances"),
        Some(json!({"dag_run_id": "zz"})),
        404,
        "zz",
    );
    assert_4xx(
        "POST",
        &api("/dags/chain/clearTaskInstances"),
        Some(json!({"task_ids": [[1, 2]]})),
        422,
        "task_ids",
    );
    assert_4xx(
        "POST",
        &api("/dags/chain/clearTaskInstances"),
        Some(json!({"colour": 1})),
        422,
        "colour",
    );
    assert_4xx(
        "POST",
        &api("/dags/chain/clearTaskInstances"),
        Some(json!({"end_date": "later"})),
        422,
        "end_date",
    );
    assert_4xx(
        "POST",
        &api("/dags/nope/clearTaskInstances"),
        Some(json!({})),
        404,
        "nope",
    );
    let (st, v) = clear(json!({"dry_run": false, "dag_run_id": "r1", "reset_dag_runs": false}));
    assert_eq!(
        (st, ids(&v)),
        (200, vec![("r1".into(), "load".into())]),
        "{v}"
    );
    let (_, run) = get_json(&api("/dags/chain/dagRuns/r1"));
    assert_eq!(
        run["state"], "failed",
        "reset_dag_runs=false leaves the run alone"
    );
    let (_, ti) = get_json(&api("/dags/chain/dagRuns/r1/taskInstances/load"));
    assert!(ti["state"].is_null(), "{ti}");
}

const DAILY: &str = r#"from datetime import datetime, timezone
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("daily", schedule="0 0 * * *", start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
         catchup=False, max_active_runs=1, is_paused_upon_creation=True):
    BashOperator(task_id="slow", bash_command="sleep 20")

with DAG("manual_only", schedule=None):
    BashOperator(task_id="t", bash_command="true")
"#;

#[test]
fn backfills_queue_runs_from_the_timetable_and_cancel_fails_the_queued_ones() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("daily.py"), DAILY).unwrap();
    let s = start(home.path(), dags.path(), 2);
    let doc = spec();
    let api = |p: &str| s.url(&format!("/api/v2{p}"));
    let body = json!({
        "dag_id": "daily", "from_date": "2025-03-01T00:00:00Z", "to_date": "2025-03-03T12:00:00Z",
        "dag_run_conf": {"source": "test"}, "max_active_runs": 2,
    });

    let (st, dry) = call("POST", &api("/backfills/dry_run"), Some(body.clone()));
    assert_eq!(st, 200, "{dry}");
    assert_schema(&doc, "DryRunBackfillCollectionResponse", &dry);
    let dates: Vec<&str> = dry["backfills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["logical_date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2025-03-01T00:00:00Z",
            "2025-03-02T00:00:00Z",
            "2025-03-03T00:00:00Z"
        ]
    );
    let (_, none) = get_json(&api("/dags/daily/dagRuns"));
    assert_eq!(none["total_entries"], 0, "a dry run writes nothing");

    let (st, b) = call("POST", &api("/backfills"), Some(body.clone()));
    assert_eq!(st, 200, "{b}");
    // Runs of a paused DAG wait (Airflow 3), backfill runs too: unpause it.
    let (st, _) = call(
        "PATCH",
        &api("/dags/daily"),
        Some(json!({"is_paused": false})),
    );
    assert_eq!(st, 200);
    assert_schema(&doc, "BackfillResponse", &b);
    assert_eq!(b["dag_run_conf"], json!({"source": "test"}));
    assert_eq!(b["is_paused"], false);
    assert!(b["completed_at"].is_null());
    let id = b["id"].as_i64().unwrap();
    let (_, runs) = get_json(&api(
        "/dags/daily/dagRuns?run_type=backfill&order_by=logical_date",
    ));
    assert_eq!(runs["total_entries"], 3, "{runs}");
    assert_eq!(
        runs["dag_runs"][0]["dag_run_id"],
        "backfill__2025-03-01T00:00:00+00:00"
    );
    assert_eq!(runs["dag_runs"][0]["logical_date"], "2025-03-01T00:00:00Z");
    assert_eq!(runs["dag_runs"][0]["conf"], json!({"source": "test"}));
    assert_eq!(runs["dag_runs"][0]["triggered_by"], "backfill");

    // One backfill at a time; existing runs are skipped by default.
    assert_4xx(
        "POST",
        &api("/backfills"),
        Some(body.clone()),
        409,
        "already a running backfill",
    );
    let (_, dry) = call("POST", &api("/backfills/dry_run"), Some(body.clone()));
    assert_eq!(dry["total_entries"], 0, "{dry}");

    // List, get, pause, unpause.
    let (_, list) = get_json(&api("/backfills?dag_id=daily"));
    assert_eq!(list["total_entries"], 1);
    assert_schema(&doc, "BackfillCollectionResponse", &list);
    let (st, got) = get_json(&api(&format!("/backfills/{id}")));
    assert_eq!((st, got["id"].as_i64()), (200, Some(id)));
    let (st, p) = call("PUT", &api(&format!("/backfills/{id}/pause")), None);
    assert_eq!((st, p["is_paused"].clone()), (200, json!(true)), "{p}");
    let (st, p) = call("PUT", &api(&format!("/backfills/{id}/unpause")), None);
    assert_eq!((st, p["is_paused"].clone()), (200, json!(false)), "{p}");

    // The backfill's max_active_runs (2) applies, not the DAG's (1): two 20 s runs start,
    // the third waits.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, runs) = get_json(&api("/dags/daily/dagRuns?run_type=backfill"));
        let count = |st: &str| {
            runs["dag_runs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["state"] == st)
                .count()
        };
        if count("running") == 2 && count("queued") == 1 {
            break;
        }
        assert!(count("running") <= 2, "{runs}");
        assert!(std::time::Instant::now() < deadline, "{runs}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Cancel: paused, completed, the queued run failed.
    let (st, c) = call("PUT", &api(&format!("/backfills/{id}/cancel")), None);
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["is_paused"], true);
    assert!(c["completed_at"].is_string(), "{c}");
    let (_, runs) = get_json(&api("/dags/daily/dagRuns?run_type=backfill"));
    let states: Vec<&str> = runs["dag_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert!(!states.contains(&"queued"), "{states:?}");
    assert!(
        states.iter().filter(|s| **s == "failed").count() >= 1,
        "{states:?}"
    );
    // Every backfill action is in the audit log.
    let (_, logs) = get_json(&api("/eventLogs?event_pattern=backfill&order_by=id"));
    let events: Vec<&str> = logs["event_logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "create_backfill",
            "pause_backfill",
            "unpause_backfill",
            "cancel_backfill"
        ],
        "{logs}"
    );
    assert_4xx(
        "PUT",
        &api(&format!("/backfills/{id}/cancel")),
        None,
        409,
        "already completed",
    );
    assert_4xx(
        "PUT",
        &api(&format!("/backfills/{id}/pause")),
        None,
        409,
        "already completed",
    );

    // Errors.
    assert_4xx("GET", &api("/backfills/999"), None, 404, "999");
    assert_4xx("GET", &api("/backfills/abc"), None, 422, "backfill_id");
    let with = |k: &str, v: Value| {
        let mut b = body.clone();
        b[k] = v;
        Some(b)
    };
    assert_4xx(
        "POST",
        &api("/backfills"),
        with("dag_id", json!("nope")),
        404,
        "nope",
    );
    assert_4xx(
        "POST",
        &api("/backfills"),
        with("dag_id", json!("manual_only")),
        409,
        "no schedule",
    );
    assert_4xx(
        "POST",
        &api("/backfills"),
        with("to_date", json!("2025-01-01T00:00:00Z")),
        422,
        "from_date",
    );
    assert_4xx(
        "POST",
        &api("/backfills"),
        with("from_date", json!("March")),
        422,
        "from_date",
    );
    assert_4xx(
        "POST",
        &api("/backfills"),
        with("reprocess_behavior", json!("all")),
        422,
        "reprocess_behavior",
    );
    assert_4xx(
        "POST",
        &api("/backfills"),
        with("max_active_runs", json!(0)),
        422,
        "max_active_runs",
    );
    assert_4xx(
        "POST",
        &api("/backfills"),
        with("dag_run_conf", json!([1])),
        422,
        "dag_run_conf",
    );
    assert_4xx(
        "POST",
        &api("/backfills"),
        with("colour", json!("red")),
        422,
        "colour",
    );
}

#[test]
fn openapi_documents_exactly_the_routes_served_and_docs_renders_it() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), RUN_DAG).unwrap();
    let s = start(home.path(), dags.path(), 1);
    let (st, doc) = get_json(&s.url("/openapi.json"));
    assert_eq!(st, 200);
    assert_eq!(doc["info"]["title"], "Leoflow Lite");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v2/dags",
        "/api/v2/backfills",
        "/healthz",
        "/metrics",
        "/ui/events",
        "/docs",
    ] {
        assert!(paths.contains_key(p), "{p} is not documented");
    }
    // Every `$ref` resolves inside the document.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    let documented: std::collections::BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    assert!(documented.len() > 60, "{}", documented.len());
    let concrete = |p: &str| {
        if p == "/static/{path}" {
            return "/static/index.html".to_string();
        }
        p.split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "probe_id"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let send = |method: &str, p: &str| {
        let body = (method != "get" && method != "delete").then(|| json!({}));
        call(&method.to_uppercase(), &s.url(&concrete(p)), body)
    };
    // Every documented operation is served: not a 405, not the fallback's bare "Not Found".
    for (method, p) in &documented {
        if p == "/ui/events" {
            continue; // a never-ending stream; checked below by its status
        }
        let (st, v) = send(method, p);
        assert!(
            st != 405 && !(st == 404 && v == json!({"detail": "Not Found"})),
            "documented {method} {p} is not served: {st} {v}"
        );
        assert!(st < 500, "{method} {p} answered {st}: {v}");
    }
    let r = client().get(s.url("/ui/events")).send().unwrap();
    assert_eq!(r.status(), 200);
    drop(r);
    // Every route that answered any of Airflow's operations is documented: the metrics count
    // requests by the route that matched, so a route missing from the document shows there.
    let airflow = spec();
    for (p, ops) in airflow["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let (st, v) = send(method, p);
            assert!(st < 500, "{method} {p} answered {st}: {v}");
        }
    }
    let template = |p: &str| {
        p.split('/')
            .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    let documented_templates: std::collections::BTreeSet<(String, String)> = documented
        .iter()
        .map(|(m, p)| (m.to_uppercase(), template(p)))
        .collect();
    let metrics = client()
        .get(s.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let mut answered = 0;
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("leoflow_http_requests_total{"))
    {
        let label = |k: &str| {
            let start = line.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
            line[start..start + line[start..].find('"').unwrap()].to_string()
        };
        let (method, route, status) = (label("method"), label("route"), label("status"));
        if route == "unmatched" || status == "405" {
            continue;
        }
        answered += 1;
        assert!(
            documented_templates.contains(&(method.clone(), template(&route))),
            "{method} {route} answered ({status}) but is not documented"
        );
    }
    assert!(answered > 60, "{metrics}");
    let r = client().get(s.url("/docs")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().unwrap();
    assert!(
        html.contains("fetch(\"/openapi.json\")"),
        "the page renders the document"
    );
    assert!(!html.contains("https://"), "no CDN");
}

#[test]
fn list_answers_change_with_every_write() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("daily.py"), DAILY).unwrap();
    let s = start(home.path(), dags.path(), 2);
    let api = |p: &str| s.url(&format!("/api/v2{p}"));
    let paused = |s: &Value| {
        s["dags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["dag_id"] == "manual_only")
            .unwrap()["is_paused"]
            .clone()
    };
    // Asked twice (the second answer may come from memory), then a write, then again.
    for want in [true, false, true] {
        let (st, _) = call(
            "PATCH",
            &api("/dags/manual_only"),
            Some(json!({"is_paused": want})),
        );
        assert_eq!(st, 200);
        for _ in 0..2 {
            let (_, list) = get_json(&api("/dags"));
            assert_eq!(paused(&list), json!(want), "{list}");
        }
    }
    let (_, runs) = get_json(&api("/dags/manual_only/dagRuns"));
    assert_eq!(runs["total_entries"], 0);
    let (st, _) = call(
        "POST",
        &api("/dags/manual_only/dagRuns"),
        Some(json!({"logical_date": null})),
    );
    assert_eq!(st, 200);
    let (_, runs) = get_json(&api("/dags/manual_only/dagRuns"));
    assert_eq!(runs["total_entries"], 1, "{runs}");
}

/// Regression (issue #11, bug 1): a run id is a directory name under `logs/`. One that is not
/// Airflow's `allowed_run_id_pattern` is refused with Airflow's 400 before anything is
/// written; dots, which the pattern allows, stay part of a plain name under `logs/` (the path
/// is built in one place that checks it stays there: `keys::log_path`, unit-tested with `..`).
#[test]
fn issue_11_run_ids_cannot_escape_the_logs_folder() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), RUN_DAG).unwrap();
    let s = start(&home, dags.path(), 2);
    let runs = s.url("/api/v2/dags/slowlog/dagRuns");
    for bad in ["../../../../../escape", "a/b", "sp ace", "new\nline"] {
        assert_4xx(
            "POST",
            &runs,
            Some(json!({"dag_run_id": bad, "logical_date": null})),
            400,
            "does not match regex pattern '^[A-Za-z0-9_.~:+-]+$'",
        );
    }
    let (st, list) = get_json(&s.url("/api/v2/dags/slowlog/dagRuns"));
    assert_eq!(
        (st, list["total_entries"].as_i64()),
        (200, Some(0)),
        "{list}"
    );
    // Dots match the pattern: the run runs, and its log is a file under logs/.
    let (st, run) = call(
        "POST",
        &runs,
        Some(json!({"dag_run_id": "...", "logical_date": null})),
    );
    assert_eq!(st, 200, "{run}");
    wait_run_done(&s, "slowlog", "...");
    let log = home.join("logs/dag_id=slowlog/run_id=.../task_id=talk/attempt=1.log");
    assert!(log.is_file(), "{} missing", log.display());
    let (st, v) = get_json(
        &s.url("/api/v2/dags/slowlog/dagRuns/.../taskInstances/talk/logs/1?full_content=true"),
    );
    assert_eq!(st, 200, "{v}");
    assert!(v.to_string().contains("second"), "{v}");
    // Nothing was created beside the home.
    let beside: Vec<String> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["home"], "written outside the home: {beside:?}");
}

/// Regression (issue #11, bug 2): `*_pattern` filters with many wildcards answer at once. The
/// XCom listing matched them with a backtracking matcher, exponential in the number of `%`,
/// on the async workers: one request pinned a core and never answered.
#[test]
fn issue_11_pattern_filters_with_many_wildcards_answer_at_once() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("chain.py"), RUN_DAG).unwrap();
    let s = start(home.path(), dags.path(), 2);
    let (_, run) = call(
        "POST",
        &s.url("/api/v2/dags/chain/dagRuns"),
        Some(json!({"logical_date": null})),
    );
    let run_id = run["dag_run_id"].as_str().unwrap().to_string();
    wait_run_done(&s, "chain", &run_id);
    let long_key = "a".repeat(80);
    let (st, v) = call(
        "POST",
        &s.url(&format!(
            "/api/v2/dags/chain/dagRuns/{}/taskInstances/extract/xcomEntries",
            enc(&run_id)
        )),
        Some(json!({"key": long_key, "value": 1})),
    );
    assert_eq!(st, 201, "{v}");
    // 30 wildcards that can never match (the text has no `b`).
    let pattern = format!("{}b", "%a".repeat(30)).replace('%', "%25");
    let started = Instant::now();
    let (st, v) = get_json(&s.url(&format!(
        "/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries?xcom_key_pattern={pattern}"
    )));
    assert_eq!((st, v["total_entries"].as_i64()), (200, Some(0)), "{v}");
    let (st, v) = get_json(&s.url(&format!(
        "/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries?xcom_key_pattern={}",
        "%a".repeat(30).replace('%', "%25")
    )));
    assert_eq!((st, v["total_entries"].as_i64()), (200, Some(1)), "{v}");
    // The same kind of pattern where SQLite matches it.
    let (st, v) = get_json(&s.url(&format!(
        "/api/v2/dags/~/dagRuns/~/taskInstances?task_id_pattern={pattern}"
    )));
    assert_eq!((st, v["total_entries"].as_i64()), (200, Some(0)), "{v}");
    // Not a timing target: a backtracking matcher would still be running after days.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
