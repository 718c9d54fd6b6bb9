//! Benchmark harness for Leoflow Lite (not a timed test: it prints figures).
//!
//! Run with `cargo bench --bench lite` (all sections) or `cargo bench --bench lite -- startup`.
//! Each section starts the real release-profile binary on a temp home and a free port.

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
    Command::new(bin())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .args(["--home"])
        .arg(home)
        .args(["lite", "--port", &port.to_string()])
        .arg(dags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn leoflow")
}

/// One raw HTTP/1.1 GET; returns the status code.
fn get_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
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

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if want("startup") {
        startup();
    }
}
