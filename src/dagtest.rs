//! `leoflow dags test DAG`: one run, in this process, on a throw-away state directory, with the
//! same parser, scheduler and executor as the server; task logs stream to the terminal and a
//! summary table ends it (like `airflow dags test`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::config::Config;
use crate::dag::{self, parser::ParserPool};
use crate::events::EventBus;
use crate::health::Heartbeats;
use crate::home::Home;
use crate::store::Store;
use crate::store::dags::ParsedFile;
use crate::store::runs;
use crate::xcom::XcomStore;

/// Runs `dag_id` once; exit 0 when the run succeeds.
pub fn run(config: &Config, dag_id: &str, conf: Option<&str>) -> anyhow::Result<ExitCode> {
    let conf: Value = match conf {
        None => Value::Object(Default::default()),
        Some(c) => match serde_json::from_str(c) {
            Ok(v @ Value::Object(_)) => v,
            _ => bail!("--conf must be a JSON object, e.g. '{{\"key\": \"value\"}}'"),
        },
    };
    let scratch = tempfile_dir()?;
    let home = Home::new(&scratch);
    home.create()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let code = rt.block_on(run_async(config, &home, dag_id, conf));
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
    store
        .write(move |tx| dags_record(tx, &file, &relative, &source, &r))
        .await?;

    let xcom = XcomStore::open(&home.xcom_dir(), config.xcom_max_bytes)?;
    let events = EventBus::new(4096);
    let (scheduler, sched) = crate::scheduler::start_engine(
        store.clone(),
        events.clone(),
        Arc::new(Heartbeats::default()),
        xcom.clone(),
        crate::executor::subprocess::PyRuntime::new(config.python.clone(), home.runtime_dir()),
        crate::scheduler::SchedulerConfig {
            parallelism: config.parallelism,
            logs_dir: home.logs_dir(),
            dags_folder: root.clone(),
        },
    );
    let mut bus = events.subscribe();
    let started = Instant::now();
    let now = crate::store::now();
    let new = runs::NewRun {
        dag_id: dag_id.to_string(),
        run_id: format!(
            "manual__{}",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
        ),
        run_type: "manual".into(),
        logical_date: None,
        run_after: now,
        data_interval_start: None,
        data_interval_end: None,
        conf,
        note: None,
        triggered_by: "cli".into(),
        triggering_user_name: None,
    };
    let run = store
        .write(move |tx| Ok(runs::create(tx, &new)))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let total = store
        .read({
            let (d, r) = (run.dag_id.clone(), run.run_id.clone());
            move |c| runs::tis_of_run(c, &d, &r)
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
                    if stream != "leoflow" {
                        println!("[{task}] {}", l["line"].as_str().unwrap_or(""));
                    }
                }
            }
            "task_instance" => {
                let st = ev.data["state"].as_str().unwrap_or("");
                if matches!(
                    st,
                    "success" | "failed" | "skipped" | "upstream_failed" | "up_for_retry"
                ) {
                    let task = ev.data["task_id"].as_str().unwrap_or("").to_string();
                    if st != "up_for_retry" {
                        finished.insert(task.clone());
                    }
                    eprintln!("[{}/{total}] {task} {st}", finished.len());
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
            move |c| runs::tis_of_run(c, &d, &r)
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
    let mut rows: Vec<_> = tis.iter().collect();
    rows.sort_by_key(|t| order.get(&t.task_id).copied().unwrap_or(usize::MAX));
    println!(
        "\n{:<32}  {:<16}  {:>5}  {:>9}",
        "TASK", "STATE", "TRIES", "DURATION"
    );
    for t in rows {
        println!(
            "{:<32}  {:<16}  {:>5}  {:>8.2}s",
            t.task_id,
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

fn dags_record(
    tx: &rusqlite::Transaction<'_>,
    file: &str,
    relative: &str,
    source: &str,
    result: &dag::ParseResult,
) -> crate::store::Result<()> {
    crate::store::dags::record_parse(
        tx,
        &ParsedFile {
            file,
            relative,
            source,
            result,
        },
        false,
    )?;
    Ok(())
}
