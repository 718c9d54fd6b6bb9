//! Leoflow projects: a folder with `leoflow.yaml` next to its `dag.py`.
//!
//! The YAML (schema `schemas/leoflow-yaml-schema.json`) overlays the parsed DAG: `description`,
//! `owner`, `tags` replace the DAG's; `defaults` apply to every task; `tasks.<id>` overrides one
//! task (task override > defaults > dag.py), and its `env` is merged over the task's `env`.
//! An unknown key or task id is an error naming the nearest valid one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::model::Dag;

/// The file name that marks a project folder.
pub const FILE: &str = "leoflow.yaml";

const TOP_KEYS: &[&str] = &[
    "schema_version",
    "dag_id",
    "description",
    "owner",
    "tags",
    "python_version",
    "base_image",
    "dependencies",
    "system_packages",
    "dag_source",
    "include_paths",
    "exclude_paths",
    "build",
    "registry",
    "defaults",
    "staging",
    "tasks",
];
const DEFAULTS_KEYS: &[&str] = &[
    "retries",
    "retry_delay_seconds",
    "execution_timeout_seconds",
    "resources",
];
const TASK_KEYS: &[&str] = &[
    "retries",
    "retry_delay_seconds",
    "execution_timeout_seconds",
    "env",
    "resources",
    "execution",
];

/// A parsed `leoflow.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub path: PathBuf,
    /// The whole document, checked against the known keys.
    pub doc: Map<String, Value>,
}

/// The project's DAG file name (`dag_source`, default `dag.py`), read leniently so discovery
/// works even when the YAML is broken (the error is reported when the project is loaded).
pub fn dag_source(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(FILE))
        .ok()
        .and_then(|t| serde_saphyr::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v.get("dag_source")
                .and_then(|s| s.as_str())
                .map(String::from)
        })
        .unwrap_or_else(|| "dag.py".into())
}

/// The valid name closest to `got`, for "did you mean" hints.
pub fn nearest<'a>(got: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    valid
        .into_iter()
        .map(|v| (strsim::jaro_winkler(got, v), v))
        .filter(|(s, _)| *s > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v)
}

fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
                || t.strip_prefix(&format!("\"{key}\""))
                    .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

impl Project {
    /// Reads and checks `dir/leoflow.yaml`. Errors are `path:line: message`.
    pub fn load(dir: &Path) -> Result<Project, String> {
        let path = dir.join(FILE);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let where_ = |key: &str| match line_of(&text, key) {
            Some(l) => format!("{}:{l}", path.display()),
            None => path.display().to_string(),
        };
        let value: Value = serde_saphyr::from_str(&text)
            .map_err(|e| format!("{}: invalid YAML: {e}", path.display()))?;
        let Value::Object(doc) = value else {
            return Err(format!(
                "{}: expected a mapping with at least `dag_id`",
                path.display()
            ));
        };
        let check_keys = |m: &Map<String, Value>, valid: &[&str], at: &str| -> Result<(), String> {
            for k in m.keys() {
                if !valid.contains(&k.as_str()) {
                    let hint = nearest(k, valid.iter().copied())
                        .map(|n| format!("did you mean `{n}`?"))
                        .unwrap_or_else(|| format!("valid keys: {}", valid.join(", ")));
                    return Err(format!("{}: unknown key `{at}{k}`: {hint}", where_(k)));
                }
            }
            Ok(())
        };
        check_keys(&doc, TOP_KEYS, "")?;
        match doc.get("dag_id") {
            Some(Value::String(id)) if super::validate::valid_id(id) => {}
            Some(v) => {
                return Err(format!(
                    "{}: dag_id {v} must be a string of letters, digits, '_' or '-'",
                    where_("dag_id")
                ));
            }
            None => return Err(format!("{}: missing required key `dag_id`", path.display())),
        }
        if let Some(d) = doc.get("defaults") {
            let m = d
                .as_object()
                .ok_or_else(|| format!("{}: `defaults` must be a mapping", where_("defaults")))?;
            check_keys(m, DEFAULTS_KEYS, "defaults.")?;
            check_numbers(m, "defaults.", &where_)?;
        }
        if let Some(t) = doc.get("tasks") {
            let m = t.as_object().ok_or_else(|| {
                format!(
                    "{}: `tasks` must be a mapping of task_id to overrides",
                    where_("tasks")
                )
            })?;
            for (id, o) in m {
                let o = o
                    .as_object()
                    .ok_or_else(|| format!("{}: `tasks.{id}` must be a mapping", where_(id)))?;
                check_keys(o, TASK_KEYS, &format!("tasks.{id}."))?;
                check_numbers(o, &format!("tasks.{id}."), &where_)?;
                if let Some(env) = o.get("env") {
                    let ok = env
                        .as_object()
                        .is_some_and(|e| e.values().all(|v| v.is_string()));
                    if !ok {
                        return Err(format!(
                            "{}: `tasks.{id}.env` must map names to strings (quote numbers)",
                            where_("env")
                        ));
                    }
                }
            }
        }
        Ok(Project { path, doc })
    }

