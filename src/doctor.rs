//! `leoflow doctor`: checks that this machine can run Lite and says how to fix what cannot.
//!
//! A blocker (no usable python3, an unwritable home, a busy port, a database from a newer
//! binary) makes the command exit 1; the rest is informational.

use std::fmt::Write;
use std::net::{SocketAddr, TcpListener};

use crate::config::Config;
use crate::home::Home;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    /// Worth knowing; Lite runs anyway.
    Info,
    /// Lite cannot run until it is fixed.
    Blocker,
}

/// One row of the report.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub detail: String,
    /// What to do about it, for anything but `Ok`.
    pub fix: Option<String>,
}

fn check(
    name: &'static str,
    level: Level,
    detail: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        name,
        level,
        detail: detail.into(),
        fix,
    }
}

/// Runs every check; `path_env` is the `PATH` used to find python3.
pub fn run(config: &Config, path_env: Option<&str>) -> Vec<Check> {
    let mut out = Vec::new();

    out.push(match crate::python::resolve(&config.python, path_env) {
        Ok(i) => check(
            "python",
            Level::Ok,
            format!(
                "Python {}.{}.{} at {}",
                i.version.0,
                i.version.1,
                i.version.2,
                i.executable.display()
            ),
            None,
        ),
        Err(e) => check(
            "python",
            Level::Blocker,
            e.to_string(),
            Some(format!(
                "install python3 >= {}.{} (e.g. `apt-get install -y python3`) or set LEOFLOW_PYTHON=/path/to/python3",
                crate::python::MIN_VERSION.0,
                crate::python::MIN_VERSION.1
            )),
        ),
    });

    let home = Home::new(&config.home);
    out.push(
        match home.create().map_err(|e| e.to_string()).and_then(|_| {
            let probe = config.home.join(".doctor-probe");
            std::fs::write(&probe, b"ok")
                .and_then(|_| std::fs::remove_file(&probe))
                .map_err(|e| format!("cannot write in {}: {e}", config.home.display()))
        }) {
            Ok(()) => check(
                "home",
                Level::Ok,
                format!("{} is writable", config.home.display()),
                None,
            ),
            Err(e) => check(
                "home",
                Level::Blocker,
                e,
                Some("choose a writable directory with --home or LEOFLOW_HOME".into()),
            ),
        },
    );

    let db = home.db_path();
    out.push(match crate::store::migrate_status(&db) {
        Ok(s) if s.current > crate::store::latest_version() => check(
            "database",
            Level::Blocker,
            format!(
                "{} has schema version {}, newer than this binary's {}",
                db.display(),
                s.current,
                crate::store::latest_version()
            ),
            Some("upgrade leoflow, or use another --home".into()),
        ),
        Ok(s) if s.pending.is_empty() => check(
            "database",
            Level::Ok,
            format!("schema version {} (up to date)", s.current),
            None,
        ),
        Ok(s) => check(
            "database",
            Level::Info,
            format!(
                "schema version {}; {} migration(s) will be applied on start",
                s.current,
                s.pending.len()
            ),
            Some("run `leoflow db migrate` now, or let `leoflow lite` apply them".into()),
        ),
        Err(e) => check(
            "database",
            Level::Blocker,
            e.to_string(),
            Some("move the broken file aside, or run `leoflow db reset`".into()),
        ),
    });

    let addr = SocketAddr::new(config.host, config.port);
    out.push(match TcpListener::bind(addr) {
        Ok(_) => check("port", Level::Ok, format!("{addr} is free"), None),
        Err(e) => match home.is_locked() {
            Some(pid) => check(
                "port",
                Level::Info,
                format!("{addr} is in use by the Leoflow server already running on this home (PID {pid})"),
                None,
            ),
            None => check(
                "port",
                Level::Blocker,
                format!("cannot bind {addr}: {e}"),
                Some("stop the program using it, or pick another port with --port / LEOFLOW_PORT".into()),
            ),
        },
    });

    // The container engine: needed by --executor docker, and by DockerOperator / @task.docker
    // tasks with any executor.
    let engine = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(crate::executor::engine::Engine::connect()));
    let docker_executor = config.executor == crate::config::ExecutorKind::Docker;
    out.push(match engine {
        Ok(e) => check("docker", Level::Ok, format!("{e}"), None),
        Err(e) => check(
            "docker",
            if docker_executor {
                Level::Blocker
            } else {
                Level::Info
            },
            e,
            Some(if docker_executor {
                "--executor docker needs a container engine: start Docker or Podman's API service, or set DOCKER_HOST".into()
            } else {
                "only DockerOperator / @task.docker tasks and --executor docker need one".into()
            }),
        ),
    });

    out.push(if config.dags_folder.is_dir() {
        check(
            "dags_folder",
            Level::Ok,
            config.dags_folder.display().to_string(),
            None,
        )
    } else {
        check(
            "dags_folder",
            Level::Info,
            format!("{} does not exist yet", config.dags_folder.display()),
            Some("create it, or pass the folder to `leoflow lite DAGS_DIR`".into()),
        )
    });
    out
}

/// The report as a table followed by the fixes; `true` when nothing blocks.
pub fn render(checks: &[Check]) -> (String, bool) {
    let mut out = String::new();
    let w = checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(out, "{:<w$}  {:<7}  DETAIL", "CHECK", "STATUS");
    for c in checks {
        let status = match c.level {
            Level::Ok => "ok",
            Level::Info => "info",
            Level::Blocker => "BLOCKER",
        };
        let _ = writeln!(out, "{:<w$}  {:<7}  {}", c.name, status, c.detail);
    }
    let blockers: Vec<&Check> = checks
        .iter()
        .filter(|c| c.level == Level::Blocker)
        .collect();
    let hints: Vec<&Check> = checks.iter().filter(|c| c.fix.is_some()).collect();
    if !hints.is_empty() {
        out.push_str("\nTo fix:\n");
        for c in hints {
            let _ = writeln!(out, "  {}: {}", c.name, c.fix.as_deref().unwrap_or(""));
        }
    }
    if blockers.is_empty() {
        out.push_str("\nLeoflow Lite can run here.\n");
    } else {
        let _ = writeln!(
            out,
            "\n{} blocker(s): Leoflow Lite cannot run until they are fixed.",
            blockers.len()
        );
    }
    (out, blockers.is_empty())
}
