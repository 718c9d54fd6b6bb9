//! The DAG model Lite keeps: exactly what the Python shim reports (see `python/PROTOCOL.md`),
//! deserialised into typed fields for what Rust uses, with every other key preserved in
//! `extra` so nothing the shim reports is dropped on the way to the store or the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One file's parse result.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ParseResult {
    pub file: String,
    #[serde(default)]
    pub dags: Vec<Dag>,
    #[serde(default)]
    pub import_errors: Vec<ImportError>,
    /// The `.py` files under the DAG folder that the import loaded (helper modules): a change
    /// to one of them re-parses this file.
    #[serde(default)]
    pub imports: Vec<String>,
    #[serde(default)]
    pub duration_ms: f64,
    /// Problems that did not stop the import (an `AssetWatcher` Lite cannot run...).
    #[serde(default)]
    pub warnings: Vec<ParseWarning>,
}

/// A parse warning: the file still imported.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ParseWarning {
    pub filename: String,
    #[serde(default)]
    pub lineno: Option<u32>,
    pub message: String,
}

/// Why a file could not be loaded: Airflow's import error, with `file:line` and traceback.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportError {
    pub filename: String,
    #[serde(default)]
    pub lineno: Option<u32>,
    pub message: String,
    #[serde(default)]
    pub traceback: String,
}

impl ImportError {
    /// An error raised on the Rust side (validation, overlay) for `filename`.
    pub fn new(
        filename: impl Into<String>,
        lineno: Option<u32>,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        ImportError {
            filename: filename.into(),
            lineno,
            traceback: message.clone(),
            message,
        }
    }

    /// `file:line: message`, as printed by the CLI.
    pub fn display(&self) -> String {
        match self.lineno {
            Some(l) => format!("{}:{}: {}", self.filename, l, self.message),
            None => format!("{}: {}", self.filename, self.message),
        }
    }
}

/// A DAG's schedule, as the shim reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    Cron {
        expr: String,
        #[serde(default = "utc")]
        timezone: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    Delta {
        seconds: f64,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    Once,
    Continuous,
    /// Asset-triggered (`AssetTriggeredTimetable`, `PartitionedAssetTimetable`) or, with
    /// `or_timetable`, `AssetOrTimeSchedule`.
    Assets {
        /// The URIs of the condition's assets (the protocol's first form; enough alone).
        #[serde(default)]
        uris: Vec<String>,
        /// Airflow's `asset_expression`: the condition tree.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expression: Option<AssetExpr>,
        /// The definitions of the condition's assets (extra, watchers).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        assets: Vec<AssetDef>,
        /// The time schedule an `AssetOrTimeSchedule` also runs on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        or_timetable: Option<Box<Schedule>>,
        /// A `PartitionedAssetTimetable`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        partitioned: bool,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// A user timetable (a plugin's): `class`, `summary`, `description`. Runs are triggered;
    /// the scheduler does not compute its ticks.
    Custom {
        #[serde(default)]
        class: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
}

impl Schedule {
    /// The condition of an asset schedule: its expression, else all of its URIs (assets named
    /// by their URI, the protocol's first form).
    pub fn asset_condition(&self) -> Option<AssetExpr> {
        match self {
            Schedule::Assets {
                expression: Some(e),
                ..
            } => Some(e.clone()),
            Schedule::Assets { uris, .. } => Some(AssetExpr::All(
                uris.iter()
                    .map(|u| {
                        AssetExpr::Asset(AssetKey {
                            uri: u.clone(),
                            name: u.clone(),
                            group: default_group(),
                        })
                    })
                    .collect(),
            )),
            _ => None,
        }
    }
}

/// An asset condition, in Airflow's `asset_expression` form: `{"asset": {...}}`,
/// `{"alias": {...}}`, `{"asset_ref": {"name"} | {"uri"}}`, `{"all": [...]}`, `{"any": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AssetExpr {
    Asset(AssetKey),
    Alias(AliasKey),
    AssetRef(AssetRefKey),
    All(Vec<AssetExpr>),
    Any(Vec<AssetExpr>),
}

/// An asset as an expression names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetKey {
    pub uri: String,
    pub name: String,
    #[serde(default = "default_group")]
    pub group: String,
}

/// An asset alias as an expression names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AliasKey {
    pub name: String,
    #[serde(default = "default_group")]
    pub group: String,
}

