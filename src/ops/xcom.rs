//! XCom entry mutations: create a value under a new key, replace an existing one, delete one.
//!
//! Values live in sled, the audit row in SQLite: the value is written (and flushed) inside the
//! audit row's transaction, so a failed write records nothing.

use serde_json::{Value, json};

use super::tis::no_ti;
use super::{OpError, Ops, audit};
use crate::audit::Entry;
use crate::auth::Identity;
use crate::store::runs::{self, RunRow};
use crate::store::tis;
use crate::xcom::XcomKey;

/// What an XCom entry's JSON needs besides the key: its run and its task instance's end.
pub struct Written {
    pub run: RunRow,
    pub end_date: Option<String>,
}

/// Writes `value` under `key`: `create` refuses an existing key (409), otherwise the key must
/// exist (404). The task instance must exist.
pub async fn put(
    ops: &Ops,
    who: &Identity,
    key: XcomKey,
    value: Value,
    create: bool,
) -> Result<Written, OpError> {
    let who = who.clone();
    let xcom = ops
        .xcom
        .clone()
        .ok_or_else(|| OpError::BadRequest("XCom is not open in this process".into()))?;
    ops.commit(move |tx, _| {
        let run = runs::get(tx, &key.dag_id, &key.run_id)?;
        let ti = tis::get(tx, &key.dag_id, &key.run_id, &key.task_id, key.map_index)?;
        let (Some(run), Some(ti)) = (run, ti) else {
            return Err(no_ti(&key.dag_id, &key.run_id, &key.task_id, key.map_index));
        };
        let exists = xcom.get(&key)?.is_some();
        if create && exists {
            return Err(OpError::Conflict(format!(
                "The XCom with key: `{}` with mentioned task instance already exists.",
                key.key
            )));
        }
        if !create && !exists {
            return Err(OpError::NotFound(format!(
                "The XCom with key: `{}` with mentioned task instance doesn't exist.",
                key.key
            )));
        }
        xcom.put(&key, &value)?;
        xcom.flush()?;
        let (event, method) = if create {
            ("create_xcom_entry", "POST")
        } else {
            ("update_xcom_entry", "PATCH")
        };
        let entry = Entry::new(event)
            .dag(&key.dag_id)
            .run(&key.run_id)
            .task(&key.task_id);
        audit(tx, &who, entry.extra(json!({ "method": method })))?;
        Ok(Written {
            run,
            end_date: ti.end_date,
        })
    })
    .await
}

/// Deletes the value under `key` (Airflow's 404 when there is none; the task instance need
/// not exist, as in Airflow, which deletes XCom rows by key).
pub async fn delete(ops: &Ops, who: &Identity, key: XcomKey) -> Result<(), OpError> {
    let who = who.clone();
    let xcom = ops
        .xcom
        .clone()
        .ok_or_else(|| OpError::BadRequest("XCom is not open in this process".into()))?;
    ops.commit(move |tx, _| {
        if !xcom.delete(&key)? {
            return Err(OpError::NotFound(format!(
                "The XCom with key: `{}` with mentioned task instance doesn't exist.",
                key.key
            )));
        }
        xcom.flush()?;
        let entry = Entry::new("delete_xcom_entry")
            .dag(&key.dag_id)
            .run(&key.run_id)
            .task(&key.task_id)
            .map_index(key.map_index);
        audit(
            tx,
            &who,
            entry.extra(json!({"key": key.key, "method": "DELETE"})),
        )
    })
    .await
}
