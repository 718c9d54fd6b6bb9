//! `leoflow compile`: a parsed DAG → the Pro `dag.json` (`schemas/dag-schema.json`).
//!
//! Pro runs three task types (python, bash, http_api) with five trigger rules. Whatever the
//! schema cannot carry (mapping, branching, sensors, other rules, nested XComArgs...) is a
//! compile error naming the task and the feature; nothing is dropped silently. The output is
//! validated against the embedded schema before it is returned.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::model::{Dag, Schedule, Task};

mod entrypoints;

/// The Pro DAG schema, embedded.
pub const SCHEMA: &str = include_str!("../../schemas/dag-schema.json");

/// The trigger rules Pro implements.
pub const PRO_TRIGGER_RULES: &[&str] = &[
    "all_success",
    "all_failed",
    "all_done",
    "one_success",
    "one_failed",
];

/// Inputs besides the DAG.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Image reference; default `<dag_id>:<dag_version>`.
    pub image: Option<String>,
    /// Version label; default `sha-<first 12 hex of the content hash>`.
    pub dag_version: Option<String>,
    /// The folder entrypoint module paths are relative to (project dir or DAG folder).
    pub root: std::path::PathBuf,
    /// The DAG file's text, embedded as `source`.
    pub source: String,
    /// `staging` from leoflow.yaml, if any.
    pub staging: Option<Value>,
}

/// A compiled DAG: its `dag.json` and the Python modules its entrypoints need besides the
/// DAG's own code (see [`entrypoints`]), as `(file name, text)`, to sit beside the DAG's
/// module root in the image.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub doc: Value,
    pub modules: Vec<(String, String)>,
}

