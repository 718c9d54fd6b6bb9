//! DAG mutations: pause and unpause (one DAG, or every DAG a filter matches), delete.

use serde_json::json;

use super::{OpError, Ops, audit};
use crate::audit::Entry;
use crate::auth::Identity;
use crate::store::dags::{self, DagFilter, DagRow};
use crate::store::{runs, tis};

fn no_dag(dag_id: &str) -> OpError {
    OpError::NotFound(format!("The Dag with ID: `{dag_id}` was not found"))
}

/// Pauses or unpauses one DAG; the DAG as it is after.
pub async fn set_paused(
    ops: &Ops,
    who: &Identity,
    dag_id: &str,
    paused: bool,
) -> Result<DagRow, OpError> {
    let (who, dag_id) = (who.clone(), dag_id.to_string());
    ops.commit(move |tx, fx| {
        if !dags::set_paused(tx, &dag_id, paused)? {
            return Err(no_dag(&dag_id));
        }
        fx.event(
            "dag_updated",
            json!({"dag_id": dag_id, "is_paused": paused}),
        );
        fx.wake = true;
        let extra = json!({"is_paused": paused, "method": "PATCH"});
        audit(tx, &who, Entry::new("patch_dag").dag(&dag_id).extra(extra))?;
        dags::get_dag(tx, &dag_id)?.ok_or_else(|| no_dag(&dag_id))
    })
    .await
}

/// Pauses or unpauses every DAG `filter` selects (one page of them); those DAGs after.
pub async fn set_paused_matching(
    ops: &Ops,
    who: &Identity,
    filter: DagFilter,
    paused: bool,
) -> Result<Vec<DagRow>, OpError> {
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let (rows, _) = dags::list_dags(tx, &filter)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            dags::set_paused(tx, &r.dag_id, paused)?;
            fx.event(
                "dag_updated",
                json!({"dag_id": r.dag_id, "is_paused": paused}),
            );
            out.extend(dags::get_dag(tx, &r.dag_id)?);
        }
        fx.wake = true;
        audit(
            tx,
            &who,
            Entry::new("patch_dags").extra(json!({"method": "PATCH"})),
        )?;
        Ok(out)
    })
    .await
}

/// Deletes a DAG and all its metadata and XCom (it comes back at the next parse while its
/// file exists, as in Airflow); 409 while one of its tasks runs. The number of rows deleted.
pub async fn delete(ops: &Ops, who: &Identity, dag_id: &str) -> Result<i64, OpError> {
    let (who, dag_id) = (who.clone(), dag_id.to_string());
    ops.commit(move |tx, fx| {
        if tis::any_active_in_dag(tx, &dag_id)? {
            return Err(OpError::Conflict(format!(
                "Task instances of dag with id: '{dag_id}' are still running"
            )));
        }
        let run_ids = runs::ids_of_dag(tx, &dag_id)?;
        let n = dags::delete_dag(tx, &dag_id)?.ok_or_else(|| no_dag(&dag_id))?;
        for r in run_ids {
            fx.clear_xcom.push((dag_id.clone(), r, None));
        }
        fx.event("dag_removed", json!({"dag_id": dag_id, "deleted": true}));
        let entry = Entry::new("delete_dag").dag(&dag_id);
        audit(tx, &who, entry.extra(json!({"method": "DELETE"})))?;
        Ok(n)
    })
    .await
}
