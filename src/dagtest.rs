//! The CLI's run commands. `leoflow dags test DAG`: one run, in this process, on a throw-away
//! state directory, with the same parser, scheduler and executor as the server; task logs
//! stream to the terminal with a progress bar and a summary table ends it (like `airflow dags
//! test`). `leoflow tasks test DAG TASK`: the same for one task, its upstreams ignored.
//! `leoflow dags trigger DAG`: queue a run in the home's database (like `airflow dags
//! trigger`); a running server notices the write and starts it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::auth::Identity;
use crate::config::Config;
use crate::dag::{self, parser::ParserPool};
use crate::events::EventBus;
use crate::health::Heartbeats;
use crate::home::Home;
use crate::ops::{self, OpError, Ops};
use crate::store::Store;
use crate::store::dags::ParsedFile;
use crate::store::runs;
use crate::xcom::XcomStore;

/// `--conf` as a JSON object.
fn parse_conf(conf: Option<&str>) -> anyhow::Result<Value> {
    match conf {
        None => Ok(Value::Object(Default::default())),
        Some(c) => match serde_json::from_str(c) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(other) => {
                bail!("--conf must be a JSON object, e.g. '{{\"key\": \"value\"}}', not {other}")
            }
            Err(e) => bail!(
                "--conf is not valid JSON ({e}); give an object, e.g. '{{\"key\": \"value\"}}'"
            ),
        },
    }
}

/// Runs `dag_id` once; exit 0 when the run succeeds.
pub fn run(config: &Config, dag_id: &str, conf: Option<&str>) -> anyhow::Result<ExitCode> {
    in_scratch(config, dag_id, None, conf)
}

/// Runs one task of `dag_id`, ignoring its upstreams; exit 0 when it succeeds.
pub fn run_task(
    config: &Config,
    dag_id: &str,
    task_id: &str,
    conf: Option<&str>,
) -> anyhow::Result<ExitCode> {
    in_scratch(config, dag_id, Some(task_id), conf)
}

