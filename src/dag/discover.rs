//! Which files in a DAG folder are DAG files.
//!
//! Airflow's rules: every `*.py` under the folder whose text mentions both "airflow" and "dag"
//! (its safe-mode heuristic), minus what `.airflowignore` files exclude (glob syntax, as
//! Airflow 3's default), hidden entries and `__pycache__`. A folder holding `leoflow.yaml` is a
//! Leoflow project: its `dag_source` (default `dag.py`) is the DAG file and its other modules
//! are helpers, not DAG files.

use std::path::{Path, PathBuf};

/// One DAG source found in a folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A plain Airflow DAG file.
    File(PathBuf),
    /// A Leoflow project: the folder and its DAG file.
    Project { dir: PathBuf, dag_file: PathBuf },
}

impl Source {
    /// The Python file to import.
    pub fn dag_file(&self) -> &Path {
        match self {
            Source::File(p) => p,
            Source::Project { dag_file, .. } => dag_file,
        }
    }
}

/// Airflow's safe-mode test: does the file look like it defines a DAG?
pub fn might_contain_dag(path: &Path) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => {
            let lower = bytes.to_ascii_lowercase();
            let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
            has(b"airflow") && has(b"dag")
        }
        Err(_) => false,
    }
}

/// Whether a path (relative or absolute) is one the watcher and scanner skip outright.
pub fn is_ignored_name(path: &Path) -> bool {
    path.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        (s.starts_with('.') && s != "." && s != "..") || s == "__pycache__" || s.ends_with('~')
    })
}

/// Every DAG source under `root`, sorted.
pub fn discover(root: &Path) -> Vec<Source> {
    if root.is_file() {
        return vec![Source::File(root.to_path_buf())];
    }
    let mut projects: Vec<PathBuf> = Vec::new();
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(true)
        .add_custom_ignore_filename(".airflowignore")
        .follow_links(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker.flatten() {
        let p = entry.path();
        if p.file_name().is_some_and(|n| n == "__pycache__") {
            continue;
        }
        if entry.file_type().is_some_and(|t| t.is_dir()) && p.join("leoflow.yaml").is_file() {
            projects.push(p.to_path_buf());
            continue;
        }
        if entry.file_type().is_some_and(|t| t.is_file())
            && p.extension().is_some_and(|e| e == "py")
            && !is_ignored_name(p.strip_prefix(root).unwrap_or(p))
        {
            files.push(p.to_path_buf());
        }
    }
    let mut out: Vec<Source> = projects
        .iter()
        .map(|dir| Source::Project {
            dir: dir.clone(),
            dag_file: dir.join(super::project::dag_source(dir)),
        })
        .collect();
    out.extend(
        files
            .into_iter()
            .filter(|f| !projects.iter().any(|d| f.starts_with(d)))
            .filter(|f| might_contain_dag(f))
            .map(Source::File),
    );
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honours_airflowignore_safe_mode_and_projects() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, s: &str| {
            let path = d.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, s).unwrap();
        };
        let dag = "from airflow.sdk import DAG\n";
        w("a.py", dag);
        w("helpers.py", "x = 1\n");
        w("skip/b.py", dag);
        w("sub/c.py", dag);
        w("sub/ignored_c.py", dag);
        w(".hidden/d.py", dag);
        w("__pycache__/e.py", dag);
        w(".airflowignore", "skip/\nsub/ignored_*\n");
        w("proj/leoflow.yaml", "dag_id: p\n");
        w("proj/dag.py", dag);
        w("proj/lib.py", dag);
        let got: Vec<String> = discover(d.path())
            .iter()
            .map(|s| {
                s.dag_file()
                    .strip_prefix(d.path())
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(got, vec!["a.py", "sub/c.py", "proj/dag.py"]);
    }
}
