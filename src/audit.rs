//! The audit log: one row in Airflow's `log` table per mutating API action, with who did it,
//! when, the DAG/run/task it touched and a masked summary of the request (`extra`), named as
//! Airflow names the event (its endpoint's operation id: `trigger_dag_run`, `patch_dag`,
//! `post_variable`, `bulk_pools`...). Served by `/api/v2/eventLogs`.
//!
//! The mutations (`ops`) call [`write`] inside the transaction of the change they record, so
//! the action and its row commit together (dry runs are not recorded).
//!
//! **Invariant:** `extra` never holds a secret: callers pass bodies through [`masked_body`] or
//! build it from non-secret fields.

use serde_json::{Map, Value, json};

use crate::auth::Identity;
use crate::store::audit::LogRow;
use crate::store::{StoreError, Tx};

/// One audit entry under construction.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    row: LogRow,
    extra: Map<String, Value>,
}

impl Entry {
    /// An entry for `event` (Airflow's name for the action).
    pub fn new(event: &str) -> Entry {
        Entry {
            row: LogRow {
                event: event.into(),
                ..Default::default()
            },
            extra: Map::new(),
        }
    }

    pub fn dag(mut self, dag_id: &str) -> Entry {
        self.row.dag_id = Some(dag_id.into());
        self
    }

    pub fn run(mut self, run_id: &str) -> Entry {
        self.row.run_id = Some(run_id.into());
        self
    }

    pub fn task(mut self, task_id: &str) -> Entry {
        self.row.task_id = Some(task_id.into());
        self
    }

    pub fn map_index(mut self, map_index: i64) -> Entry {
        self.row.map_index = Some(map_index);
        self
    }

    pub fn try_number(mut self, try_number: i64) -> Entry {
        self.row.try_number = Some(try_number);
        self
    }

    /// Adds the fields of `fields` (an object) to `extra`; `method` is always recorded.
    pub fn extra(mut self, fields: Value) -> Entry {
        if let Value::Object(m) = fields {
            self.extra.extend(m);
        }
        self
    }
}

/// Writes `entry` as done by `who` now, in the caller's transaction.
pub fn write(tx: &Tx<'_>, who: &Identity, entry: Entry) -> Result<(), StoreError> {
    let Entry { mut row, extra } = entry;
    row.dttm = crate::store::now();
    row.owner = Some(who.username.clone());
    row.extra = Some(crate::secrets::python_json(&Value::Object(extra)));
    crate::store::audit::insert(tx, &row)?;
    Ok(())
}

/// How a request body is masked before it goes into `extra`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masking {
    /// Values under sensitive names become `***` (Airflow's `redact`).
    Sensitive,
    /// Also every variable `value` (Airflow records that a variable changed, not its value).
    Variable,
    /// Also every key of a connection `extra` maps to `***`.
    Connection,
}

/// A request body as Airflow puts it into `extra`: masked, entity by entity for bulk bodies.
pub fn masked_body(body: &Value, how: Masking) -> Value {
    let entity = |e: &Value| -> Value {
        let Value::Object(m) = e else {
            return e.clone();
        };
        let mut out = Map::new();
        for (k, v) in m {
            let masked = match (how, k.as_str()) {
                (Masking::Variable, "value" | "val") => json!(crate::secrets::MASK),
                (Masking::Connection, "extra") if !v.is_null() => {
                    match v.as_str().map(serde_json::from_str::<Value>) {
                        Some(Ok(Value::Object(x))) => Value::Object(
                            x.keys()
                                .map(|k| (k.clone(), json!(crate::secrets::MASK)))
                                .collect(),
                        ),
                        _ => json!("Encountered non-JSON in `extra` field"),
                    }
                }
                _ => crate::secrets::redact(v, Some(k)),
            };
            out.insert(k.clone(), masked);
        }
        Value::Object(out)
    };
    match body.get("actions").and_then(Value::as_array) {
        Some(actions) => {
            let masked: Vec<Value> = actions
                .iter()
                .map(|a| {
                    let mut a = a.clone();
                    if let Some(es) = a.get("entities").and_then(Value::as_array) {
                        let es: Vec<Value> = es.iter().map(entity).collect();
                        a["entities"] = Value::Array(es);
                    }
                    a
                })
                .collect();
            json!({ "actions": masked })
        }
        None => entity(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_masked_like_airflow() {
        let v = masked_body(
            &json!({"key": "k", "value": "plain", "description": "d"}),
            Masking::Variable,
        );
        assert_eq!(v, json!({"key": "k", "value": "***", "description": "d"}));
        let c = masked_body(
            &json!({"connection_id": "c", "password": "pw", "extra": "{\"a\": 1}"}),
            Masking::Connection,
        );
        assert_eq!(
            c,
            json!({"connection_id": "c", "password": "***", "extra": {"a": "***"}})
        );
        let bulk = masked_body(
            &json!({"actions": [{"action": "create", "entities": [{"key": "k", "value": "v"}]}]}),
            Masking::Variable,
        );
        assert_eq!(bulk["actions"][0]["entities"][0]["value"], "***");
    }
}
