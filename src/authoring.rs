//! The DAG-authoring commands run without a server: `compile`, `validate`, `dags list | show |
//! graph`. Each parses files through the same parser pool the server uses.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::Config;
use crate::dag::{self, Dag, ParseResult};
use crate::home::Home;

/// Starts a parser pool for `config` and parses everything under `root`.
pub fn parse_all(config: &Config, root: &Path) -> anyhow::Result<Vec<ParseResult>> {
    if !root.exists() {
        bail!("{} does not exist", root.display());
    }
    let root =
        std::fs::canonicalize(root).with_context(|| format!("cannot read {}", root.display()))?;
    let path = std::env::var("PATH").ok();
    let interp = crate::python::resolve(&config.python, path.as_deref())?;
    let home = Home::new(&config.home);
    home.create()?;
    let runtime = dag::runtime::ensure(&home.runtime_dir()).with_context(|| {
        format!(
            "cannot write the Python runtime under {}",
            home.runtime_dir().display()
        )
    })?;
    let dags_folder = if root.is_dir() {
        root.clone()
    } else {
        root.parent().map(PathBuf::from).unwrap_or_default()
    };
    let pool = dag::parser::ParserPool::new(
        dag::parser::ParserConfig {
            python: interp.executable,
            runtime,
            dags_folder,
            timeout: Duration::from_secs(config.parse_timeout),
        },
        config.parse_workers as usize,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(async {
        let r = dag::load_path(&pool, &root).await;
        pool.shutdown().await;
        r
    }))
}

fn print_errors(results: &[ParseResult]) -> usize {
    let mut n = 0;
    for r in results {
        for e in &r.import_errors {
            n += 1;
            eprintln!("error: {}", e.display());
            if !e.traceback.is_empty() && e.traceback != e.message {
                for l in e.traceback.lines() {
                    eprintln!("    {l}");
                }
            }
        }
    }
    n
}

fn find_dag(results: Vec<ParseResult>, dag_id: &str, folder: &Path) -> anyhow::Result<Dag> {
    let mut all = Vec::new();
    for r in results {
        for d in r.dags {
            if d.dag_id == dag_id {
                return Ok(d);
            }
            all.push(d.dag_id);
        }
    }
    let hint = crate::dag::project::nearest(dag_id, all.iter().map(String::as_str))
        .map(|n| format!(" (did you mean {n:?}?)"))
        .unwrap_or_default();
    bail!(
        "no DAG {dag_id:?} in {}{hint}; DAGs there: {}",
        folder.display(),
        if all.is_empty() {
            "none".into()
        } else {
            all.join(", ")
        }
    )
}

fn schedule_text(d: &Dag) -> String {
    d.timetable_summary.clone().unwrap_or_else(|| "None".into())
}

