//! Issue 2, the Lite foundation: endpoints, lifecycle, locking, migrations, doctor.

use crate::support::*;
use serde_json::json;

#[test]
fn version_health_and_liveness_have_airflows_shapes() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);

    let (status, v) = get_json(&s.url("/api/v2/version"));
    assert_eq!(status, 200);
    assert_same_shape(&airflow_sample("version.json"), &v, "version");
    assert!(v["version"].as_str().unwrap().starts_with("3."), "{v}");

    let (status, h) = get_json(&s.url("/api/v2/monitor/health"));
    assert_eq!(status, 200);
    assert_eq!(h["metadatabase"]["status"], "healthy");
    for (component, field) in [
        ("scheduler", "latest_scheduler_heartbeat"),
        ("triggerer", "latest_triggerer_heartbeat"),
        ("dag_processor", "latest_dag_processor_heartbeat"),
    ] {
        let c = h[component]
            .as_object()
            .unwrap_or_else(|| panic!("{component} missing: {h}"));
        assert!(
            c.contains_key("status") && c.contains_key(field),
            "{component}: {h}"
        );
    }
    assert_same_shape(&airflow_sample("health.json"), &h, "health");

    let r = http().get(s.url("/healthz")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "ok");
}

#[test]
fn errors_and_unknown_routes_use_the_detail_format() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    let (status, v) = get_json(&s.url("/api/v2/no/such/route"));
    assert_eq!(status, 404);
    assert_eq!(v, json!({"detail": "Not Found"}));

    let r = http().post(s.url("/api/v2/version")).send().unwrap();
    assert_eq!(r.status(), 405);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v, json!({"detail": "Method Not Allowed"}));
}

#[test]
fn foreign_host_header_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    let r = http()
        .get(s.url("/api/v2/version"))
        .header("Host", "attacker.example:8088")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().unwrap();
    assert!(
        v["detail"].as_str().unwrap().contains("attacker.example"),
        "{v}"
    );
    let r = http()
        .get(s.url("/api/v2/version"))
        .header("Host", "localhost:8088")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn metrics_count_requests_by_route_and_report_memory() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    for _ in 0..3 {
        get_json(&s.url("/api/v2/version"));
    }
    get_json(&s.url("/api/v2/nope"));
    let text = http()
        .get(s.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.contains(
            r#"leoflow_http_requests_total{method="GET",route="/api/v2/version",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("leoflow_build_info{version="), "{text}");
    assert!(text.contains("process_resident_memory_bytes "), "{text}");
}

#[test]
fn responses_are_gzipped_when_asked() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    // Enough requests that /metrics is over the compression threshold.
    for _ in 0..5 {
        get_json(&s.url("/api/v2/version"));
    }
    let r = http()
        .get(s.url("/metrics"))
        .header("Accept-Encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");
}

#[test]
fn sigterm_exits_zero_quickly_and_restart_reopens_the_same_db() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    get_json(&s.url("/api/v2/version"));
    let (code, took) = s.stop(libc::SIGTERM);
    assert_eq!(code, 0);
    assert!(took.as_secs_f64() < 5.0, "took {took:?}");

    let db = home.path().join("leoflow.db");
    let applied_at = || -> String {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row(
            "SELECT applied_at FROM schema_migrations WHERE version = 1",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let first = applied_at();
    // The WAL was checkpointed into the main file on the clean stop.
    let wal = home.path().join("leoflow.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);

    let s = Server::start(home.path(), &[]);
    let (status, h) = get_json(&s.url("/api/v2/monitor/health"));
    assert_eq!(
        (status, h["metadatabase"]["status"].as_str()),
        (200, Some("healthy"))
    );
    let (code, _) = s.stop(libc::SIGINT);
    assert_eq!(code, 0);
    assert_eq!(
        applied_at(),
        first,
        "migrations were applied again on restart"
    );
}

#[test]
fn a_second_server_on_the_same_home_names_the_holder() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    let pid = s.child.id();
    let mut cmd = leoflow(home.path());
    cmd.args(["lite", "--port", "0"]);
    let (code, _out, err) = run(cmd);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("PID {pid}")), "{err}");
    assert!(err.contains("already using the home"), "{err}");
}

