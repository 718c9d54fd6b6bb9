//! Benchmark harness for Leoflow Lite (not a timed test: it prints figures).
//!
//! Run with `cargo bench --bench lite` (all sections) or `cargo bench --bench lite -- startup`
//! (sections: startup, parse, reload, engine, containers, deploy, api, ui; `containers` needs a
//! container engine: `DOCKER_HOST` or a standard socket).
//! Each section starts the real release-profile binary on a temp home and a free port.

mod lite_containers;
mod lite_deploy;
mod lite_ui;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leoflow"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(home: &Path, port: u16, dags: &Path) -> Child {
    spawn_with(home, port, dags, &[], &[])
}

/// [`spawn`] with extra environment variables and `lite` arguments.
fn spawn_with(home: &Path, port: u16, dags: &Path, envs: &[(&str, &str)], extra: &[&str]) -> Child {
    Command::new(bin())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LEOFLOW_DAGS_PAUSED_AT_CREATION", "false")
        .envs(envs.iter().copied())
        .args(["--home"])
        .arg(home)
        .args(["lite", "--no-auth", "--port", &port.to_string()])
        .args(extra)
        .arg(dags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn leoflow")
}

/// One raw HTTP/1.1 GET; returns the status code.
fn get_status(port: u16, path: &str) -> Option<u16> {
    get(port, path).map(|(s, _)| s)
}

/// One raw HTTP/1.1 GET: (status, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn stop(mut child: Child) {
    // SAFETY: kill takes plain integers and touches no memory; the pid is our own live child
    // (not yet waited for, so it cannot have been reused), signalled alone (positive pid).
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Process start → first 200 from `/api/v2/monitor/health`; idle RSS after start.
fn startup() {
    const RUNS: usize = 20;
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for i in 0..RUNS {
        let home = tempfile::tempdir().unwrap();
        let dags = home.path().join("dags");
        std::fs::create_dir_all(&dags).unwrap();
        // Half the runs start on an existing home (migrations already applied).
        if i % 2 == 1 {
            let mut c = spawn(home.path(), free_port(), &dags);
            let out = c.stdout.take().unwrap();
            let _ = BufReader::new(out).lines().next();
            stop(c);
        }
        let port = free_port();
        let t0 = Instant::now();
        let child = spawn(home.path(), port, &dags);
        let deadline = t0 + Duration::from_secs(10);
        loop {
            if get_status(port, "/api/v2/monitor/health") == Some(200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "server did not answer within 10 s"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(1000));
        rss.push(rss_kib(child.id()) as f64 / 1024.0);
        stop(child);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rss.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("startup: process start -> first 200 from /api/v2/monitor/health ({RUNS} runs)");
    println!(
        "  median {:.1} ms   p95 {:.1} ms   min {:.1} ms   max {:.1} ms   (target < 100 ms)",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[0],
        times[times.len() - 1]
    );
    println!(
        "  idle RSS 1 s after start: median {:.1} MiB   max {:.1} MiB   (target < 25 MB)",
        percentile(&rss, 0.5),
        rss[rss.len() - 1]
    );
}

fn python() -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    leoflow::python::resolve(Path::new("python3"), Some(&path))
        .expect("python3")
        .executable
}

/// Writes `n` DAG files (a TaskFlow ETL with 5 tasks each) into `dir`.
fn write_dag_files(dir: &Path, n: usize) {
    const TEMPLATE: &str = r#"import pendulum
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG("bench_N", schedule="@daily", start_date=pendulum.datetime(2025, 1, 1), tags=["bench"]):
    @task
    def extract():
        return [1, 2, 3]

    @task
    def transform(xs):
        return sum(xs)

    @task
    def load(total):
        print(total)

    done = BashOperator(task_id="done", bash_command="echo N")
    start = BashOperator(task_id="start", bash_command="true")
    start >> load(transform(extract())) >> done
"#;
    for i in 0..n {
        std::fs::write(
            dir.join(format!("dag_{i:03}.py")),
            TEMPLATE.replace("N", &format!("{i:03}")),
        )
        .unwrap();
    }
}

/// Parse time per file (cold interpreter and warm worker) and for a folder of 200 files.
fn parse() {
    use leoflow::dag::{
        self,
        parser::{ParserConfig, ParserPool},
    };
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    write_dag_files(&dags, 200);
    let runtime = dag::runtime::ensure(&dir.path().join("runtime")).unwrap();
    let cfg = ParserConfig {
        python: python(),
        runtime,
        dags_folder: dags.clone(),
        timeout: Duration::from_secs(30),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let file = dags.join("dag_000.py");

    // Cold: a fresh worker (interpreter start + shim import) for each parse.
    let mut cold = Vec::new();
    for _ in 0..10 {
        let pool = ParserPool::new(cfg.clone(), 1);
        let t0 = Instant::now();
        let r = rt.block_on(pool.parse(&file));
        cold.push(t0.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.dags.len(), 1, "{:?}", r.import_errors);
        rt.block_on(pool.shutdown());
    }
    // Warm: the same worker parses again and again (a fork per parse).
    let pool = ParserPool::new(cfg.clone(), 1);
    rt.block_on(pool.warm_up());
    rt.block_on(pool.parse(&file));
    let mut warm = Vec::new();
    for _ in 0..50 {
        let t0 = Instant::now();
        rt.block_on(pool.parse(&file));
        warm.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    rt.block_on(pool.shutdown());
    // A folder of 200 files on a pool of 2 workers, worker start-up included.
    let mut folder = Vec::new();
    for _ in 0..3 {
        let pool = ParserPool::new(cfg.clone(), 2);
        let t0 = Instant::now();
        let results = rt.block_on(dag::load_path(&pool, &dags));
        folder.push(t0.elapsed().as_secs_f64() * 1000.0);
        let n: usize = results.iter().map(|r| r.dags.len()).sum();
        assert_eq!(n, 200);
        rt.block_on(pool.shutdown());
    }
    for v in [&mut cold, &mut warm, &mut folder] {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    println!("parse: one 5-task DAG file");
    println!(
        "  cold (new interpreter + shim): median {:.1} ms  p95 {:.1} ms",
        percentile(&cold, 0.5),
        percentile(&cold, 0.95)
    );
    println!(
        "  warm (forked from a warm worker): median {:.1} ms  p95 {:.1} ms",
        percentile(&warm, 0.5),
        percentile(&warm, 0.95)
    );
    println!(
        "  folder of 200 files, 2 workers: median {:.0} ms  ({:.1} ms/file)",
        percentile(&folder, 0.5),
        percentile(&folder, 0.5) / 200.0
    );
}

/// Save → change visible through the API; initial scan of 200 files; RSS over 5000 edits.
fn reload() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    write_dag_files(&dags, 200);
    // A DAG file whose task ids come from a helper module of the folder.
    let helper = dags.join("bench_names.py");
    std::fs::write(&helper, "EXTRA = 'helper_0'\n").unwrap();
    std::fs::write(
        dags.join("uses_helper.py"),
        "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\nfrom bench_names import EXTRA\n\nwith DAG('bench_helper', schedule=None):\n    BashOperator(task_id=EXTRA, bash_command='true')\n",
    )
    .unwrap();
    let port = free_port();
    let t0 = Instant::now();
    let child = spawn(dir.path(), port, &dags);
    loop {
        if let Some((200, body)) = get(port, "/api/v2/monitor/health")
            && body.contains("\"initial_scan_done\":true")
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "initial scan did not finish"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let scan = t0.elapsed().as_secs_f64();
    let file = dags.join("dag_007.py");
    let original = std::fs::read_to_string(&file).unwrap();
    let mut edit = |i: usize| -> f64 {
        let marker = format!("edit_{i}");
        let text = original.replace(
            "    start >> load",
            &format!(
                "    BashOperator(task_id=\"{marker}\", bash_command=\"true\")\n    start >> load"
            ),
        );
        let t = Instant::now();
        std::fs::write(&file, text).unwrap();
        loop {
            if let Some((200, body)) = get(port, "/api/v2/dags/bench_007/tasks")
                && body.contains(&marker)
            {
                return t.elapsed().as_secs_f64() * 1000.0;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "edit {i} never showed"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    let mut lat: Vec<f64> = (0..100).map(&mut edit).collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // Save a helper module → the DAG file importing it shows the change.
    let mut helper_lat: Vec<f64> = (1..=50)
        .map(|i| {
            let marker = format!("helper_{i}");
            let t = Instant::now();
            std::fs::write(&helper, format!("EXTRA = '{marker}'\n")).unwrap();
            loop {
                if let Some((200, body)) = get(port, "/api/v2/dags/bench_helper/tasks")
                    && body.contains(&format!("\"{marker}\""))
                {
                    return t.elapsed().as_secs_f64() * 1000.0;
                }
                assert!(
                    t.elapsed() < Duration::from_secs(10),
                    "helper edit {i} never showed"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .collect();
    helper_lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // RSS every 1000 edits: a leak shows as steady growth, caches as a plateau.
    let mut rss = vec![rss_kib(child.id())];
    for block in 0..5 {
        for i in 0..1000 {
            edit(100 + block * 1000 + i);
        }
        rss.push(rss_kib(child.id()));
    }
    stop(child);
    println!("reload: save -> new task visible in GET /api/v2/dags/{{id}}/tasks (100 edits)");
    println!(
        "  p50 {:.1} ms   p95 {:.1} ms   max {:.1} ms   (targets: p50 < 100 ms, p95 < 250 ms)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        lat[lat.len() - 1]
    );
    println!(
        "  helper module saved -> importing DAG updated (50 edits): p50 {:.1} ms   p95 {:.1} ms",
        percentile(&helper_lat, 0.5),
        percentile(&helper_lat, 0.95)
    );
    println!("  initial scan of 200 DAG files: {scan:.2} s (target < 5 s)");
    let mib: Vec<String> = rss
        .iter()
        .map(|k| format!("{:.1}", *k as f64 / 1024.0))
        .collect();
    println!(
        "  server RSS (MiB) after 100, 1100, 2100, 3100, 4100, 5100 edits: {}",
        mib.join(" / ")
    );
}

/// One raw HTTP/1.1 POST of JSON: (status, body).
fn post(port: u16, path: &str, body: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    Some((
        status,
        buf.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    ))
}

fn ts(v: &serde_json::Value) -> f64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp_micros() as f64
        / 1000.0
}

/// Triggers `dag_id`, waits for the run; returns (wall ms, task instances).
fn run_dag(port: u16, dag_id: &str) -> (f64, Vec<serde_json::Value>) {
    let t0 = Instant::now();
    let (status, body) = post(
        port,
        &format!("/api/v2/dags/{dag_id}/dagRuns"),
        r#"{"logical_date": null}"#,
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let run: serde_json::Value = serde_json::from_str(&body).unwrap();
    let run_id = run["dag_run_id"]
        .as_str()
        .unwrap()
        .replace(':', "%3A")
        .replace('+', "%2B");
    loop {
        let (_, body) = get(port, &format!("/api/v2/dags/{dag_id}/dagRuns/{run_id}")).unwrap();
        let r: serde_json::Value = serde_json::from_str(&body).unwrap();
        if r["state"] == "success" || r["state"] == "failed" {
            assert_eq!(r["state"], "success", "{r}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "{dag_id} did not finish"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let wall = t0.elapsed().as_secs_f64() * 1000.0;
    let mut tis = Vec::new();
    for page in 0..3 {
        let (_, body) = get(
            port,
            &format!(
                "/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100&offset={}",
                page * 100
            ),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        tis.extend(v["task_instances"].as_array().unwrap().iter().cloned());
    }
    (wall, tis)
}

/// Median gap from an upstream's end to its downstream's start, in a chain t00 >> t01 >> ...
fn chain_gap(tis: &[serde_json::Value]) -> f64 {
    let mut sorted: Vec<&serde_json::Value> = tis.iter().collect();
    sorted.sort_by(|a, b| a["task_id"].as_str().cmp(&b["task_id"].as_str()));
    let mut gaps: Vec<f64> = sorted
        .windows(2)
        .map(|w| ts(&w[1]["start_date"]) - ts(&w[0]["end_date"]))
        .collect();
    gaps.sort_by(|a, b| a.partial_cmp(b).unwrap());
    percentile(&gaps, 0.5)
}

/// Run-engine figures: chain of 20 bash `true` tasks and a fan-out of 200 bash tasks.
fn engine() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    let head = "from airflow.sdk import DAG, chain\nfrom airflow.providers.standard.operators.bash import BashOperator\n";
    std::fs::write(
        dags.join("bash_chain.py"),
        format!("{head}with DAG('bash_chain', schedule=None):\n    chain(*[BashOperator(task_id=f't{{i:02d}}', bash_command='true') for i in range(20)])\n"),
    )
    .unwrap();
    std::fs::write(
        dags.join("fan_out.py"),
        format!("{head}with DAG('fan_out', schedule=None, max_active_tasks=200):\n    start = BashOperator(task_id='start', bash_command='true')\n    start >> [BashOperator(task_id=f'f{{i:03d}}', bash_command='true') for i in range(200)]\n"),
    )
    .unwrap();
    std::fs::write(
        dags.join("py_chain.py"),
        "from airflow.sdk import DAG, task, chain\nwith DAG('py_chain', schedule=None):\n    @task\n    def step(n):\n        return n + 1\n    x = 0\n    for i in range(20):\n        x = step.override(task_id=f't{i:02d}')(x)\n",
    )
    .unwrap();
    std::fs::write(
        dags.join("py_sleep.py"),
        "import time\nfrom airflow.sdk import DAG, task, chain\nwith DAG('py_sleep', schedule=None):\n    @task\n    def nap():\n        time.sleep(0.01)\n    chain(*[nap.override(task_id=f't{i:02d}')() for i in range(40)])\n",
    )
    .unwrap();
    let port = free_port();
    let child = spawn(dir.path(), port, &dags);
    let t0 = Instant::now();
    loop {
        if let Some((200, body)) = get(port, "/api/v2/monitor/health")
            && body.contains("\"initial_scan_done\":true")
        {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(5));
    }
    let (py_wall, py_tis) = run_dag(port, "py_chain");
    assert_eq!(py_tis.len(), 20);
    let py_gap = chain_gap(&py_tis);
    let py_dur: f64 = {
        let mut d: Vec<f64> = py_tis
            .iter()
            .map(|t| t["duration"].as_f64().unwrap_or(0.0) * 1000.0)
            .collect();
        d.sort_by(|a, b| a.partial_cmp(b).unwrap());
        percentile(&d, 0.5)
    };
    let (sleep_wall, _) = run_dag(port, "py_sleep");
    let mut walls = Vec::new();
    let mut gaps = Vec::new();
    for _ in 0..3 {
        let (wall, tis) = run_dag(port, "bash_chain");
        assert_eq!(tis.len(), 20);
        walls.push(wall);
        gaps.push(chain_gap(&tis));
    }
    walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
    gaps.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (fan, tis) = run_dag(port, "fan_out");
    assert_eq!(tis.len(), 201);
    stop(child);
    println!("engine: subprocess executor");
    println!(
        "  chain of 20 bash `true`: wall {:.0} ms (median of 3), median gap upstream end -> downstream start {:.1} ms (target < 10 ms)",
        percentile(&walls, 0.5),
        percentile(&gaps, 0.5)
    );
    println!("  fan-out of 200 bash tasks: {fan:.0} ms trigger to run success (target < 5 s)");
    println!(
        "  chain of 20 python tasks passing an int: wall {py_wall:.0} ms, median scheduler gap {py_gap:.1} ms, median task duration {py_dur:.0} ms (a fork of the warm zygote + import of the DAG file; target gap < 30 ms)"
    );
    println!("  40 sequential python tasks sleeping 10 ms: {sleep_wall:.0} ms (target < 1.5 s)");
}

/// One keep-alive HTTP/1.1 connection: sends GETs, reads each answer by its Content-Length.
struct Conn {
    stream: std::io::BufReader<std::net::TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            stream: std::io::BufReader::new(s),
        }
    }

    /// One GET; returns the status and the body length.
    fn get(&mut self, path: &str) -> (u16, usize) {
        use std::io::{Read, Write};
        write!(
            self.stream.get_mut(),
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .unwrap();
        let mut status = 0;
        let mut len = 0;
        let mut line = String::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if status == 0 {
                status = l.split_whitespace().nth(1).unwrap().parse().unwrap();
            } else if let Some(v) = l
                .to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
            {
                len = v.parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).unwrap();
        (status, len)
    }
}

/// `clients` keep-alive connections hammer `path` for `secs` (after a 0.5 s warm-up); prints
/// requests/s, p50 and p99 latency.
fn hammer(port: u16, label: &str, path: &str, clients: usize, secs: f64) {
    let (_, bytes) = Conn::open(port).get(path);
    let start = Instant::now() + Duration::from_millis(500);
    let end = start + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let path = path.to_string();
            std::thread::spawn(move || {
                let mut c = Conn::open(port);
                let mut lat = Vec::new();
                loop {
                    let t = Instant::now();
                    if t >= end {
                        break;
                    }
                    let (status, _) = c.get(&path);
                    assert_eq!(status, 200, "{path}");
                    if t >= start {
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                lat
            })
        })
        .collect();
    let mut all: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "  {label}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests, {clients} clients, {bytes} B answers)",
        all.len() as f64 / secs,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.len()
    );
}

/// API throughput and latency: `GET /api/v2/dags` with 500 DAGs, and the task instances of a
/// 1000-task run (one page of 100, and the `~` wildcard), 16 keep-alive clients on loopback.
fn api() {
    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    let head = "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\n";
    std::fs::write(
        dags.join("many.py"),
        format!(
            "{head}for i in range(500):\n    with DAG(f\"api_{{i:03d}}\", schedule=None, tags=[\"bench\", f\"group{{i % 10}}\"]) as d:\n        a = BashOperator(task_id=\"extract\", bash_command=\"true\")\n        b = BashOperator(task_id=\"load\", bash_command=\"true\")\n        a >> b\n    globals()[f\"dag_{{i}}\"] = d\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dags.join("wide.py"),
        format!(
            "{head}with DAG(\"wide\", schedule=None, max_active_tasks=64):\n    for i in range(1000):\n        BashOperator(task_id=f\"t{{i:04d}}\", bash_command=\"true\")\n"
        ),
    )
    .unwrap();
    let home = dir.path().join("home");
    let port = free_port();
    let child = spawn(&home, port, &dags);
    let t0 = Instant::now();
    loop {
        if let Some((200, body)) = get(port, "/api/v2/dags?limit=1")
            && body.contains("\"total_entries\":501")
        {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "DAGs not parsed");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("api (16 keep-alive clients on loopback, 3 s each):");
    hammer(
        port,
        "GET /api/v2/dags (500 DAGs, default page of 50)",
        "/api/v2/dags",
        16,
        3.0,
    );
    let (wall, tis) = run_dag(port, "wide");
    assert_eq!(tis.len(), 300, "first three pages");
    let (_, body) = get(port, "/api/v2/dags/wide/dagRuns").unwrap();
    let runs: serde_json::Value = serde_json::from_str(&body).unwrap();
    let run_id = runs["dag_runs"][0]["dag_run_id"]
        .as_str()
        .unwrap()
        .replace(':', "%3A")
        .replace('+', "%2B");
    println!("  (1000-task run finished in {:.1} s)", wall / 1000.0);
    hammer(
        port,
        "GET .../dagRuns/{run}/taskInstances?limit=100 (1000-task run)",
        &format!("/api/v2/dags/wide/dagRuns/{run_id}/taskInstances?limit=100"),
        16,
        3.0,
    );
    hammer(
        port,
        "GET /api/v2/dags/~/dagRuns/~/taskInstances?limit=100",
        "/api/v2/dags/~/dagRuns/~/taskInstances?limit=100",
        16,
        3.0,
    );
    stop(child);
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if want("startup") {
        startup();
    }
    if want("parse") {
        parse();
    }
    if want("reload") {
        reload();
    }
    if want("engine") {
        engine();
    }
    if want("containers") {
        lite_containers::containers();
    }
    if want("deploy") {
        lite_deploy::deploy();
    }
    if want("api") {
        api();
    }
    if want("ui") {
        lite_ui::ui();
    }
}