/// Compiles `dag`; on failure, every problem found (not just the first).
pub fn compile(dag: &Dag, opts: &Options) -> Result<Compiled, Vec<String>> {
    let mut errors = Vec::new();
    let mut out = Map::new();
    out.insert("schema_version".into(), json!("1.0"));
    out.insert("dag_id".into(), json!(dag.dag_id));
    if let Some(d) = &dag.description {
        out.insert("description".into(), json!(d));
    }
    out.insert("owner".into(), json!(dag.owner));
    let mut tags = dag.tags.clone();
    tags.sort();
    tags.dedup();
    out.insert("tags".into(), json!(tags));
    match &dag.schedule {
        None => {
            out.insert("schedule".into(), Value::Null);
        }
        Some(Schedule::Cron { expr, timezone, .. }) => {
            if expr.starts_with('@')
                && ![
                    "@hourly",
                    "@daily",
                    "@weekly",
                    "@monthly",
                    "@quarterly",
                    "@yearly",
                    "@annually",
                    "@midnight",
                ]
                .contains(&expr.as_str())
            {
                errors.push(format!("DAG {:?}: schedule {expr:?} cannot be carried by Pro (cron expressions and @hourly/@daily/@weekly/@monthly/@yearly only)", dag.dag_id));
            }
            out.insert("schedule".into(), json!(expr));
            out.insert("schedule_timezone".into(), json!(timezone));
        }
        Some(other) => {
            let what = match other {
                Schedule::Delta { seconds, .. } => format!("a timedelta schedule ({seconds} s)"),
                Schedule::Once => "schedule \"@once\"".into(),
                Schedule::Continuous => "schedule \"@continuous\"".into(),
                Schedule::Custom { class, .. } => format!("the plugin timetable {class}"),
                _ => "an asset-triggered schedule".into(),
            };
            errors.push(format!(
                "DAG {:?}: {what} cannot be carried by Pro; use a cron expression or None",
                dag.dag_id
            ));
        }
    }
    if let Some(s) = &dag.start_date {
        out.insert("start_date".into(), json!(s));
    }
    if let Some(e) = &dag.end_date {
        out.insert("end_date".into(), json!(e));
    }
    out.insert("max_active_runs".into(), json!(dag.max_active_runs.max(1)));
    out.insert("catchup".into(), json!(dag.catchup));
    let mut defaults = Map::new();
    if let Some(r) = dag.default_args.get("retries").and_then(|v| v.as_u64()) {
        defaults.insert("retries".into(), json!(r.min(100)));
    }
    if let Some(s) = dag.default_args.get("retry_delay").and_then(seconds) {
        defaults.insert("retry_delay_seconds".into(), json!(s.round() as u64));
    }
    if let Some(s) = dag.default_args.get("execution_timeout").and_then(seconds) {
        defaults.insert(
            "execution_timeout_seconds".into(),
            json!((s.round() as u64).max(1)),
        );
    }
    if !defaults.is_empty() {
        out.insert("default_args".into(), Value::Object(defaults));
    }
    if let Some(s) = &opts.staging {
        out.insert("staging".into(), s.clone());
    }
    let module = module_path(Path::new(&dag.fileloc), &opts.root);
    let mut wrappers = entrypoints::Module::new(&dag.dag_id, &module);
    let mut tasks = Vec::new();
    for id in dag.topological() {
        let t = dag.task(id).expect("listed by topological()");
        match task(dag, t, &module, &mut wrappers) {
            Ok(v) => tasks.push(v),
            Err(e) => errors.extend(e.into_iter().map(|m| {
                let at = t.lineno.map(|l| format!("line {l}: ")).unwrap_or_default();
                format!("{at}task {:?} of DAG {:?}: {m}", t.task_id, dag.dag_id)
            })),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    out.insert("tasks".into(), Value::Array(tasks));
    out.insert("source".into(), json!(opts.source));
    let hash = {
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&out).expect("serialisable"));
        hex::encode(h.finalize())
    };
    let version = opts
        .dag_version
        .clone()
        .unwrap_or_else(|| format!("sha-{}", &hash[..12]));
    let image = opts
        .image
        .clone()
        .unwrap_or_else(|| format!("{}:{}", dag.dag_id.to_lowercase(), version));
    out.insert("dag_version".into(), json!(version));
    out.insert("image".into(), json!(image));
    let out = Value::Object(out);
    let problems = check_schema(&out);
    if problems.is_empty() {
        Ok(Compiled {
            doc: out,
            modules: wrappers.file().into_iter().collect(),
        })
    } else {
        Err(problems
            .into_iter()
            .map(|p| {
                format!(
                    "DAG {:?}: the compiled dag.json does not match the Pro schema: {p}",
                    dag.dag_id
                )
            })
            .collect())
    }
}

/// Schema violations of a dag.json (empty when valid).
pub fn check_schema(doc: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let v = VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("embedded schema is JSON");
        jsonschema::validator_for(&schema).expect("embedded schema compiles")
    });
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn seconds(v: &Value) -> Option<f64> {
    v.get("__timedelta__")
        .and_then(|s| s.as_f64())
        .or_else(|| v.as_f64())
}

/// `dags/etl/daily.py` under `dags/` → `etl.daily`.
fn module_path(file: &Path, root: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let rel = rel.with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| c != "/")
        .collect::<Vec<_>>()
        .join(".")
}

fn is_plain_json(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.keys().any(|k| k.starts_with("__")) && m.values().all(is_plain_json),
        Value::Array(a) => a.iter().all(is_plain_json),
        _ => true,
    }
}

/// The upstream task of an XComArg of its plain return value (what Pro injects directly).
fn plain_return_value(v: &Value) -> Option<&str> {
    let x = v.get("__xcomarg__")?;
    let key = x
        .get("key")
        .and_then(|k| k.as_str())
        .unwrap_or("return_value");
    let transformed = x.get("map").is_some() || x.get("zip").is_some() || x.get("concat").is_some();
    (key == "return_value" && !transformed)
        .then(|| x.get("task_id").and_then(|u| u.as_str()))
        .flatten()
}

fn contains_xcomarg(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("__xcomarg__") || m.values().any(contains_xcomarg),
        Value::Array(a) => a.iter().any(contains_xcomarg),
        _ => false,
    }
}