#[test]
fn a_database_from_a_newer_binary_is_refused_and_left_untouched() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("leoflow.db");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE from_the_future(x); INSERT INTO from_the_future VALUES (1); PRAGMA user_version = 4242;")
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let mut cmd = leoflow(home.path());
    cmd.args(["lite", "--port", "0"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("schema version 4242") && err.contains("newer Leoflow"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the database file changed"
    );

    let mut cmd = leoflow(home.path());
    cmd.args(["db", "check"]);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("4242"), "{out}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn db_commands_migrate_check_and_reset() {
    let home = tempfile::tempdir().unwrap();
    let mut c = leoflow(home.path());
    c.args(["db", "check"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(
        out.contains("schema version:  0") && out.contains("0001  0001_init"),
        "{out}"
    );

    let mut c = leoflow(home.path());
    c.args(["db", "migrate"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("applied 0001"), "{out}");

    let mut c = leoflow(home.path());
    c.args(["db", "check"]);
    let (_, out, _) = run(c);
    assert!(out.contains("pending:         none"), "{out}");

    // Without --yes, anything but "yes" aborts and deletes nothing.
    let mut c = leoflow(home.path());
    c.args(["db", "reset"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("aborted"), "{err}");
    assert!(home.path().join("leoflow.db").exists());

    let marker = home.path().join("logs/marker.log");
    std::fs::write(&marker, "x").unwrap();
    let mut c = leoflow(home.path());
    c.args(["db", "reset", "--yes"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    // The latest schema version is the highest number among the embedded migrations.
    let latest = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".sql")
                .and_then(|n| n.split('_').next())
                .and_then(|n| n.parse::<u32>().ok())
        })
        .max()
        .unwrap();
    assert!(out.contains(&format!("schema version {latest}")), "{out}");
    assert!(!marker.exists());
}

#[test]
fn doctor_reports_a_missing_python_as_a_blocker() {
    let home = tempfile::tempdir().unwrap();
    let mut c = leoflow(home.path());
    c.env("PATH", "").args(["doctor", "--port", "0"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 1, "{out}");
    let row = out.lines().find(|l| l.starts_with("python")).unwrap();
    assert!(row.contains("BLOCKER"), "{out}");
    assert!(out.contains("LEOFLOW_PYTHON"), "{out}");

    let mut c = leoflow(home.path());
    c.args(["doctor", "--port", "0"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("python") && l.contains(" ok ")),
        "{out}"
    );
}

#[test]
fn doctor_reports_a_busy_port_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let mut c = leoflow(home.path());
    c.args(["doctor", "--port", &port]);
    let (code, out, _) = run(c);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--port"), "{out}");
}

#[test]
fn print_config_shows_sources_and_masks_secrets() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("leoflow.toml"), "parallelism = 7\n").unwrap();
    let mut c = leoflow(home.path());
    c.env("LEOFLOW_SECRET_KEY", "very-secret")
        .env("LEOFLOW_PORT", "9999")
        .args(["lite", "--print-config", "--port", "9100"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("very-secret"), "{out}");
    let line = |k: &str| {
        out.lines()
            .find(|l| l.starts_with(k))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("port").contains("9100") && line("port").ends_with("# flag"),
        "{out}"
    );
    assert!(
        line("parallelism").contains("7") && line("parallelism").contains("leoflow.toml"),
        "{out}"
    );
    assert!(
        line("secret_key").contains("********") && line("secret_key").ends_with("# env"),
        "{out}"
    );
}

#[test]
fn no_auth_off_loopback_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let mut c = leoflow(home.path());
    c.args(["lite", "--host", "0.0.0.0", "--port", "0", "--no-auth"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(
        err.contains("--no-auth is only allowed on a loopback address") && err.contains("--host"),
        "{err}"
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &["--log-format", "json"]);
    let (code, _) = {
        let out_before = s.output();
        assert!(out_before.contains("ready in"), "{out_before}");
        let o = s.output.clone();
        let r = s.stop(libc::SIGTERM);
        let text = o.lock().unwrap().clone();
        let json_lines: Vec<&str> = text.lines().filter(|l| l.starts_with('{')).collect();
        assert!(!json_lines.is_empty(), "{text}");
        for l in json_lines {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert!(
                v.get("level").is_some() && v.get("timestamp").is_some(),
                "{l}"
            );
        }
        r
    };
    assert_eq!(code, 0);
}

#[test]
fn help_of_every_command_has_examples() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["lite", "--help"],
        vec!["doctor", "--help"],
        vec!["db", "--help"],
        vec!["db", "reset", "--help"],
        vec!["version", "--help"],
    ] {
        let mut c = leoflow(home.path());
        c.args(&args);
        let (code, out, _) = run(c);
        assert_eq!(code, 0);
        assert!(out.contains("Example"), "{args:?}: {out}");
    }
}

/// Runs a command that should exit on its own, killing it after `limit`: (exit code, stdout,
/// stderr), with `None` for a process that was still running (e.g. a server that started).
fn run_bounded(
    mut cmd: std::process::Command,
    limit: std::time::Duration,
) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    cmd.stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    let mut child = cmd.spawn().expect("spawning leoflow");
    let deadline = std::time::Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status.code().unwrap_or(-1));
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    (code, read(&out), read(&err))
}