/// `Asset.ref(name=...)` or `Asset.ref(uri=...)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssetRefKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// An asset's definition where a DAG declares it (schedule, outlet, inlet).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssetDef {
    pub uri: String,
    pub name: String,
    #[serde(default = "default_group")]
    pub group: String,
    #[serde(default)]
    pub extra: Map<String, Value>,
    #[serde(default)]
    pub watchers: Vec<WatcherDef>,
}

/// An `AssetWatcher`: its name and its trigger's class path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WatcherDef {
    pub name: String,
    pub trigger: String,
}

/// What a task lists in `inlets`/`outlets` (the protocol's ASSET_LIKE).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum AssetLike {
    Asset(AssetDef),
    Alias(AliasKey),
    AssetRef(AssetRefKey),
}

fn default_group() -> String {
    "asset".into()
}

fn utc() -> String {
    "UTC".into()
}

/// A DAG as parsed. Fields the shim leaves out take their defaults (Airflow's, where a field
/// says so).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Dag {
    pub dag_id: String,
    pub fileloc: String,
    pub lineno: Option<u32>,
    pub description: Option<String>,
    pub doc_md: Option<String>,
    #[serde(default = "airflow")]
    pub owner: String,
    pub tags: Vec<String>,
    pub schedule: Option<Schedule>,
    pub timetable_summary: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    #[serde(default = "utc")]
    pub timezone: String,
    pub catchup: bool,
    #[serde(default = "sixteen")]
    pub max_active_runs: u32,
    #[serde(default = "sixteen")]
    pub max_active_tasks: u32,
    pub max_consecutive_failed_dag_runs: u32,
    pub dagrun_timeout: Option<f64>,
    pub is_paused_upon_creation: Option<bool>,
    pub render_template_as_native_obj: bool,
    pub default_args: Map<String, Value>,
    pub params: BTreeMap<String, Value>,
    pub task_groups: Vec<Value>,
    pub tasks: Vec<Task>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn airflow() -> String {
    "airflow".into()
}
fn sixteen() -> u32 {
    16
}
fn one() -> u32 {
    1
}
fn all_success() -> String {
    "all_success".into()
}
fn default_pool() -> String {
    "default_pool".into()
}
fn yes() -> bool {
    true
}

/// A task as parsed. Fields the shim leaves out take their defaults (Airflow's, where a field
/// says so).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Task {
    pub task_id: String,
    pub operator: String,
    pub kind: String,
    pub task_group: Option<String>,
    pub lineno: Option<u32>,
    pub upstream: Vec<String>,
    pub edge_labels: BTreeMap<String, String>,
    #[serde(default = "all_success")]
    pub trigger_rule: String,
    pub retries: u32,
    pub retry_delay: f64,
    pub retry_exponential_backoff: bool,
    pub max_retry_delay: Option<f64>,
    pub execution_timeout: Option<f64>,
    #[serde(default = "default_pool")]
    pub pool: String,
    #[serde(default = "one")]
    pub pool_slots: u32,
    #[serde(default = "one_i")]
    pub priority_weight: i64,
    #[serde(default = "airflow")]
    pub owner: String,
    #[serde(default = "yes")]
    pub do_xcom_push: bool,
    pub multiple_outputs: bool,
    pub doc_md: Option<String>,
    pub template_fields: Vec<String>,
    pub args: Map<String, Value>,
    pub mapped: Option<Value>,
    /// The image the task runs in with `--executor docker` (its `executor_config`, or the
    /// project's `base_image`).
    pub image: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one_i() -> i64 {
    1
}

/// Every trigger rule of Airflow 3.
pub const TRIGGER_RULES: &[&str] = &[
    "all_success",
    "all_failed",
    "all_done",
    "all_done_setup_success",
    "one_success",
    "one_failed",
    "one_done",
    "none_failed",
    "none_failed_min_one_success",
    "none_skipped",
    "always",
    "all_skipped",
    "all_done_min_one_success",
];