/// Queues a manual run in the home's database; prints its id.
pub fn trigger(
    config: &Config,
    dag_id: &str,
    conf: Option<&str>,
    run_id: Option<String>,
    logical_date: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let conf = parse_conf(conf)?;
    let logical = match logical_date {
        None => None,
        Some(d) => Some(
            chrono::DateTime::parse_from_rfc3339(d)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "--logical-date {d:?} is not an RFC 3339 date-time ({e}); e.g. 2025-01-01T00:00:00Z"
                    )
                })?
                .with_timezone(&chrono::Utc),
        ),
    };
    let home = Home::new(&config.home);
    if !home.db_path().exists() {
        bail!(
            "no Leoflow database in {}: start `leoflow lite` on your DAG folder once so it knows {dag_id:?}",
            config.home.display()
        );
    }
    let store = Store::open(&home.db_path())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // A running server holds the XCom store; a trigger does not need it. The server notices
    // the new run through the database.
    let ops = Ops {
        store,
        xcom: None,
        events: EventBus::default(),
        scheduler: None,
        home: config.home.clone(),
        parse_requests: None,
    };
    let t = ops::runs::Trigger {
        dag_id: dag_id.to_string(),
        run_id,
        logical_date: logical,
        conf: into_map(conf),
        triggered_by: "cli",
        // Audited as Airflow's CLI does, owned by the OS user.
        event: "cli_dags_trigger",
        method: "CLI",
        ..Default::default()
    };
    let run = rt
        .block_on(ops::runs::trigger(&ops, &Identity::os_user(), t))
        .map_err(|e| match e {
            OpError::NotFound(_) => anyhow::anyhow!(
                "DAG {dag_id:?} is not in {}; check the id (`leoflow dags list`) and that `leoflow lite` has parsed its file",
                home.db_path().display()
            ),
            OpError::BadRequest(m) if m.contains("run_id") => anyhow::anyhow!("--run-id: {m}"),
            OpError::BadRequest(m) => anyhow::anyhow!("--conf: {m}"),
            other => anyhow::anyhow!("{other}"),
        })?;
    println!("{}", run.run_id);
    if home.is_locked().is_none() {
        eprintln!(
            "queued; no server is running on {}: it starts when `leoflow lite` does",
            config.home.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A `--conf` object as a map (`parse_conf` only gives objects).
fn into_map(conf: Value) -> serde_json::Map<String, Value> {
    match conf {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn in_scratch(
    config: &Config,
    dag_id: &str,
    only: Option<&str>,
    conf: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let conf = parse_conf(conf)?;
    let scratch = tempfile_dir()?;
    let home = Home::new(&scratch);
    home.create()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let code = rt.block_on(run_async(config, &home, dag_id, only, conf));
    let _ = std::fs::remove_dir_all(&scratch);
    code
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "leoflow-dags-test-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

async fn run_async(
    config: &Config,
    home: &Home,
    dag_id: &str,
    only: Option<&str>,
    conf: Value,
) -> anyhow::Result<ExitCode> {
    let root = std::fs::canonicalize(&config.dags_folder).with_context(|| {
        format!(
            "cannot read the DAG folder {}",
            config.dags_folder.display()
        )
    })?;
    let path = std::env::var("PATH").ok();
    let interp = crate::python::resolve(&config.python, path.as_deref())?;
    let runtime = dag::runtime::ensure(&home.runtime_dir())?;
    let pool = ParserPool::new(
        dag::parser::ParserConfig {
            python: interp.executable,
            runtime,
            dags_folder: root.clone(),
            timeout: Duration::from_secs(config.parse_timeout),
        },
        config.parse_workers as usize,
    );
    let store = Store::open(&home.db_path())?;
    // Parse the folder and record the file that defines the DAG.
    let results = dag::load_path(&pool, &root).await;
    pool.shutdown().await;
    let Some(result) = results
        .iter()
        .find(|r| r.dags.iter().any(|d| d.dag_id == dag_id))
    else {
        for r in &results {
            for e in &r.import_errors {
                eprintln!("error: {}", e.display());
            }
        }
        bail!("no DAG {dag_id:?} in {}", root.display());
    };
    let file = result
        .dags
        .iter()
        .find(|d| d.dag_id == dag_id)
        .map(|d| d.fileloc.clone())
        .unwrap_or_default();
    let source = std::fs::read_to_string(&file).unwrap_or_default();
    let relative = Path::new(&file)
        .strip_prefix(&root)
        .unwrap_or(Path::new(&file))
        .display()
        .to_string();
    let r = result.clone();
    let id = dag_id.to_string();
    store
        .write(move |tx| {
            let parsed = ParsedFile {
                file: &file,
                relative: &relative,
                source: &source,
                result: &r,
            };
            crate::store::dags::record_parse(tx, &parsed, false)?;
            // The scratch home's DAG is unpaused: runs of paused DAGs wait, as in Airflow.
            crate::store::dags::set_paused(tx, &id, false)
        })
        .await?;

    let xcom = XcomStore::open(&home.xcom_dir(), config.xcom_max_bytes)?;
    let events = EventBus::new(4096);
    let (scheduler, sched) = crate::scheduler::start_engine(
        store.clone(),
        events.clone(),
        Arc::new(Heartbeats::default()),
        xcom.clone(),
        crate::executor::python::PyRuntime::new(config.python.clone(), home.runtime_dir()),
        Arc::new(crate::executor::container::Containers::new(
            home.root(),
            crate::executor::container::Limits::from_config(config),
        )),
        crate::scheduler::SchedulerConfig {
            parallelism: config.parallelism,
            logs_dir: home.logs_dir(),
            dags_folder: root.clone(),
            log_max_bytes: config.log_max_bytes,
            in_image: config.executor == crate::config::ExecutorKind::Docker,
        },
    );
    let mut bus = events.subscribe();
    let started = Instant::now();
    let ops = Ops {
        store: store.clone(),
        xcom: Some(xcom.clone()),
        events: events.clone(),
        scheduler: Some(scheduler.clone()),
        home: home.root().to_path_buf(),
        parse_requests: None,
    };
    let t = ops::runs::Trigger {
        dag_id: dag_id.to_string(),
        conf: into_map(conf),
        triggered_by: "cli",
        event: if only.is_some() {
            "cli_tasks_test"
        } else {
            "cli_dags_test"
        },
        method: "CLI",
        only_task: only.map(String::from),
        ..Default::default()
    };
    let run = ops::runs::trigger(&ops, &Identity::os_user(), t)
        .await
        .map_err(|e| match e {
            OpError::BadRequest(m) => anyhow::anyhow!("--conf: {m}"),
            other => anyhow::anyhow!("{other}"),
        })?;
    let mut total = store
        .read({
            let (d, r) = (run.dag_id.clone(), run.run_id.clone());
            move |db| crate::store::tis::of_run(db, &d, &r)
        })
        .await?
        .len();
    eprintln!("Running {dag_id} ({total} task(s)) as {}", run.run_id);
    scheduler.wake();
    let mut finished = std::collections::BTreeSet::new();
    let final_state = loop {
        let ev = match tokio::time::timeout(Duration::from_millis(500), bus.recv()).await {
            Ok(Ok(e)) => e,
            Ok(Err(_)) | Err(_) => {
                let (d, r) = (run.dag_id.clone(), run.run_id.clone());
                let st = store
                    .read(move |c| runs::get(c, &d, &r))
                    .await?
                    .map(|x| x.state)
                    .unwrap_or_default();
                if st == "success" || st == "failed" {
                    break st;
                }
                continue;
            }
        };
        if ev.data["run_id"] != run.run_id.as_str() {
            continue;
        }
        match ev.kind.as_str() {
            "log" => {
                let task = ev.data["task_id"].as_str().unwrap_or("");
                for l in ev.data["lines"].as_array().into_iter().flatten() {
                    let stream = l["stream"].as_str().unwrap_or("");
                    // Leoflow's own lines only when they say what went wrong.
                    let level = l["level"].as_str().unwrap_or("");
                    if stream != "leoflow" || matches!(level, "error" | "warning") {
                        println!("[{task}] {}", l["line"].as_str().unwrap_or(""));
                    }
                }
            }
            "task_instance" => {
                let st = ev.data["state"].as_str().unwrap_or("");
                // A mapped task expanding into n map indexes adds n - 1 task instances.
                if let Some(n) = ev.data["expanded"].as_u64() {
                    total += n as usize - 1;
                }
                if matches!(
                    st,
                    "success" | "failed" | "skipped" | "upstream_failed" | "up_for_retry"
                ) {
                    let mut task = ev.data["task_id"].as_str().unwrap_or("").to_string();
                    if let Some(i) = ev.data["map_index"].as_i64().filter(|i| *i >= 0) {
                        task = format!("{task}[{i}]");
                    }
                    if st != "up_for_retry" {
                        finished.insert(task.clone());
                    }
                    eprintln!(
                        "{} [{}/{total}] {task} {st}",
                        progress_bar(finished.len(), total),
                        finished.len()
                    );
                }
            }
            "dag_run" if ev.data["run_id"] == run.run_id.as_str() => {
                let st = ev.data["state"].as_str().unwrap_or("");
                if st == "success" || st == "failed" {
                    break st.to_string();
                }
            }
            _ => {}
        }
    };
    sched.abort();
    let tis = store
        .read({
            let (d, r) = (run.dag_id.clone(), run.run_id.clone());
            move |db| crate::store::tis::of_run(db, &d, &r)
        })
        .await?;
    let order: BTreeMap<String, usize> = result
        .dags
        .iter()
        .find(|d| d.dag_id == dag_id)
        .map(|d| {
            d.topological()
                .into_iter()
                .enumerate()
                .map(|(i, t)| (t.to_string(), i))
                .collect()
        })
        .unwrap_or_default();
    let mut rows: Vec<_> = tis
        .iter()
        .filter(|t| only.is_none_or(|o| t.task_id == o))
        .collect();
    rows.sort_by_key(|t| order.get(&t.task_id).copied().unwrap_or(usize::MAX));
    println!(
        "\n{:<32}  {:<16}  {:>5}  {:>9}",
        "TASK", "STATE", "TRIES", "DURATION"
    );
    for t in rows {
        println!(
            "{:<32}  {:<16}  {:>5}  {:>8.2}s",
            if t.map_index >= 0 {
                format!("{}[{}]", t.task_id, t.map_index)
            } else {
                t.task_id.clone()
            },
            t.state.as_deref().unwrap_or("none"),
            t.try_number,
            t.duration.unwrap_or(0.0)
        );
    }
    println!(
        "\nRun {} {final_state} in {:.2}s",
        run.run_id,
        started.elapsed().as_secs_f64()
    );
    Ok(if final_state == "success" {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A 20-cell text progress bar.
fn progress_bar(done: usize, total: usize) -> String {
    let filled = (done * 20).checked_div(total).unwrap_or(20).min(20);
    format!("{}{}", "█".repeat(filled), "░".repeat(20 - filled))
}