/// Issue 11: an unknown executor is a start-up error (exit 2) naming the value, where it came
/// from and what is accepted. Issue 12: `docker` is accepted, and without an engine that
/// answers it is a start-up error naming the sockets tried, never a server that runs its
/// tasks elsewhere.
#[test]
fn issue_11_an_unavailable_or_unknown_executor_is_refused_at_start_up() {
    let cases: [(&str, &str, &str, &str); 5] = [
        ("docker", "flag", "no container engine answered", ""),
        ("docker", "env", "no container engine answered", ""),
        ("docker", "toml", "no container engine answered", ""),
        ("kubernetes", "flag", "invalid executor", "flag"),
        ("kubernetes", "env", "invalid executor", "env"),
    ];
    for (value, form, says, origin) in cases {
        let home = tempfile::tempdir().unwrap();
        let mut c = leoflow(home.path());
        // A server that wrongly starts creates its DAG folder in the cwd.
        c.current_dir(home.path())
            .env(
                "DOCKER_HOST",
                format!("unix://{}/nothing.sock", home.path().display()),
            )
            .args(["lite", "--port", "0", "--no-auth"]);
        match form {
            "flag" => {
                c.args(["--executor", value]);
            }
            "env" => {
                c.env("LEOFLOW_EXECUTOR", value);
            }
            _ => std::fs::write(
                home.path().join("leoflow.toml"),
                format!("executor = {value:?}\n"),
            )
            .unwrap(),
        }
        let (code, out, err) = run_bounded(c, std::time::Duration::from_secs(10));
        let case = format!("executor {value:?} by {form}");
        assert!(
            !out.contains("ready in"),
            "{case}: a server started:\n{out}"
        );
        assert!(err.contains(says), "{case}: {err}");
        if value == "docker" {
            assert_eq!(code, Some(1), "{case}: stdout:\n{out}\nstderr:\n{err}");
            assert!(
                err.contains("nothing.sock"),
                "{case}: names the socket: {err}"
            );
        } else {
            assert_eq!(code, Some(2), "{case}: stdout:\n{out}\nstderr:\n{err}");
            assert!(
                err.contains(&format!("executor \"{value}\""))
                    && err.contains(&format!("from {origin}"))
                    && err.contains("accepted: subprocess, docker"),
                "{case}: {err}"
            );
        }
    }
}

/// `doctor` reports the container engine as it is: a socket that does not answer the engine
/// API is named with the error (informational with the default executor, a blocker with
/// `--executor docker`).
#[test]
fn issue_11_doctor_does_not_claim_a_docker_executor() {
    let home = tempfile::tempdir().unwrap();
    let sock = home.path().join("docker.sock");
    let _engine = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    for (executor, status) in [("subprocess", " info "), ("docker", " BLOCKER ")] {
        let mut c = leoflow(home.path());
        c.env("DOCKER_HOST", format!("unix://{}", sock.display()))
            .env("LEOFLOW_EXECUTOR", executor)
            .current_dir(home.path())
            .args(["doctor", "--port", "0"]);
        let (_, out, err) = run_bounded(c, std::time::Duration::from_secs(60));
        let row = out
            .lines()
            .find(|l| l.starts_with("docker"))
            .unwrap_or_else(|| panic!("no docker row: {out}{err}"));
        assert!(row.contains(status), "{executor}: {out}");
        assert!(row.contains("docker.sock"), "{executor}: {out}");
    }
}

/// The README's quick start, as written (issue #11): the bundled examples, the admin password
/// from the home, a token, the DAG list, unpause (DAGs are paused at creation, as in Airflow),
/// trigger — and the run succeeds.
#[test]
fn readme_quick_start_works_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for step in [
        "lite examples/dags",
        "cat ~/.leoflow/admin_password",
        "-X PATCH http://127.0.0.1:8088/api/v2/dags/templated_bash",
        r#"-d '{"is_paused": false}'"#,
        "-X POST http://127.0.0.1:8088/api/v2/dags/templated_bash/dagRuns",
    ] {
        assert!(readme.contains(step), "the quick start lost {step:?}");
    }
    let home = tempfile::tempdir().unwrap();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/dags");
    let mut cmd = leoflow(home.path());
    cmd.env("LEOFLOW_DAGS_PAUSED_AT_CREATION", "true");
    let s = Server::start_secure_with(cmd, home.path(), &[examples]);
    let password = std::fs::read_to_string(home.path().join("admin_password")).unwrap();
    let token = s.token("admin", password.trim());
    let auth = |r: reqwest::blocking::RequestBuilder| r.bearer_auth(&token);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let r = auth(http().get(s.url("/api/v2/dags/templated_bash")))
            .send()
            .unwrap();
        if r.status() == 200 {
            let d: serde_json::Value = r.json().unwrap();
            assert_eq!(d["is_paused"], true, "paused at creation: {d}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", s.output());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let r = auth(http().patch(s.url("/api/v2/dags/templated_bash")))
        .json(&json!({"is_paused": false}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = auth(http().post(s.url("/api/v2/dags/templated_bash/dagRuns")))
        .json(&json!({"logical_date": null}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let run: serde_json::Value = r.json().unwrap();
    let url = s.url(&format!(
        "/api/v2/dags/templated_bash/dagRuns/{}",
        run["dag_run_id"]
            .as_str()
            .unwrap()
            .replace(':', "%3A")
            .replace('+', "%2B")
    ));
    loop {
        let run: serde_json::Value = auth(http().get(&url)).send().unwrap().json().unwrap();
        if run["state"] == "success" {
            break;
        }
        assert_ne!(run["state"], "failed", "{run}\n{}", s.output());
        assert!(
            std::time::Instant::now() < deadline,
            "{run}\n{}",
            s.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