fn task(
    dag: &Dag,
    t: &Task,
    module: &str,
    wrappers: &mut entrypoints::Module,
) -> Result<Value, Vec<String>> {
    let mut errors = Vec::new();
    let mut out = Map::new();
    out.insert("task_id".into(), json!(t.task_id));
    if t.mapped.is_some() {
        errors
            .push("dynamic task mapping (.expand / .expand_kwargs) is not supported by Pro".into());
    }
    if !PRO_TRIGGER_RULES.contains(&t.trigger_rule.as_str()) {
        errors.push(format!(
            "trigger_rule {:?} is not supported by Pro (supported: {})",
            t.trigger_rule,
            PRO_TRIGGER_RULES.join(", ")
        ));
    }
    if t.retries > 100 {
        errors.push(format!(
            "retries {} is over Pro's maximum of 100",
            t.retries
        ));
    }
    let mut up = t.upstream.clone();
    up.sort();
    up.dedup();
    out.insert("depends_on".into(), json!(up));
    out.insert("trigger_rule".into(), json!(t.trigger_rule));
    out.insert("retries".into(), json!(t.retries.min(100)));
    out.insert(
        "retry_delay_seconds".into(),
        json!(t.retry_delay.round().max(0.0) as u64),
    );
    if let Some(s) = t.execution_timeout {
        out.insert(
            "execution_timeout_seconds".into(),
            json!((s.round() as u64).max(1)),
        );
    }
    for k in ["resources", "execution"] {
        if let Some(v) = t.extra.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let env = match t.args.get("env") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if m.values().all(|v| v.is_string()) => {
            Some(Value::Object(m.clone()))
        }
        Some(other) => {
            errors.push(format!("env {other} must map names to strings for Pro"));
            None
        }
    };
    match t.kind.as_str() {
        "bash" => {
            out.insert("type".into(), json!("bash"));
            out.insert("execution_mode".into(), json!("pod"));
            match t.args.get("bash_command") {
                Some(Value::String(cmd)) => {
                    out.insert("entrypoint".into(), json!(cmd));
                }
                _ => errors.push("a bash command computed at run time (@task.bash) is not supported by Pro; use BashOperator(bash_command=...)".into()),
            }
            if let Some(e) = env {
                out.insert("env".into(), e);
            }
        }
        "empty" => {
            // A no-op: Pro runs it as the shell's `true`.
            out.insert("type".into(), json!("bash"));
            out.insert("execution_mode".into(), json!("pod"));
            out.insert("entrypoint".into(), json!("true"));
        }
        "python" => {
            out.insert("type".into(), json!("python"));
            out.insert("execution_mode".into(), json!("pod"));
            let callable = t
                .args
                .get("python_callable")
                .and_then(|c| c.get("__callable__"));
            let qualname = callable
                .and_then(|c| c.get("qualname"))
                .and_then(|q| q.as_str())
                .unwrap_or("");
            let params: Vec<String> = callable
                .and_then(|c| c.get("parameters"))
                .and_then(|p| p.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let mut xcom_input = Map::new();
            let mut call_args = Map::new();
            // Arguments built from upstream values (fan-in, a multiple_outputs key): their
            // shape with placeholders, filled by a generated entrypoint.
            let mut template = Map::new();
            let mut bind = |name: String, v: &Value, errors: &mut Vec<String>| {
                if let Some(up) = plain_return_value(v) {
                    xcom_input.insert(name, json!(up));
                } else if contains_xcomarg(v) {
                    match entrypoints::placeholders(dag, v, &mut xcom_input) {
                        Ok(shape) => {
                            template.insert(name, shape);
                        }
                        Err(e) => errors.push(format!("argument {name:?} {e}")),
                    }
                } else if !is_plain_json(v) {
                    errors.push(format!(
                        "argument {name:?} is not plain JSON ({v}); Pro passes call_args as JSON"
                    ));
                } else {
                    call_args.insert(name, v.clone());
                }
            };
            if let Some(Value::Array(args)) = t.args.get("op_args") {
                for (i, v) in args.iter().enumerate() {
                    match params.get(i) {
                        Some(name) => bind(name.clone(), v, &mut errors),
                        None => errors.push(format!("positional argument #{} has no parameter name (variadic *args are not supported by Pro)", i + 1)),
                    }
                }
            }
            if let Some(Value::Object(kw)) = t.args.get("op_kwargs") {
                for (k, v) in kw {
                    bind(k.clone(), v, &mut errors);
                }
            }
            // Pro imports `module:function`: a function nested in another (an @dag function's
            // tasks), a lambda or a callable object, and arguments combining upstream values,
            // go through a generated module-level entrypoint that finds the task's callable
            // in the DAG.
            let importable = !qualname.is_empty() && !qualname.contains('<');
            if importable && template.is_empty() {
                out.insert("entrypoint".into(), json!(format!("{module}:{qualname}")));
            } else {
                out.insert(
                    "entrypoint".into(),
                    json!(wrappers.add(&t.task_id, template)),
                );
            }
            if !xcom_input.is_empty() {
                out.insert("xcom_input".into(), Value::Object(xcom_input));
            }
            if !call_args.is_empty() {
                out.insert("call_args".into(), Value::Object(call_args));
            }
            if let Some(e) = env {
                out.insert("env".into(), e);
            }
        }
        "http" => {
            out.insert("type".into(), json!("http_api"));
            out.insert("execution_mode".into(), json!("inline"));
            let endpoint = t
                .args
                .get("endpoint")
                .and_then(|e| e.as_str())
                .unwrap_or("");
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                errors.push(format!(
                    "HttpOperator endpoint {endpoint:?} is relative to connection {}; Pro needs an absolute URL in `endpoint`",
                    t.args.get("http_conn_id").map(|c| c.to_string()).unwrap_or_else(|| "\"http_default\"".into())
                ));
            }
            let method = t
                .args
                .get("method")
                .and_then(|m| m.as_str())
                .unwrap_or("POST")
                .to_uppercase();
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                errors.push(format!(
                    "HTTP method {method:?} is not supported by Pro (GET, POST, PUT, PATCH, DELETE)"
                ));
            }
            let mut req = Map::new();
            req.insert("method".into(), json!(method));
            req.insert("url".into(), json!(endpoint));
            if let Some(Value::Object(h)) = t.args.get("headers") {
                if h.values().all(|v| v.is_string()) {
                    req.insert("headers".into(), Value::Object(h.clone()));
                } else {
                    errors.push("HTTP headers must be strings".into());
                }
            }
            match t.args.get("data") {
                None | Some(Value::Null) => {}
                Some(v) if is_plain_json(v) => {
                    req.insert("body".into(), v.clone());
                }
                Some(v) => errors.push(format!("HTTP data {v} is not plain JSON")),
            }
            if let Some(s) = t.execution_timeout {
                req.insert("timeout_seconds".into(), json!((s.round() as u64).max(1)));
            }
            out.insert("http_request".into(), Value::Object(req));
        }
        kind => {
            let feature = match kind {
                "branch" | "branch_datetime" | "branch_weekday" => {
                    format!("branching ({})", t.operator)
                }
                "short_circuit" => format!("short-circuiting ({})", t.operator),
                "sensor" | "time_delta_sensor" => format!("sensors ({})", t.operator),
                "trigger_dagrun" => "TriggerDagRunOperator".into(),
                "latest_only" => "LatestOnlyOperator".into(),
                _ => format!("operator {}", t.operator),
            };
            errors.push(format!(
                "{feature} is not supported by Pro, which runs python, bash and http_api tasks"
            ));
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(out))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths_are_dotted_and_relative() {
        assert_eq!(
            module_path(Path::new("/d/etl/daily.py"), Path::new("/d")),
            "etl.daily"
        );
        assert_eq!(module_path(Path::new("/p/dag.py"), Path::new("/p")), "dag");
    }
}
