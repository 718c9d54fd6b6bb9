//! Admin API: variables, connections (encrypted at rest), pools, the audit log (eventLogs),
//! config, and the empty-but-valid resources — all through real HTTP against the real binary.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// Starts a server on `home` with `dags` and extra environment; waits for the initial scan.
fn serve(home: &Path, dags: &Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = leoflow(home);
    cmd.envs(env.iter().copied());
    let s = Server::start_with(cmd, home, &[dags.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while get_json(&s.url("/api/v2/monitor/health")).1["dag_processor"]["parse_progress"]["initial_scan_done"]
        != true
    {
        assert!(Instant::now() < deadline, "initial scan did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    s
}

/// Sends `method path` with an optional JSON body: (status, body or null).
fn call(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = http().request(method.parse().unwrap(), s.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req
        .send()
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
    };
    (status, v)
}

/// Asserts a 4xx with a `detail` that mentions `needle`.
fn rejects(s: &Server, method: &str, path: &str, body: Option<Value>, status: u16, needle: &str) {
    let (st, v) = call(s, method, path, body);
    assert_eq!(st, status, "{method} {path}: {v}");
    assert!(
        v["detail"].to_string().contains(needle),
        "{method} {path}: detail should mention {needle:?}: {v}"
    );
}

/// The database file and its WAL, as bytes (what an attacker with the disk would see).
fn db_bytes(home: &Path) -> Vec<u8> {
    let mut all = std::fs::read(home.join("leoflow.db")).unwrap();
    if let Ok(wal) = std::fs::read(home.join("leoflow.db-wal")) {
        all.extend(wal);
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The decrypted value of a stored variable, read from SQLite with the home's key.
fn stored_variable(home: &Path, key: &str) -> String {
    let c = rusqlite::Connection::open(home.join("leoflow.db")).unwrap();
    let val: String = c
        .query_row("SELECT val FROM variable WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .unwrap();
    let cipher = leoflow::secrets::Cipher::load(home, None).unwrap();
    cipher.decrypt(&val, key).unwrap()
}

/// Triggers `dag_id` and waits (bounded) for the run to succeed; (run JSON, URL path of the run).
fn run_to_success(s: &Server, dag_id: &str) -> (Value, String) {
    let (st, run) = call(
        s,
        "POST",
        &format!("/api/v2/dags/{dag_id}/dagRuns"),
        Some(json!({"logical_date": null})),
    );
    assert_eq!(st, 200, "{run}");
    let enc = run["dag_run_id"]
        .as_str()
        .unwrap()
        .replace(':', "%3A")
        .replace('+', "%2B");
    let path = format!("/api/v2/dags/{dag_id}/dagRuns/{enc}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, r) = get_json(&s.url(&path));
        if r["state"] == "success" {
            return (run, path);
        }
        assert!(
            r["state"] != "failed" && Instant::now() < deadline,
            "{r}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn events(s: &Server, query: &str) -> Vec<Value> {
    let (st, v) = get_json(&s.url(&format!("/api/v2/eventLogs?limit=100&{query}")));
    assert_eq!(st, 200, "{v}");
    v["event_logs"].as_array().unwrap().clone()
}

#[test]
fn variables_crud_paging_masking_and_encryption_at_rest() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let s = serve(home.path(), dags.path(), &[]);
    let (st, v) = call(
        &s,
        "POST",
        "/api/v2/variables",
        Some(json!({"key": "compat_var", "value": "42", "description": "d"})),
    );
    assert_eq!(st, 201, "{v}");
    assert_same_shape(&airflow_sample("variable_post.json"), &v, "variable");
    assert_eq!(v["value"], "42");
    assert_eq!(v["is_encrypted"], true);
    rejects(
        &s,
        "POST",
        "/api/v2/variables",
        Some(json!({"key": "compat_var", "value": "1"})),
        409,
        "compat_var",
    );
    rejects(
        &s,
        "POST",
        "/api/v2/variables",
        Some(json!({"key": "nov"})),
        422,
        "value",
    );
    rejects(
        &s,
        "POST",
        "/api/v2/variables",
        Some(json!({"key": "x", "value": 1, "colour": 2})),
        422,
        "colour",
    );

    // A sensitive key is masked; so are sensitive keys inside a JSON object value.
    let (st, v) = call(
        &s,
        "POST",
        "/api/v2/variables",
        Some(json!({"key": "db_password", "value": "hunter2-plaintext"})),
    );
    assert_eq!((st, v["value"].as_str()), (201, Some("***")), "{v}");
    let (_, v) = call(
        &s,
        "POST",
        "/api/v2/variables",
        Some(json!({"key": "service", "value": {"user": "u", "api_key": "k-123-plaintext"}})),
    );
    let shown: Value = serde_json::from_str(v["value"].as_str().unwrap()).unwrap();
    assert_eq!(shown, json!({"user": "u", "api_key": "***"}));
    call(
        &s,
        "POST",
        "/api/v2/variables",
        Some(json!({"key": "zeta", "value": "z"})),
    );

    // Encrypted at rest: neither secret is anywhere in the database files.
    let bytes = db_bytes(home.path());
    assert!(!contains(&bytes, "hunter2-plaintext"));
    assert!(!contains(&bytes, "k-123-plaintext"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join("encryption.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Paging, ordering and the key pattern.
    let (_, page) = get_json(&s.url("/api/v2/variables?limit=2&order_by=-key"));
    assert_same_shape(&airflow_sample("variables.json"), &page, "variables");
    assert_eq!(page["total_entries"], 4);
    let keys: Vec<&str> = page["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["zeta", "service"]);
    let (_, page) = get_json(&s.url("/api/v2/variables?limit=2&offset=2&order_by=-key"));
    let keys: Vec<&str> = page["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["db_password", "compat_var"]);
    let (_, page) = get_json(&s.url("/api/v2/variables?variable_key_pattern=PASS"));
    assert_eq!(page["total_entries"], 1, "{page}");
    rejects(
        &s,
        "GET",
        "/api/v2/variables?order_by=colour",
        None,
        400,
        "colour",
    );
    rejects(
        &s,
        "GET",
        "/api/v2/variables?limit=many",
        None,
        422,
        "limit",
    );
    rejects(&s, "GET", "/api/v2/variables/nope", None, 404, "nope");

    // PATCH: update_mask limits the change; a masked value sent back keeps the secret.
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v2/variables/compat_var?update_mask=description",
        Some(json!({"key": "compat_var", "value": "ignored", "description": "new"})),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["value"].as_str(), v["description"].as_str()),
        (Some("42"), Some("new"))
    );
    let (st, _) = call(
        &s,
        "PATCH",
        "/api/v2/variables/db_password",
        Some(json!({"key": "db_password", "value": "***", "description": "pw"})),
    );
    assert_eq!(st, 200);
    assert_eq!(
        stored_variable(home.path(), "db_password"),
        "hunter2-plaintext"
    );
    rejects(
        &s,
        "PATCH",
        "/api/v2/variables/compat_var",
        Some(json!({"key": "other", "value": "1"})),
        400,
        "doesn't match",
    );
    rejects(
        &s,
        "PATCH",
        "/api/v2/variables/ghost",
        Some(json!({"key": "ghost", "value": "1"})),
        404,
        "ghost",
    );

    // Bulk: Airflow's existence rules per action.
    let (st, r) = call(
        &s,
        "PATCH",
        "/api/v2/variables",
        Some(json!({"actions": [
            {"action": "create", "entities": [{"key": "a", "value": "1"}, {"key": "zeta", "value": "2"}]},
        ]})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["create"]["success"], json!([]));
    assert_eq!(r["create"]["errors"][0]["status_code"], 409, "{r}");
    assert!(r["update"].is_null() && r["delete"].is_null());
    let (_, r) = call(
        &s,
        "PATCH",
        "/api/v2/variables",
        Some(json!({"actions": [
            {"action": "create", "action_on_existence": "skip", "entities": [{"key": "a", "value": "1"}, {"key": "zeta", "value": "2"}]},
            {"action": "update", "entities": [{"key": "zeta", "value": "3"}, {"key": "missing", "value": "3"}]},
            {"action": "update", "action_on_non_existence": "skip", "entities": [{"key": "zeta", "value": "4"}, {"key": "missing", "value": "3"}]},
            {"action": "delete", "action_on_non_existence": "skip", "entities": ["a", "nothing"]},
        ]})),
    );
    assert_eq!(r["create"]["success"], json!(["a"]), "{r}");
    assert_eq!(r["update"]["success"], json!(["zeta"]), "{r}");
    assert_eq!(r["update"]["errors"][0]["status_code"], 404, "{r}");
    assert_eq!(r["delete"]["success"], json!(["a"]), "{r}");
    assert_eq!(get_json(&s.url("/api/v2/variables/zeta")).1["value"], "4");
    rejects(
        &s,
        "PATCH",
        "/api/v2/variables",
        Some(json!({"actions": [{"action": "explode", "entities": []}]})),
        422,
        "explode",
    );

    let (st, _) = call(&s, "DELETE", "/api/v2/variables/zeta", None);
    assert_eq!(st, 204);
    rejects(&s, "DELETE", "/api/v2/variables/zeta", None, 404, "zeta");

    // Every mutation is in the audit log, the value never.
    let log = events(&s, "event_pattern=variable");
    let names: Vec<&str> = log.iter().map(|e| e["event"].as_str().unwrap()).collect();
    for e in [
        "post_variable",
        "patch_variable",
        "bulk_variables",
        "delete_variable",
    ] {
        assert!(names.contains(&e), "{e} missing from {names:?}");
    }
    assert!(log.iter().all(|e| e["owner"] == "Anonymous"));
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains("hunter2-plaintext") && !text.contains("k-123-plaintext"),
        "{text}"
    );
}

#[test]
fn connections_hide_passwords_encrypt_at_rest_and_test_for_real() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let s = serve(home.path(), dags.path(), &[]);
    let body = json!({"connection_id": "compat_conn", "conn_type": "http", "host": "example.org", "password": "s3cr3t-pass-plain"});
    let (st, v) = call(&s, "POST", "/api/v2/connections", Some(body.clone()));
    assert_eq!(st, 201, "{v}");
    assert_same_shape(&airflow_sample("connection_post.json"), &v, "connection");
    assert_eq!(v["password"], "***");
    assert!(v["extra"].is_null());
    rejects(
        &s,
        "POST",
        "/api/v2/connections",
        Some(body),
        409,
        "compat_conn",
    );
    rejects(
        &s,
        "POST",
        "/api/v2/connections",
        Some(json!({"connection_id": "bad id!", "conn_type": "http"})),
        422,
        "pattern",
    );
    rejects(
        &s,
        "POST",
        "/api/v2/connections",
        Some(json!({"connection_id": "c", "conn_type": "http", "extra": "[1]"})),
        422,
        "JSON object",
    );
    rejects(
        &s,
        "POST",
        "/api/v2/connections",
        Some(json!({"connection_id": "c"})),
        422,
        "conn_type",
    );

    let (st, v) = call(
        &s,
        "POST",
        "/api/v2/connections",
        Some(
            json!({"connection_id": "db", "conn_type": "postgres", "login": "me", "port": 5432,
            "extra": "{\"token\": \"tok-plain-value\", \"region\": \"eu\"}"}),
        ),
    );
    assert_eq!(st, 201, "{v}");
    assert!(v["password"].is_null(), "no password set: {v}");
    let extra: Value = serde_json::from_str(v["extra"].as_str().unwrap()).unwrap();
    assert_eq!(extra, json!({"token": "***", "region": "eu"}));

    let (_, list) = get_json(&s.url("/api/v2/connections?order_by=-connection_id"));
    assert_same_shape(&airflow_sample("connections.json"), &list, "connections");
    assert_eq!(list["total_entries"], 2);
    assert_eq!(list["connections"][0]["connection_id"], "db");
    let (_, one) = get_json(&s.url("/api/v2/connections?connection_id_pattern=compat&limit=1"));
    assert_eq!(one["connections"][0]["connection_id"], "compat_conn");
    let text = serde_json::to_string(&list).unwrap();
    assert!(!text.contains("s3cr3t-pass-plain") && !text.contains("tok-plain-value"));
    let bytes = db_bytes(home.path());
    assert!(!contains(&bytes, "s3cr3t-pass-plain"));
    assert!(!contains(&bytes, "tok-plain-value"));

    // Patching with the masked values read back keeps the secrets; update_mask narrows.
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v2/connections/db",
        Some(
            json!({"connection_id": "db", "conn_type": "postgres", "host": "db.local",
            "extra": "{\"token\": \"***\", \"region\": \"us\"}", "password": "***"}),
        ),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["host"], "db.local");
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v2/connections/db?update_mask=port",
        Some(
            json!({"connection_id": "db", "conn_type": "ignored", "port": 6543, "host": "ignored"}),
        ),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (
            v["port"].as_i64(),
            v["host"].as_str(),
            v["conn_type"].as_str()
        ),
        (Some(6543), Some("db.local"), Some("postgres"))
    );
    let c = rusqlite::Connection::open(home.path().join("leoflow.db")).unwrap();
    let extra: String = c
        .query_row(
            "SELECT extra FROM connection WHERE conn_id = 'db'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let cipher = leoflow::secrets::Cipher::load(home.path(), None).unwrap();
    let extra: Value = serde_json::from_str(&cipher.decrypt(&extra, "extra").unwrap()).unwrap();
    assert_eq!(extra, json!({"token": "tok-plain-value", "region": "us"}));
    rejects(
        &s,
        "PATCH",
        "/api/v2/connections/db",
        Some(json!({"connection_id": "other", "conn_type": "x"})),
        400,
        "does not match",
    );
    rejects(&s, "GET", "/api/v2/connections/ghost", None, 404, "ghost");

    // A real test: an HTTP server that answers, a closed port, a connection without a host.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut conn in listener.incoming().flatten().take(2) {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    let (st, v) = call(
        &s,
        "POST",
        "/api/v2/connections/test",
        Some(
            json!({"connection_id": "probe", "conn_type": "http", "host": "127.0.0.1", "port": port}),
        ),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], true, "{v}");
    assert!(v["message"].is_string());
    let (_, v) = call(
        &s,
        "POST",
        "/api/v2/connections/test",
        Some(
            json!({"connection_id": "probe", "conn_type": "postgres", "host": format!("http://127.0.0.1:{port}")}),
        ),
    );
    assert_eq!(v["status"], true, "a TCP connect: {v}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_, v) = call(
        &s,
        "POST",
        "/api/v2/connections/test",
        Some(
            json!({"connection_id": "probe", "conn_type": "postgres", "host": "127.0.0.1", "port": closed}),
        ),
    );
    assert_eq!(v["status"], false, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains(&closed.to_string()),
        "{v}"
    );
    let (_, v) = call(
        &s,
        "POST",
        "/api/v2/connections/test",
        Some(json!({"connection_id": "nohost", "conn_type": "fs"})),
    );
    assert_eq!(v["status"], false, "{v}");
    assert!(v["message"].as_str().unwrap().contains("host"), "{v}");

    // Bulk, defaults, delete.
    let (_, r) = call(
        &s,
        "PATCH",
        "/api/v2/connections",
        Some(json!({"actions": [
            {"action": "create", "action_on_existence": "overwrite", "entities": [{"connection_id": "db", "conn_type": "mysql"}, {"connection_id": "new", "conn_type": "http"}]},
            {"action": "delete", "entities": ["nope"]},
        ]})),
    );
    assert_eq!(r["create"]["success"], json!(["db", "new"]), "{r}");
    assert_eq!(r["delete"]["errors"][0]["status_code"], 404, "{r}");
    assert_eq!(
        get_json(&s.url("/api/v2/connections/db")).1["conn_type"],
        "mysql"
    );
    assert_eq!(
        call(&s, "POST", "/api/v2/connections/defaults", None).0,
        204
    );
    assert_eq!(call(&s, "DELETE", "/api/v2/connections/new", None).0, 204);
    rejects(&s, "DELETE", "/api/v2/connections/new", None, 404, "new");

    let log = events(&s, "event_pattern=connection");
    let names: Vec<&str> = log.iter().map(|e| e["event"].as_str().unwrap()).collect();
    for e in [
        "post_connection",
        "patch_connection",
        "bulk_connections",
        "create_default_connections",
        "delete_connection",
    ] {
        assert!(names.contains(&e), "{e} missing from {names:?}");
    }
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains("s3cr3t-pass-plain") && !text.contains("tok-plain-value"),
        "{text}"
    );
}

#[test]
fn a_wrong_encryption_key_is_a_clear_error_not_garbage() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let key_a = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="; // 32 × 'A'
    let key_b = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="; // 32 × 'B'
    let s = serve(
        home.path(),
        dags.path(),
        &[("LEOFLOW_ENCRYPTION_KEY", key_a)],
    );
    let (st, _) = call(
        &s,
        "POST",
        "/api/v2/variables",
        Some(json!({"key": "k", "value": "v-plain"})),
    );
    assert_eq!(st, 201);
    assert!(
        !home.path().join("encryption.key").exists(),
        "the env key is used, no file"
    );
    s.stop(libc::SIGTERM);

    let s = serve(
        home.path(),
        dags.path(),
        &[("LEOFLOW_ENCRYPTION_KEY", key_b)],
    );
    let (st, v) = get_json(&s.url("/api/v2/variables/k"));
    assert_eq!(st, 500, "{v}");
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("LEOFLOW_ENCRYPTION_KEY") && detail.contains("different key"),
        "{detail}"
    );
    assert!(!detail.contains("v-plain") && !detail.contains(key_b));
    s.stop(libc::SIGTERM);

    let s = serve(
        home.path(),
        dags.path(),
        &[("LEOFLOW_ENCRYPTION_KEY", "c2hvcnQ=")],
    );
    let (st, v) = get_json(&s.url("/api/v2/variables"));
    assert_eq!(st, 500, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("not 32"), "{v}");
    s.stop(libc::SIGTERM);

    let s = serve(
        home.path(),
        dags.path(),
        &[("LEOFLOW_ENCRYPTION_KEY", key_a)],
    );
    assert_eq!(
        get_json(&s.url("/api/v2/variables/k")).1["value"],
        "v-plain"
    );
}

const POOLED: &str = r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("pooled", schedule=None):
    BashOperator(task_id="hold", bash_command="sleep 3", pool="p1", pool_slots=2)
"#;

#[test]
fn pools_count_slots_protect_the_default_pool_and_validate() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("pooled.py"), POOLED).unwrap();
    let s = serve(home.path(), dags.path(), &[]);
    let (_, list) = get_json(&s.url("/api/v2/pools"));
    assert_same_shape(&airflow_sample("pools.json"), &list, "pools");
    assert_eq!(list["pools"][0]["name"], "default_pool");
    assert_eq!(list["pools"][0]["open_slots"], 128);

    let (st, v) = call(
        &s,
        "POST",
        "/api/v2/pools",
        Some(json!({"name": "p1", "slots": 3, "description": "d"})),
    );
    assert_eq!(st, 201, "{v}");
    assert_same_shape(&list["pools"][0], &v, "pool");
    rejects(
        &s,
        "POST",
        "/api/v2/pools",
        Some(json!({"name": "p1", "slots": 3})),
        409,
        "p1",
    );
    rejects(
        &s,
        "POST",
        "/api/v2/pools",
        Some(json!({"name": "p2", "slots": -2})),
        422,
        "-1",
    );
    rejects(
        &s,
        "POST",
        "/api/v2/pools",
        Some(json!({"name": "p2"})),
        422,
        "slots",
    );
    rejects(
        &s,
        "DELETE",
        "/api/v2/pools/default_pool",
        None,
        400,
        "Default Pool can't be deleted",
    );
    rejects(
        &s,
        "PATCH",
        "/api/v2/pools/default_pool",
        Some(json!({"description": "mine"})),
        400,
        "Only slots",
    );
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v2/pools/default_pool?update_mask=slots",
        Some(json!({"slots": 64, "description": "ignored"})),
    );
    assert_eq!(
        (st, v["slots"].as_i64(), v["description"].as_str()),
        (200, Some(64), Some("Default pool")),
        "{v}"
    );
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v2/pools/p1",
        Some(json!({"pool": "p1", "slots": -1})),
    );
    assert_eq!((st, v["open_slots"].as_i64()), (200, Some(-1)), "{v}");
    call(&s, "PATCH", "/api/v2/pools/p1", Some(json!({"slots": 3})));
    rejects(&s, "GET", "/api/v2/pools/ghost", None, 404, "ghost");
    rejects(
        &s,
        "GET",
        "/api/v2/pools?order_by=slots",
        None,
        400,
        "slots",
    );

    // A running task's slots show in its pool.
    let (st, run) = call(
        &s,
        "POST",
        "/api/v2/dags/pooled/dagRuns",
        Some(json!({"logical_date": null})),
    );
    assert_eq!(st, 200, "{run}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, p) = get_json(&s.url("/api/v2/pools/p1"));
        if p["running_slots"] == 2 {
            assert_eq!(
                (p["occupied_slots"].as_i64(), p["open_slots"].as_i64()),
                (Some(2), Some(1)),
                "{p}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the task never ran in p1: {p}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let (_, r) = call(
        &s,
        "PATCH",
        "/api/v2/pools",
        Some(json!({"actions": [
            {"action": "create", "entities": [{"name": "b1", "slots": 1}, {"name": "b2", "slots": 2}]},
            {"action": "update", "update_mask": ["slots"], "entities": [{"name": "b1", "slots": 5}]},
            {"action": "delete", "entities": ["b2", "default_pool"]},
        ]})),
    );
    assert_eq!(r["create"]["success"], json!(["b1", "b2"]), "{r}");
    assert_eq!(r["update"]["success"], json!(["b1"]), "{r}");
    assert_eq!(r["delete"]["success"], json!(["b2"]), "{r}");
    assert_eq!(r["delete"]["errors"][0]["status_code"], 400, "{r}");
    let (_, page) = get_json(&s.url("/api/v2/pools?order_by=-name&limit=1&pool_name_pattern=b"));
    assert_eq!(
        (
            page["total_entries"].as_i64(),
            page["pools"][0]["slots"].as_i64()
        ),
        (Some(1), Some(5)),
        "{page}"
    );
    assert_eq!(call(&s, "DELETE", "/api/v2/pools/b1", None).0, 204);
    let names: Vec<String> = events(&s, "event_pattern=pool")
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    for e in ["post_pool", "patch_pool", "bulk_pools", "delete_pool"] {
        assert!(names.iter().any(|n| n == e), "{e} missing from {names:?}");
    }
}

const TEMPLATED: &str = r#"
from airflow.sdk import DAG, task, Variable
from airflow.sdk.bases.hook import BaseHook
from airflow.providers.standard.operators.bash import BashOperator
with DAG("uses_admin", schedule=None):
    echo = BashOperator(task_id="echo", bash_command="echo {{ var.value.greeting }} from {{ conn.my_http.host }}")

    @task
    def py():
        c = BaseHook.get_connection("my_http")
        return Variable.get("greeting") + "|" + c.host + "|" + str(c.port)

    echo >> py()
"#;

#[test]
fn tasks_see_variables_and_connections_made_through_the_api() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("uses_admin.py"), TEMPLATED).unwrap();
    let s = serve(home.path(), dags.path(), &[]);
    assert_eq!(
        call(
            &s,
            "POST",
            "/api/v2/variables",
            Some(json!({"key": "greeting", "value": "hello"}))
        )
        .0,
        201
    );
    let conn = json!({"connection_id": "my_http", "conn_type": "http", "host": "api.example.org", "port": 8443, "password": "pw"});
    assert_eq!(call(&s, "POST", "/api/v2/connections", Some(conn)).0, 201);
    let (run, run_path) = run_to_success(&s, "uses_admin");
    let (_, ti) = get_json(&s.url(&format!("{run_path}/taskInstances/echo")));
    assert_eq!(
        ti["rendered_fields"]["bash_command"], "echo hello from api.example.org",
        "{ti}"
    );
    let (_, x) = get_json(&s.url(&format!(
        "{run_path}/taskInstances/py/xcomEntries/return_value"
    )));
    assert!(x.to_string().contains("hello|api.example.org|8443"), "{x}");

    // The trigger is in the audit log with its DAG and run.
    let log = events(&s, "event=trigger_dag_run&dag_id=uses_admin");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["run_id"], run["dag_run_id"]);
    assert_eq!(log[0]["owner"], "Anonymous");
}

