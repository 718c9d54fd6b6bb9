//! `/api/v2/assets*`, the DAGs' queued asset events and a run's upstream asset events, in
//! Airflow 3.2's shapes (`AssetResponse`, `AssetAliasResponse`, `AssetEventResponse`,
//! `QueuedEventResponse`). Reads go to `store::assets`; creating events, materializing and
//! deleting queued events go through `ops::assets`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::admin;
use super::dags::ts;
use super::params::{Cond, Filter, Params, Val, bad_ts, parse_ts};
use super::routes::Group;
use super::runs::run_json;
use super::task_instances::path_int;
use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::ops;
use crate::store::assets::{self as q, AliasRow, AssetRow, Details, EventRow, QueueRow};

/// The asset routes any signed-in user may read.
pub fn reads(g: Group) -> Group {
    g.get("/assets", list)
        .get("/assets/aliases", aliases)
        .get("/assets/aliases/{asset_alias_id}", alias)
        .get("/assets/events", events)
        .get("/assets/{asset_id}", get)
        .get("/assets/{asset_id}/queuedEvents", asset_queued)
        .get("/dags/{dag_id}/assets/queuedEvents", dag_queued)
        .get(
            "/dags/{dag_id}/assets/{asset_id}/queuedEvents",
            dag_asset_queued,
        )
        .get(
            "/dags/{dag_id}/dagRuns/{dag_run_id}/upstreamAssetEvents",
            upstream_events,
        )
}

/// The asset routes that change things: admins only, as Lite's other admin resources.
pub fn writes(g: Group) -> Group {
    g.post("/assets/events", create_event)
        .post("/assets/{asset_id}/materialize", materialize)
        .delete("/assets/{asset_id}/queuedEvents", delete_asset_queued)
        .delete("/dags/{dag_id}/assets/queuedEvents", delete_dag_queued)
        .delete(
            "/dags/{dag_id}/assets/{asset_id}/queuedEvents",
            delete_dag_asset_queued,
        )
}

// --- shapes --------------------------------------------------------------------------------

/// The `AssetResponse` shape.
fn asset_json(a: &AssetRow, d: &Details) -> Value {
    let reference = |r: &q::Reference, with_task: bool| {
        let mut v = json!({
            "dag_id": r.dag_id,
            "created_at": ts(Some(&r.created_at)),
            "updated_at": ts(Some(&r.updated_at)),
        });
        if with_task {
            v["task_id"] = json!(r.task_id);
        }
        v
    };
    json!({
        "id": a.id,
        "name": a.name,
        "uri": a.uri,
        "group": a.group,
        "extra": a.extra,
        "created_at": ts(Some(&a.created_at)),
        "updated_at": ts(Some(&a.updated_at)),
        "scheduled_dags": d.scheduled_dags.iter().map(|r| reference(r, false)).collect::<Vec<_>>(),
        "producing_tasks": d.producing_tasks.iter().map(|r| reference(r, true)).collect::<Vec<_>>(),
        "consuming_tasks": d.consuming_tasks.iter().map(|r| reference(r, true)).collect::<Vec<_>>(),
        "aliases": d.aliases.iter().map(alias_json).collect::<Vec<_>>(),
        "watchers": d.watchers.iter().map(|w| json!({
            "name": w.name,
            "trigger_id": w.trigger_id,
            "created_date": ts(Some(&w.created_date)),
        })).collect::<Vec<_>>(),
        "last_asset_event": d.last_event.as_ref().map(|(id, t)| json!({
            "id": id,
            "timestamp": ts(Some(t)),
        })),
    })
}

/// The `AssetAliasResponse` shape.
fn alias_json(a: &AliasRow) -> Value {
    json!({"id": a.id, "name": a.name, "group": a.group})
}

/// The `AssetEventResponse` shape.
fn event_json(e: &EventRow) -> Value {
    json!({
        "id": e.id,
        "asset_id": e.asset_id,
        "uri": e.uri,
        "name": e.name,
        "group": e.group,
        "extra": e.extra,
        "source_task_id": e.source_task_id,
        "source_dag_id": e.source_dag_id,
        "source_run_id": e.source_run_id,
        "source_map_index": e.source_map_index,
        "created_dagruns": e.created_dagruns.iter().map(|r| json!({
            "run_id": r.run_id,
            "dag_id": r.dag_id,
            "logical_date": ts(r.logical_date.as_deref()),
            "start_date": ts(r.start_date.as_deref()),
            "end_date": ts(r.end_date.as_deref()),
            "state": r.state,
            "data_interval_start": ts(r.data_interval_start.as_deref()),
            "data_interval_end": ts(r.data_interval_end.as_deref()),
            "partition_key": null,
        })).collect::<Vec<_>>(),
        "timestamp": ts(Some(&e.timestamp)),
        "partition_key": e.partition_key,
    })
}