    pub fn dag_id(&self) -> &str {
        self.doc
            .get("dag_id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }

    /// Applies the overlay to `dag`. Errors name the YAML key at fault.
    pub fn apply(&self, dag: &mut Dag) -> Result<(), String> {
        let p = self.path.display();
        if let Some(Value::String(d)) = self.doc.get("description") {
            dag.description = Some(d.clone());
        }
        if let Some(Value::String(o)) = self.doc.get("owner") {
            dag.owner = o.clone();
            for t in &mut dag.tasks {
                t.owner = o.clone();
            }
        }
        if let Some(Value::Array(tags)) = self.doc.get("tags") {
            let mut t: Vec<String> = tags
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            t.sort();
            t.dedup();
            dag.tags = t;
        }
        let empty = Map::new();
        let defaults = self
            .doc
            .get("defaults")
            .and_then(|v| v.as_object())
            .unwrap_or(&empty);
        let overrides = self
            .doc
            .get("tasks")
            .and_then(|v| v.as_object())
            .unwrap_or(&empty);
        for id in overrides.keys() {
            if dag.task(id).is_none() {
                let hint = nearest(id, dag.tasks.iter().map(|t| t.task_id.as_str()))
                    .map(|n| format!("did you mean `{n}`?"))
                    .unwrap_or_else(|| {
                        format!(
                            "tasks of DAG {:?}: {}",
                            dag.dag_id,
                            dag.tasks
                                .iter()
                                .map(|t| t.task_id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    });
                return Err(format!(
                    "{p}: `tasks.{id}` names no task of DAG {:?}: {hint}",
                    dag.dag_id
                ));
            }
        }
        let base_image = self.doc.get("base_image").and_then(|v| v.as_str());
        for t in &mut dag.tasks {
            if t.image.is_none() {
                t.image = base_image.map(String::from);
            }
            let o = overrides.get(&t.task_id).and_then(|v| v.as_object());
            let pick = |k: &str| o.and_then(|o| o.get(k)).or_else(|| defaults.get(k));
            if let Some(n) = pick("retries").and_then(|v| v.as_u64()) {
                t.retries = n as u32;
            }
            if let Some(n) = pick("retry_delay_seconds").and_then(|v| v.as_f64()) {
                t.retry_delay = n;
            }
            if let Some(n) = pick("execution_timeout_seconds").and_then(|v| v.as_f64()) {
                t.execution_timeout = Some(n);
            }
            if let Some(r) = pick("resources") {
                let checks: [(&str, Check); 2] = [
                    ("memory", |v| memory_quantity(v).map(drop)),
                    ("cpu", |v| cpu_quantity(v).map(drop)),
                ];
                for (key, check) in checks {
                    for side in ["requests", "limits"] {
                        if let Some(v) = r.get(side).and_then(|s| s.get(key)) {
                            let text = v.as_str().map(String::from).unwrap_or(v.to_string());
                            check(&text).map_err(|e| {
                                format!(
                                    "{p}: `resources.{side}.{key}` of task {:?}: {e}",
                                    t.task_id
                                )
                            })?;
                        }
                    }
                }
                t.extra.insert("resources".into(), r.clone());
            }
            if let Some(o) = o {
                if let Some(x) = o.get("execution") {
                    t.extra.insert("execution".into(), x.clone());
                }
                if let Some(Value::Object(env)) = o.get("env") {
                    let mut merged: BTreeMap<String, Value> = match t.args.get("env") {
                        Some(Value::Object(m)) => m.clone().into_iter().collect(),
                        _ => BTreeMap::new(),
                    };
                    merged.extend(env.clone());
                    t.args.insert("env".into(), json!(merged));
                }
            }
        }
        dag.extra
            .insert("leoflow_project".into(), json!(self.path.parent()));
        Ok(())
    }
}

/// Checks one value of `leoflow.yaml`.
type Check = fn(&str) -> Result<(), String>;

/// Bytes of a Kubernetes memory quantity (`512Mi`, `1Gi`, `2G`, `1000000`).
pub fn memory_quantity(v: &str) -> Result<i64, String> {
    let v = v.trim();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let factor: f64 = match unit {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    match number.parse::<f64>() {
        Ok(n) if factor.is_finite() && n > 0.0 => Ok((n * factor) as i64),
        _ => Err(format!(
            "{v:?} is not a memory quantity; accepted: a number of bytes, or with a unit Ki, Mi, Gi, Ti, K, M, G, T (e.g. \"512Mi\")"
        )),
    }
}

/// CPUs of a Kubernetes CPU quantity (`500m`, `0.5`, `2`).
pub fn cpu_quantity(v: &str) -> Result<f64, String> {
    let v = v.trim();
    let parsed = match v.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().map(|n| n / 1000.0),
        None => v.parse::<f64>(),
    };
    match parsed {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(n),
        _ => Err(format!(
            "{v:?} is not a CPU quantity; accepted: CPUs (\"0.5\", \"2\") or millicores (\"500m\")"
        )),
    }
}

fn check_numbers(
    m: &Map<String, Value>,
    at: &str,
    where_: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    for (k, min) in [
        ("retries", 0),
        ("retry_delay_seconds", 0),
        ("execution_timeout_seconds", 1),
    ] {
        if let Some(v) = m.get(k)
            && v.as_u64().is_none_or(|n| n < min)
        {
            return Err(format!(
                "{}: `{at}{k}` is {v}; expected a whole number >= {min}",
                where_(k)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(yaml: &str) -> Result<Project, String> {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(FILE), yaml).unwrap();
        Project::load(d.path())
    }

    #[test]
    fn kubernetes_quantities_read_as_bytes_and_cpus() {
        assert_eq!(memory_quantity("512Mi"), Ok(512 << 20));
        assert_eq!(memory_quantity("1Gi"), Ok(1 << 30));
        assert_eq!(memory_quantity("2G"), Ok(2_000_000_000));
        assert_eq!(memory_quantity("1.5Ki"), Ok(1536));
        assert_eq!(memory_quantity("1000"), Ok(1000));
        for bad in ["", "0", "-1Gi", "1gb", "Mi", "1 Gi"] {
            assert!(memory_quantity(bad).is_err(), "{bad}");
        }
        assert_eq!(cpu_quantity("500m"), Ok(0.5));
        assert_eq!(cpu_quantity("2"), Ok(2.0));
        assert_eq!(cpu_quantity("0.25"), Ok(0.25));
        for bad in ["", "0", "m", "-1", "two", "inf"] {
            assert!(cpu_quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_keys_name_the_nearest_valid_one_and_the_line() {
        let e = project("dag_id: x\ndefautls:\n  retries: 1\n").unwrap_err();
        assert!(
            e.contains(":2: unknown key `defautls`") && e.contains("did you mean `defaults`?"),
            "{e}"
        );
        let e = project("dag_id: x\ntasks:\n  a:\n    retires: 1\n").unwrap_err();
        assert!(
            e.contains("`tasks.a.retires`") && e.contains("`retries`"),
            "{e}"
        );
        let e = project("dag_id: x\ndefaults:\n  retries: -1\n").unwrap_err();
        assert!(e.contains("defaults.retries") && e.contains(">= 0"), "{e}");
        assert!(
            project("description: no id\n")
                .unwrap_err()
                .contains("dag_id")
        );
    }
}