const TWO: &str = r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("two", schedule=None):
    BashOperator(task_id="a", bash_command="echo a") >> BashOperator(task_id="b", bash_command="echo b")
"#;

#[test]
fn every_mutation_shows_in_event_logs_and_dry_runs_do_not() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("two.py"), TWO).unwrap();
    let s = serve(home.path(), dags.path(), &[]);
    let before = get_json(&s.url("/api/v2/eventLogs")).1["total_entries"]
        .as_i64()
        .unwrap();
    assert_eq!(
        call(
            &s,
            "PATCH",
            "/api/v2/dags/two",
            Some(json!({"is_paused": false}))
        )
        .0,
        200
    );
    let (run, run_path) = run_to_success(&s, "two");
    let rid = run["dag_run_id"].as_str().unwrap().to_string();
    // Dry runs change nothing and are not recorded.
    assert_eq!(
        call(
            &s,
            "POST",
            &format!("{run_path}/clear"),
            Some(json!({"dry_run": true}))
        )
        .0,
        200
    );
    assert_eq!(
        call(
            &s,
            "POST",
            "/api/v2/dags/two/clearTaskInstances",
            Some(json!({"dry_run": true, "only_failed": false}))
        )
        .0,
        200
    );
    assert_eq!(
        call(
            &s,
            "PATCH",
            &format!("{run_path}/taskInstances/a/dry_run"),
            Some(json!({"new_state": "failed"}))
        )
        .0,
        200
    );
    let mid = get_json(&s.url("/api/v2/eventLogs")).1["total_entries"]
        .as_i64()
        .unwrap();
    assert_eq!(mid, before + 2, "patch_dag and trigger only");

    assert_eq!(
        call(&s, "PATCH", &run_path, Some(json!({"note": "checked"}))).0,
        200
    );
    assert_eq!(
        call(
            &s,
            "PATCH",
            &format!("{run_path}/taskInstances/a"),
            Some(json!({"new_state": "success"}))
        )
        .0,
        200
    );
    assert_eq!(
        call(
            &s,
            "POST",
            &format!("{run_path}/clear"),
            Some(json!({"dry_run": false}))
        )
        .0,
        200
    );
    assert_eq!(
        call(
            &s,
            "POST",
            "/api/v2/dags/two/clearTaskInstances",
            Some(json!({"dry_run": false, "only_failed": false, "dag_run_id": rid}))
        )
        .0,
        200
    );
    assert_eq!(call(&s, "DELETE", &run_path, None).0, 204);

    let (_, page) = get_json(&s.url("/api/v2/eventLogs?dag_id=two&order_by=-when"));
    assert_same_shape(&airflow_sample("event_logs.json"), &page, "event_logs");
    let names: Vec<&str> = page["event_logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "delete_dag_run",
            "post_clear_task_instances",
            "clear_dag_run",
            "patch_task_instance",
            "patch_dag_run",
            "trigger_dag_run",
            "patch_dag"
        ]
    );
    for e in page["event_logs"].as_array().unwrap() {
        assert_eq!(e["owner"], "Anonymous", "{e}");
        assert_eq!(e["dag_id"], "two");
        if e["event"] != "patch_dag" {
            assert_eq!(e["run_id"], rid.as_str(), "{e}");
        }
        assert!(e["when"].as_str().unwrap().ends_with('Z'));
        assert!(
            serde_json::from_str::<Value>(e["extra"].as_str().unwrap()).unwrap()["method"]
                .is_string()
        );
    }
    assert_eq!(page["event_logs"][3]["task_id"], "a");

    // Filters, paging, one by id, bad input.
    let first = &page["event_logs"][0];
    let (st, one) = get_json(&s.url(&format!("/api/v2/eventLogs/{}", first["event_log_id"])));
    assert_eq!((st, &one), (200, first));
    let (_, v) = get_json(&s.url(
        "/api/v2/eventLogs?dag_id=two&included_events=patch_dag&included_events=delete_dag_run",
    ));
    assert_eq!(v["total_entries"], 2);
    let (_, v) = get_json(&s.url("/api/v2/eventLogs?dag_id=two&excluded_events=patch_dag&limit=2&offset=1&order_by=event_log_id"));
    assert_eq!(
        (
            v["total_entries"].as_i64(),
            v["event_logs"].as_array().unwrap().len()
        ),
        (Some(6), 2)
    );
    assert_eq!(v["event_logs"][0]["event"], "patch_dag_run", "{v}");
    let (_, v) = get_json(&s.url(&format!(
        "/api/v2/eventLogs?dag_id=two&after={}",
        first["when"].as_str().unwrap()
    )));
    assert_eq!(v["total_entries"], 0);
    let (_, v) = get_json(
        &s.url("/api/v2/eventLogs?owner=Anonymous&dag_id_pattern=tw&run_id_prefix_pattern=manual"),
    );
    assert_eq!(v["total_entries"], 6, "{v}");
    rejects(
        &s,
        "GET",
        "/api/v2/eventLogs?before=yesterday",
        None,
        422,
        "before",
    );
    rejects(
        &s,
        "GET",
        "/api/v2/eventLogs?order_by=colour",
        None,
        400,
        "colour",
    );
    rejects(&s, "GET", "/api/v2/eventLogs/999999", None, 404, "999999");
    rejects(
        &s,
        "GET",
        "/api/v2/eventLogs/abc",
        None,
        422,
        "event_log_id",
    );
}