/// The `QueuedEventResponse` shape.
fn queued_json(r: &QueueRow) -> Value {
    json!({
        "dag_id": r.dag_id,
        "asset_id": r.asset_id,
        "created_at": ts(Some(&r.created_at)),
        "dag_display_name": r.dag_id,
    })
}

// --- reads ---------------------------------------------------------------------------------

/// `GET /assets`: `name_pattern`, `uri_pattern` (and their `_prefix_pattern`s), `dag_ids`,
/// `only_active` (default true), `order_by`, `limit`/`offset`.
async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let page = p.page()?;
    let order = admin::order_by(
        &p,
        &[
            ("id", "id"),
            ("name", "name"),
            ("uri", "uri"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
        ],
        vec![("id", false)],
    )?;
    let mut f = Filter::default();
    p.patterns(&mut f, &[("name", "name"), ("uri", "uri")]);
    if p.bool("only_active")?.unwrap_or(true) {
        f.eq("is_active", true);
    }
    let dag_ids: Vec<String> = p
        .all("dag_ids")
        .into_iter()
        .flat_map(|v| {
            v.split(',')
                .map(str::trim)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty())
        .collect();
    let (rows, total, details) = s
        .store
        .read(move |db| {
            if !dag_ids.is_empty() {
                let ids = q::ids_of_dags(db, &dag_ids)?;
                f.push(Cond::In {
                    field: "id",
                    values: ids.into_iter().map(Val::Int).collect(),
                    or_null: false,
                });
            }
            let (rows, total) = q::list(db, &f, &order, page)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let details = q::details(db, &ids)?;
            Ok::<_, crate::store::StoreError>((rows, total, details))
        })
        .await?;
    let assets: Vec<Value> = rows
        .iter()
        .map(|a| asset_json(a, details.get(&a.id).unwrap_or(&Details::default())))
        .collect();
    Ok(Json(json!({"assets": assets, "total_entries": total})))
}

/// `GET /assets/{asset_id}`.
async fn get(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = path_int("asset_id", &id)?;
    let found = s
        .store
        .read(move |db| {
            let Some(row) = q::get(db, id)? else {
                return Ok::<_, crate::store::StoreError>(None);
            };
            let d = q::details(db, &[id])?.remove(&id).unwrap_or_default();
            Ok(Some((row, d)))
        })
        .await?;
    let (row, d) = found
        .ok_or_else(|| ApiError::not_found(format!("The Asset with ID: `{id}` was not found")))?;
    Ok(Json(asset_json(&row, &d)))
}

/// `GET /assets/aliases`: `name_pattern`, `order_by` (`id`, `name`), paging.
async fn aliases(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let page = p.page()?;
    let order = admin::order_by(&p, &[("id", "id"), ("name", "name")], vec![("id", false)])?;
    let mut f = Filter::default();
    p.patterns(&mut f, &[("name", "name")]);
    let (rows, total) = s
        .store
        .read(move |db| q::aliases(db, &f, &order, page))
        .await?;
    let list: Vec<Value> = rows.iter().map(alias_json).collect();
    Ok(Json(json!({"asset_aliases": list, "total_entries": total})))
}

/// `GET /assets/aliases/{asset_alias_id}`.
async fn alias(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = path_int("asset_alias_id", &id)?;
    s.store
        .read(move |db| q::alias(db, id))
        .await?
        .map(|a| Json(alias_json(&a)))
        .ok_or_else(|| {
            ApiError::not_found(format!("The Asset Alias with ID: `{id}` was not found"))
        })
}

/// `GET /assets/events`: `asset_id`, `source_dag_id`, `source_task_id`, `source_run_id`,
/// `source_map_index`, `name_pattern`, `timestamp_gte/gt/lte/lt`, `order_by`, paging.
async fn events(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let page = p.page()?;
    let order = admin::order_by(
        &p,
        &[
            ("source_task_id", "source_task_id"),
            ("source_dag_id", "source_dag_id"),
            ("source_run_id", "source_run_id"),
            ("source_map_index", "source_map_index"),
            ("timestamp", "timestamp"),
        ],
        vec![("timestamp", false)],
    )?;
    let mut f = Filter::default();
    for name in ["source_dag_id", "source_task_id", "source_run_id"] {
        if let Some(v) = p.get(name).filter(|v| !v.is_empty()) {
            f.eq(name, v.to_string());
        }
    }
    p.ints(
        &mut f,
        &[
            ("asset_id", "asset_id"),
            ("source_map_index", "source_map_index"),
        ],
    )?;
    p.patterns(&mut f, &[("name", "name")]);
    p.ranges(&mut f, &[("timestamp", "timestamp")])?;
    let (rows, total) = s
        .store
        .read(move |db| q::events(db, &f, &order, page))
        .await?;
    let list: Vec<Value> = rows.iter().map(event_json).collect();
    Ok(Json(json!({"asset_events": list, "total_entries": total})))
}

/// `GET /dags/{dag_id}/dagRuns/{dag_run_id}/upstreamAssetEvents`: the events an
/// asset-triggered run consumed (none for other runs).
async fn upstream_events(
    State(s): State<AppState>,
    Path((dag_id, run_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (d, r) = (dag_id.clone(), run_id.clone());
    let found = s
        .store
        .read(move |db| {
            if crate::store::runs::get(db, &d, &r)?.is_none() {
                return Ok::<_, crate::store::StoreError>(None);
            }
            q::events_of_run(db, &d, &r).map(Some)
        })
        .await?;
    let rows = found.ok_or_else(|| {
        ApiError::not_found(format!(
            "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
        ))
    })?;
    let list: Vec<Value> = rows.iter().map(event_json).collect();
    Ok(Json(
        json!({"asset_events": list, "total_entries": list.len()}),
    ))
}

/// The `before` query parameter of the queued-event routes, in the store's form.
fn before(p: &Params) -> Result<Option<String>, ApiError> {
    match p.get("before").filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_ts(v)
            .map(Some)
            .ok_or_else(|| bad_ts(&["query", "before"], v)),
    }
}

async fn queued(s: &AppState, scope: ops::assets::QueueScope) -> Result<Vec<QueueRow>, ApiError> {
    Ok(s.store
        .read(move |db| {
            q::queue_rows(
                db,
                scope.dag_id.as_deref(),
                scope.asset_id,
                scope.before.as_deref(),
            )
        })
        .await?)
}

/// `GET /assets/{asset_id}/queuedEvents` (an empty list when nothing is queued).
async fn asset_queued(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let scope = ops::assets::QueueScope {
        asset_id: Some(path_int("asset_id", &id)?),
        before: before(&p)?,
        ..Default::default()
    };
    let rows = queued(&s, scope).await?;
    let list: Vec<Value> = rows.iter().map(queued_json).collect();
    Ok(Json(
        json!({"queued_events": list, "total_entries": list.len()}),
    ))
}

/// `GET /dags/{dag_id}/assets/queuedEvents` (an empty list when nothing is queued).
async fn dag_queued(
    State(s): State<AppState>,
    Path(dag_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let scope = ops::assets::QueueScope {
        dag_id: Some(dag_id),
        before: before(&p)?,
        ..Default::default()
    };
    let rows = queued(&s, scope).await?;
    let list: Vec<Value> = rows.iter().map(queued_json).collect();
    Ok(Json(
        json!({"queued_events": list, "total_entries": list.len()}),
    ))
}

/// `GET /dags/{dag_id}/assets/{asset_id}/queuedEvents`: one `QueuedEventResponse`.
async fn dag_asset_queued(
    State(s): State<AppState>,
    Path((dag_id, asset_id)): Path<(String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let scope = ops::assets::QueueScope {
        dag_id: Some(dag_id),
        asset_id: Some(path_int("asset_id", &asset_id)?),
        before: before(&p)?,
    };
    let rows = queued(&s, scope.clone()).await?;
    rows.first()
        .map(|r| Json(queued_json(r)))
        .ok_or_else(|| ApiError::not_found(ops::assets::not_queued(&scope)))
}

// --- writes --------------------------------------------------------------------------------

/// Airflow's `CreateAssetEventsBody`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateEventBody {
    asset_id: i64,
    #[serde(default)]
    partition_key: Option<String>,
    #[serde(default)]
    extra: Option<Map<String, Value>>,
}

/// `POST /assets/events`.
async fn create_event(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(body): JsonBody<CreateEventBody>,
) -> Result<Json<Value>, ApiError> {
    let e = ops::assets::create_event(
        &s.ops,
        &identity,
        body.asset_id,
        body.extra.unwrap_or_default(),
        body.partition_key,
    )
    .await?;
    Ok(Json(event_json(&e)))
}

/// Airflow's `MaterializeAssetBody` (a trigger body whose fields are all optional).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MaterializeBody {
    dag_run_id: Option<String>,
    data_interval_start: Option<String>,
    data_interval_end: Option<String>,
    logical_date: Option<String>,
    run_after: Option<String>,
    conf: Option<Value>,
    note: Option<String>,
    /// Accepted; Lite's runs carry no partition key.
    #[allow(dead_code)]
    partition_key: Option<String>,
}

/// `POST /assets/{asset_id}/materialize`: the run of the DAG producing the asset.
async fn materialize(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = path_int("asset_id", &id)?;
    let body: MaterializeBody = if body.iter().all(u8::is_ascii_whitespace) {
        MaterializeBody::default()
    } else {
        let v: Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::unprocessable(
                "json_invalid",
                &["body", &e.column().to_string()],
                format!("JSON decode error: {e}"),
                Value::String(String::from_utf8_lossy(&body).chars().take(200).collect()),
            )
        })?;
        if v.is_null() {
            MaterializeBody::default()
        } else {
            serde_json::from_value(v.clone())
                .map_err(|e| ApiError::unprocessable("value_error", &["body"], e.to_string(), v))?
        }
    };
    let conf = match body.conf {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(ApiError::unprocessable(
                "dict_type",
                &["body", "conf"],
                "Input should be a valid dictionary",
                other,
            ));
        }
    };
    let t = ops::runs::Trigger {
        dag_id: String::new(),
        run_id: body.dag_run_id,
        logical_date: super::runs::parse_date("logical_date", &body.logical_date)?,
        run_after: super::runs::parse_date("run_after", &body.run_after)?,
        data_interval_start: super::runs::parse_date(
            "data_interval_start",
            &body.data_interval_start,
        )?,
        data_interval_end: super::runs::parse_date("data_interval_end", &body.data_interval_end)?,
        conf,
        note: body.note,
        triggered_by: "rest_api",
        event: "materialize_asset",
        method: "POST",
        only_task: None,
    };
    let run = ops::assets::materialize(&s.ops, &identity, id, t).await?;
    Ok(Json(run_json(&run)))
}