/// `leoflow validate PATH`.
pub fn validate(config: &Config, path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let results = parse_all(config, path)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    let errors = print_errors(&results);
    let dags: usize = results.iter().map(|r| r.dags.len()).sum();
    if !json {
        for r in &results {
            for d in &r.dags {
                println!(
                    "ok  {:<40} {} task(s)  {}",
                    d.dag_id,
                    d.tasks.len(),
                    d.fileloc
                );
            }
        }
        println!(
            "{} file(s), {dags} DAG(s), {errors} error(s)",
            results.len()
        );
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `leoflow dags list`.
pub fn list(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let results = parse_all(config, &config.dags_folder)?;
    let mut dags: Vec<&Dag> = results.iter().flat_map(|r| r.dags.iter()).collect();
    dags.sort_by(|a, b| a.dag_id.cmp(&b.dag_id));
    if json {
        let rows: Vec<_> = dags
            .iter()
            .map(|d| serde_json::json!({"dag_id": d.dag_id, "fileloc": d.fileloc, "owner": d.owner, "tags": d.tags, "timetable_summary": d.timetable_summary, "tasks": d.tasks.len()}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        let w = dags
            .iter()
            .map(|d| d.dag_id.len())
            .max()
            .unwrap_or(6)
            .max(6);
        println!(
            "{:<w$}  {:<14}  {:>5}  {:<20}  FILE",
            "DAG_ID", "SCHEDULE", "TASKS", "TAGS"
        );
        for d in &dags {
            let rel = Path::new(&d.fileloc)
                .strip_prefix(&config.dags_folder)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| d.fileloc.clone());
            println!(
                "{:<w$}  {:<14}  {:>5}  {:<20}  {rel}",
                d.dag_id,
                schedule_text(d),
                d.tasks.len(),
                d.tags.join(",")
            );
        }
    }
    let errors = print_errors(&results);
    if errors > 0 {
        eprintln!("{errors} file(s) failed to import");
    }
    Ok(ExitCode::SUCCESS)
}

/// `leoflow dags show DAG_ID`.
pub fn show(config: &Config, dag_id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let d = find_dag(
        parse_all(config, &config.dags_folder)?,
        dag_id,
        &config.dags_folder,
    )?;
    if json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("dag_id:        {}", d.dag_id);
    println!("file:          {}:{}", d.fileloc, d.lineno.unwrap_or(0));
    if let Some(desc) = &d.description {
        println!("description:   {desc}");
    }
    println!("schedule:      {} ({})", schedule_text(&d), d.timezone);
    println!("start_date:    {}", d.start_date.as_deref().unwrap_or("-"));
    println!("catchup:       {}", d.catchup);
    println!("owner:         {}", d.owner);
    println!("tags:          {}", d.tags.join(", "));
    println!(
        "max_active:    {} run(s), {} task(s)",
        d.max_active_runs, d.max_active_tasks
    );
    if !d.params.is_empty() {
        println!(
            "params:        {}",
            d.params.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    println!(
        "\n{:<32}  {:<28}  {:<14}  {:>7}  UPSTREAM",
        "TASK_ID", "OPERATOR", "TRIGGER_RULE", "RETRIES"
    );
    for id in d.topological() {
        let t = d.task(id).expect("listed");
        let mapped = if t.mapped.is_some() { " [mapped]" } else { "" };
        println!(
            "{:<32}  {:<28}  {:<14}  {:>7}  {}",
            format!("{}{mapped}", t.task_id),
            t.operator,
            t.trigger_rule,
            t.retries,
            t.upstream.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `leoflow dags graph DAG_ID`.
pub fn graph(config: &Config, dag_id: &str, format: &str) -> anyhow::Result<ExitCode> {
    let d = find_dag(
        parse_all(config, &config.dags_folder)?,
        dag_id,
        &config.dags_folder,
    )?;
    print!(
        "{}",
        if format == "dot" {
            dag::graph::dot(&d)
        } else {
            dag::graph::tree(&d)
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// What `leoflow compile` compiles, and where to.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// A DAG file or a Leoflow project folder.
    pub path: PathBuf,
    /// Where to write `dag.json` (standard output when `None`).
    pub output: Option<PathBuf>,
    /// The image reference (default `<dag_id>:<dag_version>`).
    pub image: Option<String>,
    /// The version label (default `sha-<content hash>`).
    pub dag_version: Option<String>,
    /// Which DAG, when the file defines several.
    pub dag_id: Option<String>,
}

/// A DAG compiled for Pro, with where it came from.
pub struct CompiledDag {
    pub dag: Dag,
    pub compiled: dag::compile::Compiled,
    /// The folder module paths are relative to (the project, or the DAG file's folder): what
    /// goes into the image.
    pub root: PathBuf,
    /// Whether `root` is a Leoflow project (a `leoflow.yaml` beside the DAG).
    pub project: bool,
}

/// Parses `path` (a DAG file or project) and compiles its DAG (`dag_id` when it defines
/// several). A parse error or a construct Pro cannot carry is an error listing each problem
/// as `file:line: message`.
pub fn compile_dag(
    config: &Config,
    path: &Path,
    dag_id: Option<&str>,
    image: Option<String>,
    dag_version: Option<String>,
    module_root: Option<&Path>,
) -> anyhow::Result<CompiledDag> {
    let results = parse_all(config, path)?;
    if print_errors(&results) > 0 {
        bail!(
            "{} does not import cleanly; fix the errors above first",
            path.display()
        );
    }
    let mut dags: Vec<Dag> = results.into_iter().flat_map(|r| r.dags).collect();
    let listed = |dags: &[Dag]| {
        dags.iter()
            .map(|d| d.dag_id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let dag = match (dag_id, dags.len()) {
        (_, 0) => bail!("{} defines no DAG", path.display()),
        (None, 1) => dags.remove(0),
        (None, _) => bail!(
            "{} defines several DAGs ({}); pick one with --dag-id",
            path.display(),
            listed(&dags)
        ),
        (Some(id), _) => match dags.iter().position(|d| d.dag_id == id) {
            Some(i) => dags.remove(i),
            None => bail!(
                "{} defines no DAG {id:?}; it defines {}",
                path.display(),
                listed(&dags)
            ),
        },
    };
    let path = std::fs::canonicalize(path)?;
    let project = path.is_dir() && path.join(dag::project::FILE).is_file();
    let root = match module_root {
        Some(r) => std::fs::canonicalize(r)?,
        None if path.is_dir() => path.clone(),
        None => path.parent().map(PathBuf::from).unwrap_or_default(),
    };
    let staging = if project {
        dag::project::Project::load(&path)
            .ok()
            .and_then(|p| p.doc.get("staging").cloned())
    } else {
        None
    };
    let source = std::fs::read_to_string(&dag.fileloc)
        .with_context(|| format!("cannot read {}", dag.fileloc))?;
    let opts = dag::compile::Options {
        image,
        dag_version,
        root: root.clone(),
        source,
        staging,
    };
    match dag::compile::compile(&dag, &opts) {
        Ok(compiled) => Ok(CompiledDag {
            dag,
            compiled,
            root,
            project,
        }),
        Err(errors) => {
            for e in &errors {
                match e.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
                    Some((line, msg)) => eprintln!("error: {}:{line}: {msg}", dag.fileloc),
                    None => eprintln!("error: {}:{}: {e}", dag.fileloc, dag.lineno.unwrap_or(0)),
                }
            }
            bail!(
                "{} cannot be compiled for Pro ({} problem(s))",
                dag.dag_id,
                errors.len()
            )
        }
    }
}

/// `leoflow compile PATH`: the dag.json, and beside it the generated entrypoint module when
/// the DAG needs one.
pub fn compile(config: &Config, args: &CompileOptions) -> anyhow::Result<ExitCode> {
    let c = compile_dag(
        config,
        &args.path,
        args.dag_id.as_deref(),
        args.image.clone(),
        args.dag_version.clone(),
        None,
    )?;
    let doc = &c.compiled.doc;
    let text = serde_json::to_string_pretty(doc)? + "\n";
    match &args.output {
        Some(out) => {
            std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "wrote {} ({} task(s), version {})",
                out.display(),
                c.dag.tasks.len(),
                doc["dag_version"].as_str().unwrap_or("")
            );
            let dir = out.parent().unwrap_or(Path::new("."));
            for (name, module) in &c.compiled.modules {
                let p = dir.join(name);
                std::fs::write(&p, module)
                    .with_context(|| format!("cannot write {}", p.display()))?;
                eprintln!(
                    "wrote {} (entrypoints Pro imports; `leoflow deploy` puts it in the image beside the DAG's code)",
                    p.display()
                );
            }
        }
        None => {
            print!("{text}");
            for (name, _) in &c.compiled.modules {
                eprintln!(
                    "note: the dag.json calls entrypoints of a generated module, {name}; pass -o DIR/dag.json to write it (`leoflow deploy` puts it in the image)"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
