//! Asset mutations: create an asset event (which queues the DAGs scheduled on the asset, as a
//! task's outlet does), materialize an asset (trigger the one DAG producing it), and delete
//! queued asset events. Each runs in one transaction with its audit row, named as Airflow's
//! endpoints (`create_asset_event`, `materialize_asset`, `delete_asset_queued_events`,
//! `delete_dag_asset_queued_events`, `delete_dag_asset_queued_event`).

use serde_json::{Map, Value, json};

use super::runs::{Trigger, trigger_as};
use super::{Effects, OpError, Ops, audit};
use crate::audit::Entry;
use crate::auth::Identity;
use crate::store::assets::{self, EventRow, NewEvent, Target};
use crate::store::now;
use crate::store::runs::RunRow;

/// `POST /assets/events`: an event of asset `asset_id` with `extra` (and a partition key),
/// without a source task; the DAGs scheduled on the asset are queued.
pub async fn create_event(
    ops: &Ops,
    who: &Identity,
    asset_id: i64,
    extra: Map<String, Value>,
    partition_key: Option<String>,
) -> Result<EventRow, OpError> {
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let e = NewEvent {
            extra: extra.clone(),
            partition_key: partition_key.clone(),
            source_map_index: -1,
            ..NewEvent::default()
        };
        let emitted = assets::emit(tx, Target::Id(asset_id), &e, &[], &now())?
            .ok_or_else(|| no_asset(asset_id))?;
        audit(
            tx,
            &who,
            Entry::new("create_asset_event").extra(json!({
                "asset_id": asset_id,
                "extra": Value::Object(extra),
                "partition_key": partition_key,
                "method": "POST",
            })),
        )?;
        asset_event(fx, &emitted);
        assets::event(tx, emitted.event_id)?
            .ok_or_else(|| OpError::NotFound(format!("Asset event {} vanished", emitted.event_id)))
    })
    .await
}

/// `POST /assets/{asset_id}/materialize`: a run (type `asset_materialization`) of the one DAG
/// with a task producing the asset. 404 when none does, 409 when several do.
pub async fn materialize(
    ops: &Ops,
    who: &Identity,
    asset_id: i64,
    mut t: Trigger,
) -> Result<RunRow, OpError> {
    let dags = ops
        .store
        .read(move |db| assets::producing_dags(db, asset_id, 2))
        .await?;
    let dag_id = match dags.as_slice() {
        [] => {
            return Err(OpError::NotFound(format!(
                "No Dag materializes asset with ID: {asset_id}"
            )));
        }
        [one] => one.clone(),
        _ => {
            return Err(OpError::Conflict(format!(
                "More than one Dag materializes asset with ID: {asset_id}"
            )));
        }
    };
    t.dag_id = dag_id;
    t.event = "materialize_asset";
    trigger_as(ops, who, t, "asset_materialization").await
}

/// Which queued events to delete: those of a DAG, of an asset, or both; queued before
/// `before` when given.
#[derive(Debug, Clone, Default)]
pub struct QueueScope {
    pub dag_id: Option<String>,
    pub asset_id: Option<i64>,
    pub before: Option<String>,
}

/// Deletes queued asset events; 404 (Airflow's message for the scope) when nothing matched.
pub async fn delete_queued(ops: &Ops, who: &Identity, scope: QueueScope) -> Result<(), OpError> {
    let who = who.clone();
    ops.commit(move |tx, _fx| {
        let ids = scope.asset_id.map(|a| vec![a]);
        let n = assets::dequeue(
            tx,
            scope.dag_id.as_deref(),
            ids.as_deref(),
            scope.before.as_deref(),
        )?;
        if n == 0 {
            return Err(OpError::NotFound(not_queued(&scope)));
        }
        let event = match (&scope.dag_id, scope.asset_id) {
            (Some(_), Some(_)) => "delete_dag_asset_queued_event",
            (Some(_), None) => "delete_dag_asset_queued_events",
            _ => "delete_asset_queued_events",
        };
        let mut entry = Entry::new(event).extra(json!({
            "asset_id": scope.asset_id,
            "before": scope.before,
            "method": "DELETE",
        }));
        if let Some(d) = &scope.dag_id {
            entry = entry.dag(d);
        }
        audit(tx, &who, entry)
    })
    .await
}

/// Airflow's 404 for an empty queue scope.
pub fn not_queued(scope: &QueueScope) -> String {
    match (&scope.dag_id, scope.asset_id) {
        (Some(d), Some(a)) => {
            format!("Queued event with dag_id: `{d}` and asset_id: `{a}` was not found")
        }
        (Some(d), None) => format!("Queue event with dag_id: `{d}` was not found"),
        (None, Some(a)) => format!("Queue event with asset_id: `{a}` was not found"),
        (None, None) => "Queue event was not found".into(),
    }
}

fn no_asset(id: i64) -> OpError {
    OpError::NotFound(format!("Asset with ID: `{id}` was not found"))
}

fn asset_event(fx: &mut Effects, e: &assets::Emitted) {
    fx.event(
        "asset_event",
        json!({"asset_id": e.asset_id, "event_id": e.event_id, "queued": e.queued}),
    );
    fx.wake = !e.queued.is_empty();
}
