//! Process metrics in the Prometheus text format (`GET /metrics`): build info, process memory
//! and CPU, HTTP requests by route and status; other modules add their own counters and gauges
//! by name through [`Metrics::inc`] and [`Metrics::set`].
//!
//! **Invariant:** recording is a short mutex-guarded map update; nothing here does IO except
//! reading `/proc/self` while rendering.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Upper bounds (seconds) of the HTTP latency histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The registry; one per process, shared by `Arc`.
pub struct Metrics {
    started_unix: f64,
    started: Instant,
    http: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    counters: Mutex<BTreeMap<String, (String, f64)>>,
    gauges: Mutex<BTreeMap<String, (String, f64)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            started: Instant::now(),
            http: Mutex::default(),
            counters: Mutex::default(),
            gauges: Mutex::default(),
        }
    }

    /// Seconds since the registry (the process) started.
    pub fn uptime(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Records one HTTP request.
    pub fn observe_http(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let h = map
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
    }

    /// Adds `by` to the counter `name` (a full Prometheus series name, labels included).
    pub fn inc(&self, name: &str, help: &str, by: f64) {
        let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(name.to_string())
            .or_insert_with(|| (help.to_string(), 0.0))
            .1 += by;
    }

    /// Sets the gauge `name` (a full Prometheus series name, labels included).
    pub fn set(&self, name: &str, help: &str, value: f64) {
        let mut map = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(name.to_string(), (help.to_string(), value));
    }

    /// The whole registry in the Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP leoflow_build_info Leoflow build information.\n# TYPE leoflow_build_info gauge\nleoflow_build_info{{version=\"{}\",airflow_api=\"{}\"}} 1",
            crate::VERSION,
            crate::AIRFLOW_COMPAT_VERSION
        );
        let _ = writeln!(
            out,
            "# HELP process_start_time_seconds Start time of the process since the Unix epoch.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {}",
            self.started_unix
        );
        if let Some(p) = ProcessStats::read() {
            let _ = writeln!(
                out,
                "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes {}\n# HELP process_cpu_seconds_total Total user and system CPU time in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n# HELP process_threads Number of OS threads.\n# TYPE process_threads gauge\nprocess_threads {}",
                p.rss_bytes, p.virtual_bytes, p.cpu_seconds, p.threads
            );
        }
        {
            let map = self.http.lock().unwrap_or_else(|p| p.into_inner());
            out.push_str("# HELP leoflow_http_requests_total HTTP requests by method, route and status.\n# TYPE leoflow_http_requests_total counter\n");
            for ((m, r, s), h) in map.iter() {
                let _ = writeln!(
                    out,
                    "leoflow_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {}",
                    escape(r),
                    h.count
                );
            }
            out.push_str("# HELP leoflow_http_request_duration_seconds HTTP request latency.\n# TYPE leoflow_http_request_duration_seconds histogram\n");
            let mut by_route: BTreeMap<(&str, &str), Histogram> = BTreeMap::new();
            for ((m, r, _), h) in map.iter() {
                let agg = by_route.entry((m, r)).or_default();
                agg.count += h.count;
                agg.sum += h.sum;
                for i in 0..BUCKETS.len() {
                    agg.counts[i] += h.counts[i];
                }
            }
            for ((m, r), h) in by_route {
                let labels = format!("method=\"{m}\",route=\"{}\"", escape(r));
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "leoflow_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "leoflow_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\nleoflow_http_request_duration_seconds_sum{{{labels}}} {}\nleoflow_http_request_duration_seconds_count{{{labels}}} {}",
                    h.count, h.sum, h.count
                );
            }
        }
        for (map, kind) in [(&self.counters, "counter"), (&self.gauges, "gauge")] {
            let map = map.lock().unwrap_or_else(|p| p.into_inner());
            let mut typed = std::collections::BTreeSet::new();
            for (name, (help, v)) in map.iter() {
                let base = name.split('{').next().unwrap_or(name);
                if typed.insert(base.to_string()) {
                    let _ = writeln!(out, "# HELP {base} {help}\n# TYPE {base} {kind}");
                }
                let _ = writeln!(out, "{name} {v}");
            }
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Figures about this process from `/proc/self` (Linux); `None` elsewhere.
#[derive(Debug, Clone, Copy)]
pub struct ProcessStats {
    pub rss_bytes: u64,
    pub virtual_bytes: u64,
    pub cpu_seconds: f64,
    pub threads: u64,
}

impl ProcessStats {
    pub fn read() -> Option<ProcessStats> {
        Self::read_pid("self")
    }

    /// Reads `/proc/<pid>/stat`; `pid` may be `"self"`.
    pub fn read_pid(pid: &str) -> Option<ProcessStats> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // SAFETY: sysconf takes a constant name, touches no memory of ours and is thread-safe;
        // an unknown name or an error is -1, which `max(1)` turns into a harmless divisor.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        // SAFETY: as above.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
        Some(ProcessStats {
            cpu_seconds: (f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
                / ticks,
            threads: f.get(17)?.parse().ok()?,
            virtual_bytes: f.get(20)?.parse().ok()?,
            rss_bytes: f.get(21)?.parse::<u64>().ok()? * page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_http_series_and_process_memory() {
        let m = Metrics::new();
        m.observe_http("GET", "/api/v2/version", 200, 0.002);
        m.observe_http("GET", "/api/v2/version", 200, 0.5);
        m.inc(
            "leoflow_tasks_finished_total{state=\"success\"}",
            "Tasks.",
            1.0,
        );
        let text = m.render();
        assert!(text.contains(
            "leoflow_http_requests_total{method=\"GET\",route=\"/api/v2/version\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "leoflow_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v2/version\",le=\"0.0025\"} 1"
        ));
        assert!(text.contains("leoflow_tasks_finished_total{state=\"success\"} 1"));
        let rss: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(rss > 1.0e6, "{rss}");
    }
}
