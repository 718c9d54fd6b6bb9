//! DAG authoring: turning DAG files (Airflow's layout or Leoflow projects) into the DAG model,
//! checking it, and compiling it for Pro.
//!
//! Parsing runs the files' module-level code in Python under the embedded shim (`runtime`,
//! `parser`); broken input is data: every failure is an [`ImportError`] with `file:line`, never
//! an `Err` that stops a folder.
//!
//! **Invariant:** `dag` never opens SQLite or knows about HTTP; it turns files into values.

pub mod compile;
pub mod discover;
pub mod graph;
pub mod model;
pub mod params;
pub mod parser;
pub mod plugins;
pub mod project;
pub mod registered;
pub mod runtime;
pub mod validate;

use std::path::Path;

pub use model::{Dag, ImportError, ParseResult, Task};

/// Parses one DAG source (file or project) and applies the Rust-side checks: the project
/// overlay, then validation. A DAG that fails validation becomes an import error of its file.
pub async fn load_source(pool: &parser::ParserPool, source: &discover::Source) -> ParseResult {
    let mut result = pool.parse(source.dag_file()).await;
    if let discover::Source::Project { dir, .. } = source {
        match project::Project::load(dir) {
            Err(e) => {
                result.import_errors.push(ImportError::new(
                    dir.join(project::FILE).display().to_string(),
                    None,
                    e,
                ));
                result.dags.clear();
            }
            Ok(p) => {
                let mut kept = Vec::new();
                let ids: Vec<String> = result.dags.iter().map(|d| d.dag_id.clone()).collect();
                for mut dag in std::mem::take(&mut result.dags) {
                    if dag.dag_id != p.dag_id() {
                        continue;
                    }
                    match p.apply(&mut dag) {
                        Ok(()) => kept.push(dag),
                        Err(e) => result.import_errors.push(ImportError::new(
                            p.path.display().to_string(),
                            None,
                            e,
                        )),
                    }
                }
                if kept.is_empty() && result.import_errors.is_empty() {
                    result.import_errors.push(ImportError::new(
                        p.path.display().to_string(),
                        None,
                        format!(
                            "dag_id {:?} of leoflow.yaml is not defined by {}; it defines: {}",
                            p.dag_id(),
                            source.dag_file().display(),
                            if ids.is_empty() {
                                "no DAG".to_string()
                            } else {
                                ids.join(", ")
                            }
                        ),
                    ));
                }
                result.dags = kept;
            }
        }
    }
    let mut kept = Vec::new();
    for dag in std::mem::take(&mut result.dags) {
        let errors = validate::validate(&dag);
        if errors.is_empty() {
            kept.push(dag);
        } else {
            result.import_errors.push(ImportError::new(
                dag.fileloc.clone(),
                dag.lineno,
                errors.join("\n"),
            ));
        }
    }
    result.dags = kept;
    result
}

/// Parses every source under `root` (a folder, a file or a project folder) on `pool`,
/// concurrently up to the pool's size.
pub async fn load_path(pool: &parser::ParserPool, root: &Path) -> Vec<ParseResult> {
    let sources = if root.is_dir() && root.join(project::FILE).is_file() {
        vec![discover::Source::Project {
            dir: root.to_path_buf(),
            dag_file: root.join(project::dag_source(root)),
        }]
    } else {
        discover::discover(root)
    };
    let futures = sources.iter().map(|s| load_source(pool, s));
    futures_util::future::join_all(futures).await
}
