//! DAG mutations: pause and unpause (one DAG, or every DAG a filter matches), delete,
//! favourites, a re-parse of a DAG file now, registrations.

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

/// What a registration answers: `{dag_id, version, spec_hash, created}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Registered {
    pub dag_id: String,
    /// The version number the content has.
    pub version: i64,
    pub spec_hash: String,
    /// A new version was stored (201); `false`: the latest already had this content (200).
    pub created: bool,
    /// When that version was stored.
    pub created_at: String,
}

/// Registers a dag.json (as `leoflow deploy` sends it to Pro) for `dag_id`: schema-checked,
/// read into the model, stored as a new version of the `registered` bundle unless the latest
/// has the same content. Refused (409) when a DAG file defines `dag_id`.
pub async fn register(
    ops: &Ops,
    who: &Identity,
    dag_id: &str,
    doc: serde_json::Value,
    paused_by_default: bool,
) -> Result<Registered, OpError> {
    let problems = crate::dag::compile::check_schema(&doc);
    if let Some(first) = problems.first() {
        return Err(OpError::Invalid {
            loc: vec!["body".into()],
            kind: "value_error",
            msg: format!(
                "the dag.json does not match the Leoflow DAG schema (schema_version 1.0): {first}{}",
                match problems.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                }
            ),
            input: serde_json::Value::Null,
        });
    }
    if doc["dag_id"] != dag_id {
        return Err(OpError::BadRequest(format!(
            "the dag.json's dag_id {} is not the DAG of the URL, {dag_id:?}",
            doc["dag_id"]
        )));
    }
    let dag = crate::dag::registered::from_dag_json(&doc).map_err(|e| OpError::Invalid {
        loc: vec!["body".into()],
        kind: "value_error",
        msg: e,
        input: serde_json::Value::Null,
    })?;
    let canonical = serde_json::to_string(&doc).expect("JSON serialises");
    let hash = dags::spec_hash(&canonical, "");
    let source = match doc["source"].as_str() {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => serde_json::to_string_pretty(&doc).expect("JSON serialises"),
    };
    let bundle_version = doc["dag_version"].as_str().unwrap_or_default().to_string();
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let (reg, changes) = match dags::record_registration(
            tx,
            &dag,
            &hash,
            &source,
            &bundle_version,
            paused_by_default,
        )? {
            Ok(x) => x,
            Err(dags::RegistrationRefused::DefinedByFile(file)) => {
                return Err(OpError::Conflict(format!(
                    "DAG {:?} is defined by the DAG file {file}; register it under another dag_id or remove the file",
                    dag.dag_id
                )));
            }
        };
        for c in changes {
            if let dags::Change::DagUpdated { dag_id, version_number, .. } = c {
                fx.event(
                    "dag_updated",
                    json!({"dag_id": dag_id, "version_number": version_number}),
                );
            }
        }
        fx.wake = true;
        if reg.new_version {
            let extra = json!({"version": reg.version_number, "dag_version": bundle_version, "method": "POST"});
            audit(tx, &who, Entry::new("register_dag_version").dag(&dag.dag_id).extra(extra))?;
        }
        Ok(Registered {
            dag_id: dag.dag_id.clone(),
            version: reg.version_number,
            spec_hash: hash.clone(),
            created: reg.new_version,
            created_at: reg.created_at,
        })
    })
    .await
}

/// Marks (or unmarks) a DAG as one of `who`'s favourites. 404 without the DAG; unmarking a DAG
/// that is not a favourite is Airflow's 409, and so is marking one twice (its unique-constraint
/// answer).
pub async fn favorite(ops: &Ops, who: &Identity, dag_id: &str, yes: bool) -> Result<(), OpError> {
    let (who, dag_id) = (who.clone(), dag_id.to_string());
    ops.commit(move |tx, _| {
        if dags::get_dag(tx, &dag_id)?.is_none() {
            return Err(OpError::NotFound(format!(
                "Dag with id '{dag_id}' not found"
            )));
        }
        let user = who.username.clone();
        if yes && !dags::favorite(tx, &user, &dag_id)? {
            return Err(OpError::UniqueViolation(format!(
                "{user} already marked {dag_id} as a favorite"
            )));
        }
        if !yes && !dags::unfavorite(tx, &user, &dag_id)? {
            return Err(OpError::Conflict("Dag is not marked as favorite".into()));
        }
        let event = if yes {
            "favorite_dag"
        } else {
            "unfavorite_dag"
        };
        audit(
            tx,
            &who,
            Entry::new(event)
                .dag(&dag_id)
                .extra(json!({"method": "POST"})),
        )
    })
    .await
}

/// Asks the DAG processor to parse the file `(bundle_name, relative_fileloc)` names now (even
/// when unchanged), as Airflow's priority parsing request. 404 (`File not found`) unless a DAG
/// comes from that file.
pub async fn reparse(
    ops: &Ops,
    who: &Identity,
    bundle_name: &str,
    relative_fileloc: &str,
) -> Result<(), OpError> {
    let who = who.clone();
    let (bundle, rel) = (bundle_name.to_string(), relative_fileloc.to_string());
    ops.commit(move |tx, fx| {
        let file = dags::file_of(tx, &bundle, &rel)?
            .ok_or_else(|| OpError::NotFound("File not found".into()))?;
        fx.reparse.push(file.into());
        let extra = json!({"bundle_name": bundle, "relative_fileloc": rel, "method": "PUT"});
        audit(tx, &who, Entry::new("reparse_dag_file").extra(extra))
    })
    .await
}