#[test]
fn config_hides_secrets_in_json_and_text() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
    let s = serve(
        home.path(),
        dags.path(),
        &[
            ("LEOFLOW_SECRET_KEY", "sk-very-secret-value"),
            ("LEOFLOW_ENCRYPTION_KEY", key),
        ],
    );
    let (st, v) = get_json(&s.url("/api/v2/config"));
    assert_eq!(st, 200, "{v}");
    assert_same_shape(&airflow_sample("config_json.json"), &v, "config");
    let text = v.to_string();
    assert!(
        !text.contains("sk-very-secret-value") && !text.contains(key),
        "{text}"
    );
    let core = v["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "core")
        .unwrap();
    let opt = |k: &str| {
        core["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == k)
            .map(|o| o["value"].clone())
    };
    assert!(
        opt("dags_folder")
            .unwrap()
            .as_str()
            .unwrap()
            .ends_with(dags.path().file_name().unwrap().to_str().unwrap())
    );
    assert_eq!(opt("fernet_key"), Some(json!("< hidden >")));

    let (st, v) = get_json(&s.url("/api/v2/config/section/api/option/secret_key"));
    assert_eq!(st, 200);
    assert_eq!(
        v,
        json!({"sections": [{"name": "api", "options": [{"key": "secret_key", "value": "< hidden >"}]}]})
    );
    let r = http()
        .get(s.url("/api/v2/config?section=api"))
        .header("Accept", "text/plain")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().unwrap();
    assert!(
        body.starts_with("[api]\n") && body.contains("secret_key = < hidden >\n"),
        "{body}"
    );
    assert!(!body.contains("sk-very-secret-value"));
    let r = http()
        .get(s.url("/api/v2/config"))
        .header("Accept", "text/html")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 406);
    rejects(&s, "GET", "/api/v2/config?section=nope", None, 404, "nope");
    rejects(
        &s,
        "GET",
        "/api/v2/config/section/core/option/nope",
        None,
        404,
        "core/nope",
    );
}