impl Task {
    /// The task's `outlets` (or `inlets`): the protocol's `outlet_assets`, else its `outlets`
    /// URIs (assets named by their URI).
    pub fn assets(&self, outlets: bool) -> Vec<AssetLike> {
        let (defs, uris) = if outlets {
            ("outlet_assets", "outlets")
        } else {
            ("inlet_assets", "inlets")
        };
        if let Some(v) = self.extra.get(defs) {
            return serde_json::from_value(v.clone()).unwrap_or_default();
        }
        self.extra
            .get(uris)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|u| u.as_str())
            .map(|u| {
                AssetLike::Asset(AssetDef {
                    uri: u.to_string(),
                    name: u.to_string(),
                    group: default_group(),
                    extra: Map::new(),
                    watchers: Vec::new(),
                })
            })
            .collect()
    }

    fn flag(&self, key: &str) -> bool {
        self.extra
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// A setup task (`as_setup()`, `@setup`).
    pub fn is_setup(&self) -> bool {
        self.flag("is_setup")
    }

    /// A teardown task (`as_teardown()`, `@teardown`).
    pub fn is_teardown(&self) -> bool {
        self.flag("is_teardown")
    }

    /// A teardown whose failure fails the run (`on_failure_fail_dagrun=True`).
    pub fn on_failure_fail_dagrun(&self) -> bool {
        self.flag("on_failure_fail_dagrun")
    }

    /// The closest mapped task group (`@task_group ... .expand()`) the task is in.
    pub fn mapped_group(&self) -> Option<&str> {
        self.extra.get("mapped_group").and_then(Value::as_str)
    }
}

impl Dag {
    /// The `mapped` spec (`expand`, `expand_kwargs`, `partial`) of a mapped task group.
    pub fn group_mapping(&self, group_id: &str) -> Option<&Value> {
        self.task_groups
            .iter()
            .find(|g| g.get("group_id").and_then(Value::as_str) == Some(group_id))
            .and_then(|g| g.get("mapped"))
            .filter(|m| !m.is_null())
    }

    /// Airflow's `_tis_for_dagrun_state`: the tasks whose states decide a finished run's
    /// state. Teardowns (unless `on_failure_fail_dagrun`) are ignored: a task whose only
    /// downstreams are such teardowns counts as a leaf.
    pub fn effective_leaves(&self) -> std::collections::BTreeSet<&str> {
        let down = self.downstream();
        let ignorable = |t: &Task| t.is_teardown() && !t.on_failure_fail_dagrun();
        let mut out: std::collections::BTreeSet<&str> = self
            .tasks
            .iter()
            .filter(|t| {
                !ignorable(t)
                    && down[t.task_id.as_str()]
                        .iter()
                        .all(|d| self.task(d).is_some_and(ignorable))
            })
            .map(|t| t.task_id.as_str())
            .collect();
        if out.is_empty() {
            out = down
                .iter()
                .filter(|(_, d)| d.is_empty())
                .map(|(id, _)| *id)
                .collect();
        }
        out
    }

    /// The task with this id.
    pub fn task(&self, task_id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.task_id == task_id)
    }

    /// Downstream ids of each task (the inverse of `upstream`), sorted.
    pub fn downstream(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = self
            .tasks
            .iter()
            .map(|t| (t.task_id.as_str(), vec![]))
            .collect();
        for t in &self.tasks {
            for u in &t.upstream {
                if let Some(v) = out.get_mut(u.as_str()) {
                    v.push(&t.task_id);
                }
            }
        }
        for v in out.values_mut() {
            v.sort();
        }
        out
    }

    /// Task ids in a topological order (definition order among ready tasks); tasks on a
    /// cycle come last in definition order.
    pub fn topological(&self) -> Vec<&str> {
        let mut indeg: BTreeMap<&str, usize> = self
            .tasks
            .iter()
            .map(|t| {
                (
                    t.task_id.as_str(),
                    t.upstream.iter().filter(|u| self.task(u).is_some()).count(),
                )
            })
            .collect();
        let down = self.downstream();
        let mut out = Vec::with_capacity(self.tasks.len());
        let mut done = std::collections::HashSet::new();
        loop {
            let next: Vec<&str> = self
                .tasks
                .iter()
                .map(|t| t.task_id.as_str())
                .filter(|id| !done.contains(id) && indeg[id] == 0)
                .collect();
            if next.is_empty() {
                break;
            }
            for id in next {
                done.insert(id);
                out.push(id);
                for d in &down[id] {
                    if let Some(n) = indeg.get_mut(d) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
        }
        for t in &self.tasks {
            if !done.contains(t.task_id.as_str()) {
                out.push(&t.task_id);
            }
        }
        out
    }
}