async fn delete_queued(
    s: &AppState,
    who: &Identity,
    scope: ops::assets::QueueScope,
) -> Result<StatusCode, ApiError> {
    ops::assets::delete_queued(&s.ops, who, scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /assets/{asset_id}/queuedEvents`.
async fn delete_asset_queued(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
    p: Params,
) -> Result<StatusCode, ApiError> {
    let scope = ops::assets::QueueScope {
        asset_id: Some(path_int("asset_id", &id)?),
        before: before(&p)?,
        ..Default::default()
    };
    delete_queued(&s, &identity, scope).await
}

/// `DELETE /dags/{dag_id}/assets/queuedEvents`.
async fn delete_dag_queued(
    State(s): State<AppState>,
    identity: Identity,
    Path(dag_id): Path<String>,
    p: Params,
) -> Result<StatusCode, ApiError> {
    let scope = ops::assets::QueueScope {
        dag_id: Some(dag_id),
        before: before(&p)?,
        ..Default::default()
    };
    delete_queued(&s, &identity, scope).await
}

/// `DELETE /dags/{dag_id}/assets/{asset_id}/queuedEvents`.
async fn delete_dag_asset_queued(
    State(s): State<AppState>,
    identity: Identity,
    Path((dag_id, asset_id)): Path<(String, String)>,
    p: Params,
) -> Result<StatusCode, ApiError> {
    let scope = ops::assets::QueueScope {
        dag_id: Some(dag_id),
        asset_id: Some(path_int("asset_id", &asset_id)?),
        before: before(&p)?,
    };
    delete_queued(&s, &identity, scope).await
}
