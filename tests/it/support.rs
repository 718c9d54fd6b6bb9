//! Helpers shared by the integration tests: start the real binary, talk HTTP to it, and on
//! failure show what it printed.
//!
//! Authentication: [`Server::start`] and [`Server::start_with`] pass `--no-auth` (allowed on
//! loopback), so tests that are not about auth talk without a token. Tests of auth use
//! [`Server::start_secure`] / [`Server::start_secure_with`] and get tokens with
//! [`Server::token`]; set `LEOFLOW_ADMIN_PASSWORD` on the command to know the admin's password.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leoflow"))
}

/// A `leoflow` command with a clean environment: only PATH, HOME and LEOFLOW_HOME.
pub fn leoflow(home: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LEOFLOW_HOME", home)
        .stdin(Stdio::null());
    c
}

/// Runs a command to completion: (exit code, stdout, stderr).
pub fn run(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("running leoflow");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `leoflow lite` server, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    #[allow(dead_code)]
    pub home: PathBuf,
    pub output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `leoflow lite --no-auth` on `home` with `--port 0` and waits for its banner.
    pub fn start(home: &Path, extra: &[&str]) -> Server {
        Self::start_with(leoflow(home), home, extra)
    }

    /// [`Server::start`] with a prepared command (environment, cwd).
    pub fn start_with(cmd: Command, home: &Path, extra: &[&str]) -> Server {
        Self::spawn(cmd, home, &["--no-auth"], extra)
    }

    /// Starts `leoflow lite` with authentication on.
    #[allow(dead_code)]
    pub fn start_secure(home: &Path, extra: &[&str]) -> Server {
        Self::spawn(leoflow(home), home, &[], extra)
    }

    /// [`Server::start_secure`] with a prepared command (e.g. `LEOFLOW_ADMIN_PASSWORD`).
    #[allow(dead_code)]
    pub fn start_secure_with(cmd: Command, home: &Path, extra: &[&str]) -> Server {
        Self::spawn(cmd, home, &[], extra)
    }

    /// Signs in with `POST /auth/token` (JSON) and returns the access token.
    #[allow(dead_code)]
    pub fn token(&self, username: &str, password: &str) -> String {
        let r = http()
            .post(self.url("/auth/token"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(status, 201, "sign-in as {username} failed: {body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    fn spawn(mut cmd: Command, home: &Path, auth: &[&str], extra: &[&str]) -> Server {
        // New DAGs start unpaused (the dev-loop setting) unless a test says otherwise: runs of
        // paused DAGs wait, as in Airflow.
        if !cmd
            .get_envs()
            .any(|(k, _)| k == "LEOFLOW_DAGS_PAUSED_AT_CREATION")
        {
            cmd.env("LEOFLOW_DAGS_PAUSED_AT_CREATION", "false");
        }
        cmd.args(["lite", "--port", "0"]).args(auth).args(extra);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning leoflow lite");
        let output = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let out2 = output.clone();
        let r1 = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                out2.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(url) = line.trim().strip_prefix("UI") {
                    let _ = tx.send(url.trim().trim_end_matches('/').to_string());
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let out3 = output.clone();
        let r2 = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out3.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "leoflow lite did not print its banner within 20 s; output:\n{}",
                    output.lock().unwrap()
                );
            }
        };
        Server {
            child,
            base,
            home: home.to_path_buf(),
            output,
            readers: vec![r1, r2],
        }
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a signal and waits (bounded) for the exit code.
    pub fn stop(mut self, signal: i32) -> (i32, Duration) {
        let started = Instant::now();
        // SAFETY: kill takes plain integers and touches no memory; the pid is our own live
        // child (not yet waited for, so not reused), signalled alone (positive pid).
        unsafe { libc::kill(self.child.id() as i32, signal) };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                return (status.code().unwrap_or(-1), started.elapsed());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "server did not exit within 10 s of signal {signal}; output:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP client with short timeouts.
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// GET `url` and parse JSON: (status, body).
pub fn get_json(url: &str) -> (u16, serde_json::Value) {
    let r = http()
        .get(url)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    let v =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"));
    (status, v)
}

/// The JSON type name of a value, for shape comparisons.
pub fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Reads an Airflow sample from `../shared/reference/airflow-3.2/samples/NAME`: the body after
/// the `//` header lines.
pub fn airflow_sample(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/airflow")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Keys whose values are user data: compared by JSON kind only.
const FREE_FORM: &[&str] = &["conf", "rendered_fields", "params", "default_args", "extra"];

/// Asserts `actual` has every key of `expected` with the same JSON kind, recursively into
/// objects (a `null` on either side matches any kind: Airflow's fields are nullable).
pub fn assert_same_shape(expected: &serde_json::Value, actual: &serde_json::Value, at: &str) {
    match (expected, actual) {
        (serde_json::Value::Object(e), serde_json::Value::Object(a)) => {
            for (k, ev) in e {
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}: missing key {k:?} in {actual}"));
                // User data (run conf, rendered fields, params) has no fixed shape.
                if FREE_FORM.contains(&k.as_str()) {
                    assert!(
                        ev.is_null() || av.is_null() || kind(ev) == kind(av),
                        "{at}.{k}"
                    );
                    continue;
                }
                assert_same_shape(ev, av, &format!("{at}.{k}"));
            }
        }
        (serde_json::Value::Null, _) | (_, serde_json::Value::Null) => {}
        (e, a) => assert_eq!(kind(e), kind(a), "{at}: expected {e}, got {a}"),
    }
}

/// A run id as a URL path segment.
#[allow(dead_code)]
pub fn enc_run(run_id: &str) -> String {
    run_id.replace(':', "%3A").replace('+', "%2B")
}

/// Triggers `dag_id` (its DAG parsed within `within`): the new run's id.
#[allow(dead_code)]
pub fn trigger_when_parsed(
    s: &Server,
    dag_id: &str,
    conf: serde_json::Value,
    within: Duration,
) -> String {
    let deadline = Instant::now() + within;
    loop {
        let r = http()
            .post(s.url(&format!("/api/v2/dags/{dag_id}/dagRuns")))
            .json(&serde_json::json!({"logical_date": null, "conf": conf}))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().unwrap_or_default();
        if status == 200 {
            return body["dag_run_id"].as_str().unwrap().to_string();
        }
        assert!(
            status == 404 && Instant::now() < deadline,
            "triggering {dag_id}: {status} {body}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until a run ends (within `within`): the run and its task instances by
/// `task_id[map_index]` (`task_id` alone when not mapped).
#[allow(dead_code)]
pub fn run_result(
    s: &Server,
    dag_id: &str,
    run_id: &str,
    within: Duration,
) -> (
    serde_json::Value,
    std::collections::BTreeMap<String, serde_json::Value>,
) {
    let deadline = Instant::now() + within;
    let run_url = s.url(&format!(
        "/api/v2/dags/{dag_id}/dagRuns/{}",
        enc_run(run_id)
    ));
    loop {
        let (_, run) = get_json(&run_url);
        if run["state"] == "success" || run["state"] == "failed" {
            let (_, tis) = get_json(&format!("{run_url}/taskInstances?limit=100"));
            let map = tis["task_instances"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    let id = t["task_id"].as_str().unwrap();
                    let key = match t["map_index"].as_i64() {
                        Some(i) if i >= 0 => format!("{id}[{i}]"),
                        _ => id.to_string(),
                    };
                    (key, t.clone())
                })
                .collect();
            return (run, map);
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} of {dag_id} did not finish: {run}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The text of a try's log (`attempt=N.log` records), lines joined.
#[allow(dead_code)]
pub fn try_log(home: &Path, dag_id: &str, run_id: &str, task_id: &str, attempt: i64) -> String {
    let p = home
        .join("logs")
        .join(format!("dag_id={dag_id}"))
        .join(format!("run_id={run_id}"))
        .join(format!("task_id={task_id}"))
        .join(format!("attempt={attempt}.log"));
    std::fs::read_to_string(&p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["line"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