#[test]
fn resources_lite_does_not_have_answer_empty_in_airflows_shape() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let s = serve(home.path(), dags.path(), &[]);
    let (st, v) = get_json(&s.url("/api/v2/plugins"));
    assert_eq!((st, &v), (200, &json!({"plugins": [], "total_entries": 0})));
    assert_same_shape(&airflow_sample("plugins.json"), &v, "plugins");
    let (_, v) = get_json(&s.url("/api/v2/providers"));
    assert_same_shape(&airflow_sample("providers.json"), &v, "providers");
    assert_eq!(v["providers"], json!([]));
    for (path, list) in [
        ("/api/v2/plugins/importErrors", "import_errors"),
        ("/api/v2/assets", "assets"),
        ("/api/v2/assets/aliases", "asset_aliases"),
        ("/api/v2/assets/events", "asset_events"),
        ("/api/v2/dags/any/assets/queuedEvents", "queued_events"),
    ] {
        let (st, v) = get_json(&s.url(path));
        assert_eq!(st, 200, "{path}: {v}");
        assert_eq!(v, json!({list: [], "total_entries": 0}), "{path}");
    }
    rejects(&s, "GET", "/api/v2/assets/7", None, 404, "7");
    rejects(&s, "GET", "/api/v2/assets/seven", None, 422, "asset_id");
    rejects(&s, "GET", "/api/v2/assets/aliases/3", None, 404, "3");
    rejects(
        &s,
        "POST",
        "/api/v2/assets/events",
        Some(json!({"asset_id": 4})),
        404,
        "4",
    );
    rejects(&s, "GET", "/api/v2/plugins?limit=-1", None, 422, "limit");
}
