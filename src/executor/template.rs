//! Airflow's Jinja templating for task fields (`bash_command`, `env`...), with minijinja and
//! Airflow's context: `ds`, `ds_nodash`, `ts`, `ts_nodash`, `logical_date`,
//! `data_interval_start/end`, `run_id`, `dag`, `task`, `params`, `dag_run.conf`,
//! `var.value`/`var.json`, `conn`, `macros.ds_add`/`ds_format`, `ti.xcom_pull`.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Value as J, from_args};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use serde_json::Value;

use crate::xcom::{RETURN_VALUE, XcomKey, XcomStore};

/// What a task's templates can see.
#[derive(Debug, Clone)]
pub struct Context {
    pub dag_id: String,
    pub run_id: String,
    pub task_id: String,
    pub map_index: i64,
    pub try_number: i64,
    /// The run's logical date, or `run_after` for runs without one (RFC 3339).
    pub date: chrono::DateTime<chrono::Utc>,
    pub data_interval_start: Option<String>,
    pub data_interval_end: Option<String>,
    pub params: Value,
    pub conf: Value,
    pub variables: BTreeMap<String, String>,
    pub connections: Value,
}

impl Context {
    /// The context as the JSON map Python tasks receive.
    pub fn to_json(&self) -> Value {
        let ds = self.date.format("%Y-%m-%d").to_string();
        let ts = self
            .date
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        serde_json::json!({
            "ds": ds,
            "ds_nodash": ds.replace('-', ""),
            "ts": ts,
            "ts_nodash": self.date.format("%Y%m%dT%H%M%S").to_string(),
            "logical_date": ts,
            "data_interval_start": self.data_interval_start,
            "data_interval_end": self.data_interval_end,
            "run_id": self.run_id,
            "params": self.params,
            "conf": self.conf,
            "dag_run": {"run_id": self.run_id, "dag_id": self.dag_id, "conf": self.conf},
            "try_number": self.try_number,
            "map_index": self.map_index,
            "task_instance_key_str": format!("{}__{}__{}", self.dag_id, self.task_id, ds.replace('-', "")),
        })
    }
}

#[derive(Debug)]
struct Ti {
    ctx: Context,
    xcom: XcomStore,
}

impl Object for Ti {
    fn get_value(self: &Arc<Self>, key: &J) -> Option<J> {
        Some(match key.as_str()? {
            "task_id" => J::from(self.ctx.task_id.clone()),
            "dag_id" => J::from(self.ctx.dag_id.clone()),
            "run_id" => J::from(self.ctx.run_id.clone()),
            "map_index" => J::from(self.ctx.map_index),
            "try_number" => J::from(self.ctx.try_number),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[J],
    ) -> Result<J, Error> {
        if method != "xcom_pull" {
            return Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("ti.{method} is not available in Leoflow templates; use ti.xcom_pull"),
            ));
        }
        let (pos, kwargs): (Option<J>, Kwargs) = from_args(args)?;
        let task_ids: Option<J> = match pos {
            Some(v) => Some(v),
            None => kwargs.get("task_ids").ok(),
        };
        let key: Option<String> = kwargs.get("key").ok();
        let key = key.unwrap_or_else(|| RETURN_VALUE.to_string());
        let map_index: Option<i64> = kwargs.get("map_indexes").ok();
        let pull = |task: &str| -> Result<J, Error> {
            let k = XcomKey {
                dag_id: self.ctx.dag_id.clone(),
                run_id: self.ctx.run_id.clone(),
                task_id: task.to_string(),
                map_index: map_index.unwrap_or(-1),
                key: key.clone(),
            };
            let v = self
                .xcom
                .get(&k)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            Ok(v.map(|v| J::from(minijinja::value::Serde(&v)))
                .unwrap_or(J::from(())))
        };
        match task_ids {
            None => pull(&self.ctx.task_id),
            Some(t) if t.as_str().is_some() => pull(t.as_str().unwrap_or_default()),
            Some(list) => {
                let mut out = Vec::new();
                for t in list.try_iter()? {
                    out.push(pull(t.as_str().unwrap_or_default())?);
                }
                Ok(J::from(out))
            }
        }
    }
}

fn ds_add(ds: String, days: i64) -> Result<String, Error> {
    let d = chrono::NaiveDate::parse_from_str(&ds, "%Y-%m-%d")
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("ds_add({ds:?}): {e}")))?;
    Ok((d + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string())
}

fn ds_format(ds: String, input: String, output: String) -> Result<String, Error> {
    let d = chrono::NaiveDate::parse_from_str(&ds, &input).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("ds_format({ds:?}): {e}"),
        )
    })?;
    Ok(d.format(&output).to_string())
}

/// Renders templated strings of one task instance.
pub struct Renderer {
    env: Environment<'static>,
    vars: J,
}

impl Renderer {
    pub fn new(ctx: &Context, xcom: &XcomStore, task_id: &str) -> Renderer {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        // Python's str/dict/list methods (`params.get('x', 'y')`, `ds.replace(...)`), which
        // Airflow templates use freely.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        let mut base = match ctx.to_json() {
            Value::Object(m) => m,
            _ => unreachable!("context is an object"),
        };
        let var_json: serde_json::Map<String, Value> = ctx
            .variables
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::from_str(v).unwrap_or(Value::String(v.clone())),
                )
            })
            .collect();
        base.insert(
            "var".into(),
            serde_json::json!({"value": ctx.variables, "json": var_json}),
        );
        base.insert("conn".into(), ctx.connections.clone());
        base.insert("dag".into(), serde_json::json!({"dag_id": ctx.dag_id}));
        base.insert("task".into(), serde_json::json!({"task_id": task_id}));
        let mut vars: BTreeMap<String, J> = base
            .into_iter()
            .map(|(k, v)| (k, J::from(minijinja::value::Serde(&v))))
            .collect();
        vars.insert(
            "ti".into(),
            J::from_object(Ti {
                ctx: ctx.clone(),
                xcom: xcom.clone(),
            }),
        );
        vars.insert("task_instance".into(), vars["ti"].clone());
        let mut macros = BTreeMap::new();
        macros.insert("ds_add", J::from_function(ds_add));
        macros.insert("ds_format", J::from_function(ds_format));
        vars.insert("macros".into(), J::from(macros));
        env.add_function("ds_add", ds_add);
        Renderer {
            env,
            vars: J::from(vars),
        }
    }

    /// Renders one template string; errors name the field.
    pub fn render(&self, field: &str, template: &str) -> Result<String, String> {
        self.env
            .render_str(template, &self.vars)
            .map_err(|e| format!("cannot render template field {field:?}: {e}"))
    }

    /// Renders every string inside a JSON value.
    pub fn render_value(&self, field: &str, v: &Value) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => Value::String(self.render(field, s)?),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.render_value(field, x))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) if !m.keys().any(|k| k.starts_with("__")) => Value::Object(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), self.render_value(field, x)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
}
