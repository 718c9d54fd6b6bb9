//! Mutating run and task-instance routes of the Airflow API: mark a run, delete it, clear it,
//! mark task instances, and `clearTaskInstances` with its options (all with `dry_run`).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::Params;
use super::runs::{run_json, ti_json};
use super::{ApiError, AppState, JsonBody};
use crate::dag::Dag;
use crate::store::runs::{self as q, RunRow, TiRow};

async fn load_run(
    s: &AppState,
    dag_id: &str,
    run_id: &str,
) -> Result<(RunRow, Dag, Vec<TiRow>), ApiError> {
    let (d, r) = (dag_id.to_string(), run_id.to_string());
    let found = s
        .store
        .read(move |c| {
            let Some(run) = q::get(c, &d, &r)? else {
                return Ok(None);
            };
            let spec: String = c
                .query_row(
                    "SELECT spec FROM dag_version WHERE id = ?1",
                    [&run.dag_version_id],
                    |x| x.get(0),
                )
                .map_err(crate::store::sql)?;
            let tis = q::tis_of_run(c, &d, &r)?;
            Ok(Some((run, spec, tis)))
        })
        .await?;
    let (run, spec, tis) = found.ok_or_else(|| {
        ApiError::not_found(format!(
            "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
        ))
    })?;
    let dag: Dag = serde_json::from_str(&spec).map_err(ApiError::internal)?;
    Ok((run, dag, tis))
}

/// Kills running tries among `tis`, clears their XCom, wakes the scheduler, publishes events.
fn after_change(s: &AppState, tis: &[TiRow], clear_xcom: bool) {
    for ti in tis {
        if matches!(ti.state.as_deref(), Some("running") | Some("queued"))
            && let Some(sched) = &s.scheduler
        {
            sched.kill(&ti.id);
        }
        if clear_xcom {
            let _ = s
                .xcom
                .delete_task(&ti.dag_id, &ti.run_id, &ti.task_id, Some(ti.map_index));
        }
    }
    if let Some(sched) = &s.scheduler {
        sched.wake();
    }
}

fn ti_list(tis: &[TiRow], run: &RunRow) -> Json<Value> {
    Json(
        json!({"task_instances": tis.iter().map(|t| ti_json(t, Some(run))).collect::<Vec<_>>(), "total_entries": tis.len(), "next_cursor": null, "previous_cursor": null}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRun {
    state: Option<String>,
    note: Option<String>,
}

/// `PATCH /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}`: `state` (success, failed, queued) and `note`.
pub async fn patch_run(
    State(s): State<AppState>,
    identity: crate::api::identity::Identity,
    Path((dag_id, run_id)): Path<(String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchRun>,
) -> Result<Json<Value>, ApiError> {
    let (_, dag, tis) = load_run(&s, &dag_id, &run_id).await?;
    let mask: Vec<String> = p.all("update_mask");
    let wants = |f: &str| mask.is_empty() || mask.iter().any(|m| m == f);
    if let Some(state) = body.state.as_deref().filter(|_| wants("state")) {
        let (d, r, st) = (dag_id.clone(), run_id.clone(), state.to_string());
        match state {
            "success" | "failed" => {
                let changed = s
                    .store
                    .write(move |tx| q::set_run_state(tx, &d, &r, &st))
                    .await?;
                after_change(&s, &changed, false);
            }
            "queued" => {
                let retries =
                    move |t: &TiRow| dag.task(&t.task_id).map(|x| x.retries as i64).unwrap_or(0);
                let all = tis.clone();
                s.store
                    .write(move |tx| q::clear(tx, &all, &retries))
                    .await?;
                after_change(&s, &tis, true);
            }
            other => {
                return Err(ApiError::unprocessable(
                    "enum",
                    &["body", "state"],
                    format!("Input should be 'queued', 'success' or 'failed', not {other:?}"),
                    json!(other),
                ));
            }
        }
        s.events.publish(
            "dag_run",
            json!({"dag_id": dag_id, "run_id": run_id, "state": state}),
        );
    }
    if let Some(note) = body.note.filter(|_| wants("note")) {
        let (d, r) = (dag_id.clone(), run_id.clone());
        s.store
            .write(move |tx| {
                tx.execute(
                    "UPDATE dag_run SET note = ?3 WHERE dag_id = ?1 AND run_id = ?2",
                    [&d, &r, &note],
                )
                .map_err(crate::store::sql)?;
                Ok(())
            })
            .await?;
    }
    let entry = crate::audit::Entry::new("patch_dag_run")
        .dag(&dag_id)
        .run(&run_id);
    let extra = json!({"update_mask": p.all("update_mask"), "method": "PATCH"});
    crate::audit::record(&s.store, &identity, entry.extra(extra)).await;
    let (run, _, _) = load_run(&s, &dag_id, &run_id).await?;
    Ok(Json(run_json(&run)))
}

/// `DELETE /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}`: the run, its task instances and XCom.
pub async fn delete_run(
    State(s): State<AppState>,
    identity: crate::api::identity::Identity,
    Path((dag_id, run_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, _, tis) = load_run(&s, &dag_id, &run_id).await?;
    after_change(&s, &tis, false);
    let (d, r) = (dag_id.clone(), run_id.clone());
    s.store.write(move |tx| q::delete(tx, &d, &r)).await?;
    s.xcom.delete_run(&dag_id, &run_id)?;
    s.events.publish(
        "dag_run",
        json!({"dag_id": dag_id, "run_id": run_id, "state": null, "deleted": true}),
    );
    let entry = crate::audit::Entry::new("delete_dag_run")
        .dag(&dag_id)
        .run(&run_id);
    crate::audit::record(
        &s.store,
        &identity,
        entry.extra(json!({"method": "DELETE"})),
    )
    .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearRun {
    #[serde(default = "yes")]
    dry_run: bool,
    #[serde(default)]
    only_failed: bool,
    #[serde(default)]
    only_new: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/clear`.
pub async fn clear_run(
    State(s): State<AppState>,
    identity: crate::api::identity::Identity,
    Path((dag_id, run_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<ClearRun>,
) -> Result<Json<Value>, ApiError> {
    let (run, dag, tis) = load_run(&s, &dag_id, &run_id).await?;
    let _ = body.only_new;
    let chosen: Vec<TiRow> = tis
        .into_iter()
        .filter(|t| {
            !body.only_failed
                || matches!(t.state.as_deref(), Some("failed") | Some("upstream_failed"))
        })
        .collect();
    if body.dry_run {
        return Ok(ti_list(&chosen, &run));
    }
    let retries = move |t: &TiRow| dag.task(&t.task_id).map(|x| x.retries as i64).unwrap_or(0);
    let c = chosen.clone();
    s.store.write(move |tx| q::clear(tx, &c, &retries)).await?;
    after_change(&s, &chosen, true);
    let entry = crate::audit::Entry::new("clear_dag_run")
        .dag(&dag_id)
        .run(&run_id);
    let extra = json!({"dry_run": false, "only_failed": body.only_failed, "method": "POST"});
    crate::audit::record(&s.store, &identity, entry.extra(extra)).await;
    s.events.publish(
        "dag_run",
        json!({"dag_id": dag_id, "run_id": run_id, "state": "queued"}),
    );
    let (run, _, _) = load_run(&s, &dag_id, &run_id).await?;
    Ok(Json(run_json(&run)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearTis {
    #[serde(default = "yes")]
    dry_run: bool,
    start_date: Option<String>,
    end_date: Option<String>,
    dag_run_id: Option<String>,
    task_ids: Option<Vec<Value>>,
    #[serde(default = "yes")]
    only_failed: bool,
    #[serde(default)]
    only_running: bool,
    #[serde(default)]
    include_upstream: bool,
    #[serde(default)]
    include_downstream: bool,
    #[serde(default)]
    include_future: bool,
    #[serde(default)]
    include_past: bool,
    #[serde(default = "yes")]
    reset_dag_runs: bool,
    #[serde(default)]
    run_on_latest_version: bool,
    #[serde(default)]
    prevent_running_task: bool,
}

/// `task_ids` entries: a task id (every map index) or `[task_id, map_index]`.
fn task_selection(ids: &[Value]) -> Result<Vec<(String, Option<i64>)>, ApiError> {
    ids.iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(t) => Ok((t.clone(), None)),
            Value::Array(a) if a.len() == 2 && a[0].is_string() && a[1].is_i64() => {
                Ok((a[0].as_str().unwrap_or_default().to_string(), a[1].as_i64()))
            }
            other => Err(ApiError::unprocessable(
                "value_error",
                &["body", "task_ids", &i.to_string()],
                "Input should be a task id or a [task_id, map_index] pair",
                other.clone(),
            )),
        })
        .collect()
}

/// Task ids plus their upstream and/or downstream closure.
fn with_relatives(dag: &Dag, ids: &BTreeSet<String>, up: bool, down: bool) -> BTreeSet<String> {
    let mut out = ids.clone();
    let downstream = dag.downstream();
    let mut stack: Vec<String> = ids.iter().cloned().collect();
    while let Some(id) = stack.pop() {
        let mut next: Vec<String> = Vec::new();
        if up && let Some(t) = dag.task(&id) {
            next.extend(t.upstream.iter().cloned());
        }
        if down && let Some(d) = downstream.get(id.as_str()) {
            next.extend(d.iter().map(|s| s.to_string()));
        }
        for n in next {
            if out.insert(n.clone()) {
                stack.push(n);
            }
        }
    }
    out
}

/// `POST /api/v2/dags/{dag_id}/clearTaskInstances`.
pub async fn clear_task_instances(
    State(s): State<AppState>,
    identity: crate::api::identity::Identity,
    Path(dag_id): Path<String>,
    JsonBody(body): JsonBody<ClearTis>,
) -> Result<Json<Value>, ApiError> {
    let _ = body.run_on_latest_version;
    let id = dag_id.clone();
    if s.store
        .read(move |c| crate::store::dags::get_dag(c, &id))
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("Dag id {dag_id} not found")));
    }
    let date = |field: &str, v: &Option<String>| -> Result<Option<String>, ApiError> {
        v.as_deref()
            .map(|x| {
                super::params::parse_ts(x).ok_or_else(|| super::params::bad_ts(&["body", field], x))
            })
            .transpose()
    };
    let (from, to) = (
        date("start_date", &body.start_date)?,
        date("end_date", &body.end_date)?,
    );
    let selection = body.task_ids.as_deref().map(task_selection).transpose()?;
    let id = dag_id.clone();
    let runs: Vec<RunRow> = s
        .store
        .read(move |c| {
            Ok(q::list(
                c,
                &q::RunFilter {
                    dag_id: Some(id),
                    limit: i64::MAX,
                    ..Default::default()
                },
            )?
            .0)
        })
        .await?;
    // A run's place in time: its logical date, or when it was due to run.
    let when = |r: &RunRow| {
        r.logical_date
            .clone()
            .unwrap_or_else(|| r.run_after.clone())
    };
    let anchor = match &body.dag_run_id {
        None => None,
        Some(id) => Some(
            runs.iter()
                .find(|r| &r.run_id == id)
                .map(when)
                .ok_or_else(|| {
                    ApiError::not_found(format!("Dag Run id {id} not found in dag {dag_id}"))
                })?,
        ),
    };
    let chosen_runs = runs.iter().filter(|r| {
        let w = when(r);
        let by_run = match (&anchor, &body.dag_run_id) {
            (Some(a), Some(id)) => {
                &r.run_id == id || (body.include_past && w < *a) || (body.include_future && w > *a)
            }
            _ => true,
        };
        by_run && from.as_ref().is_none_or(|f| w >= *f) && to.as_ref().is_none_or(|t| w <= *t)
    });
    let mut out: Vec<(TiRow, RunRow)> = Vec::new();
    let mut to_clear: Vec<(TiRow, Dag)> = Vec::new();
    for run in chosen_runs {
        let (_, dag, tis) = load_run(&s, &dag_id, &run.run_id).await?;
        let wanted: Option<BTreeSet<String>> = selection.as_ref().map(|sel| {
            let base: BTreeSet<String> = sel.iter().map(|(t, _)| t.clone()).collect();
            with_relatives(&dag, &base, body.include_upstream, body.include_downstream)
        });
        for t in tis {
            let state_ok = (!body.only_failed
                || matches!(t.state.as_deref(), Some("failed") | Some("upstream_failed")))
                && (!body.only_running || t.state.as_deref() == Some("running"));
            // A `[task_id, map_index]` pair narrows that task to one index.
            let index_ok = selection.as_ref().is_none_or(|sel| {
                let pairs: Vec<i64> = sel
                    .iter()
                    .filter(|(id, _)| *id == t.task_id)
                    .filter_map(|(_, m)| *m)
                    .collect();
                let whole = sel.iter().any(|(id, m)| *id == t.task_id && m.is_none());
                whole || pairs.is_empty() || pairs.contains(&t.map_index)
            });
            if state_ok && index_ok && wanted.as_ref().is_none_or(|w| w.contains(&t.task_id)) {
                out.push((t.clone(), run.clone()));
                to_clear.push((t, dag.clone()));
            }
        }
    }
    if body.prevent_running_task
        && let Some((t, _)) = out
            .iter()
            .find(|(t, _)| t.state.as_deref() == Some("running"))
    {
        return Err(ApiError::bad_request(format!(
            "Currently running task instances cannot be cleared when prevent_running_task is set: {} of run {}",
            t.task_id, t.run_id
        )));
    }
    let list: Vec<Value> = out.iter().map(|(t, r)| ti_json(t, Some(r))).collect();
    if !body.dry_run {
        let pairs: Vec<(TiRow, i64)> = to_clear
            .iter()
            .map(|(t, d)| {
                (
                    t.clone(),
                    d.task(&t.task_id).map(|x| x.retries as i64).unwrap_or(0),
                )
            })
            .collect();
        let tis: Vec<TiRow> = pairs.iter().map(|(t, _)| t.clone()).collect();
        let reset_runs = body.reset_dag_runs;
        s.store
            .write(move |tx| {
                let retries = |t: &TiRow| {
                    pairs
                        .iter()
                        .find(|(p, _)| p.id == t.id)
                        .map(|(_, r)| *r)
                        .unwrap_or(0)
                };
                let all: Vec<TiRow> = pairs.iter().map(|(t, _)| t.clone()).collect();
                q::clear_with(tx, &all, &retries, reset_runs)
            })
            .await?;
        after_change(&s, &tis, true);
        let mut entry = crate::audit::Entry::new("post_clear_task_instances").dag(&dag_id);
        if let Some(r) = &body.dag_run_id {
            entry = entry.run(r);
        }
        let extra = json!({"dry_run": false, "only_failed": body.only_failed,
            "task_ids": body.task_ids, "method": "POST"});
        crate::audit::record(&s.store, &identity, entry.extra(extra)).await;
    }
    Ok(Json(
        json!({"task_instances": list, "total_entries": list.len(), "next_cursor": null, "previous_cursor": null}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTi {
    new_state: Option<String>,
    note: Option<String>,
    #[serde(default)]
    include_upstream: bool,
    #[serde(default)]
    include_downstream: bool,
    #[serde(default)]
    include_future: bool,
    #[serde(default)]
    include_past: bool,
}

async fn patch_ti_inner(
    s: &AppState,
    (dag_id, run_id, task_id): (&str, &str, &str),
    map_index: Option<i64>,
    p: &Params,
    mut body: PatchTi,
    dry_run: bool,
) -> Result<Json<Value>, ApiError> {
    let _ = (body.include_future, body.include_past);
    let mask = p.all("update_mask");
    if let Some(bad) = mask.iter().find(|m| *m != "new_state" && *m != "note") {
        return Err(ApiError::bad_request(format!(
            "Invalid field `{bad}` in update_mask: only `new_state` and `note` can be updated"
        )));
    }
    if !mask.is_empty() {
        if !mask.iter().any(|m| m == "new_state") {
            body.new_state = None;
        }
        if !mask.iter().any(|m| m == "note") {
            body.note = None;
        }
    }
    let in_scope = |t: &TiRow| t.task_id != task_id || map_index.is_none_or(|m| t.map_index == m);
    let (run, dag, tis) = load_run(s, dag_id, run_id).await?;
    if !tis.iter().any(|t| t.task_id == task_id && in_scope(t)) {
        return Err(ApiError::not_found(format!(
            "Task Instance not found for dag_id={dag_id}, run_id={run_id}, task_id={task_id}{}",
            map_index
                .map(|m| format!(", map_index={m}"))
                .unwrap_or_default()
        )));
    }
    let ids = with_relatives(
        &dag,
        &BTreeSet::from([task_id.to_string()]),
        body.include_upstream,
        body.include_downstream,
    );
    let chosen: Vec<TiRow> = tis
        .into_iter()
        .filter(|t| ids.contains(&t.task_id) && in_scope(t))
        .collect();
    let state = match body.new_state.as_deref() {
        None => None,
        Some(st @ ("success" | "failed" | "skipped")) => Some(st.to_string()),
        Some(other) => {
            return Err(ApiError::unprocessable(
                "enum",
                &["body", "new_state"],
                format!("Input should be 'success', 'failed' or 'skipped', not {other:?}"),
                json!(other),
            ));
        }
    };
    if dry_run {
        return Ok(ti_list(&chosen, &run));
    }
    if let Some(st) = state {
        let c = chosen.clone();
        s.store
            .write(move |tx| q::set_ti_state(tx, &c, &st))
            .await?;
        after_change(s, &chosen, false);
    }
    if let Some(note) = body.note {
        let (d, r, t) = (dag_id.to_string(), run_id.to_string(), task_id.to_string());
        s.store
            .write(move |tx| {
                tx.execute(
                    "UPDATE task_instance SET note = ?4 WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND (?5 IS NULL OR map_index = ?5)",
                    rusqlite::params![d, r, t, note, map_index],
                )
                .map_err(crate::store::sql)?;
                Ok(())
            })
            .await?;
    }
    let (run, _, tis) = load_run(s, dag_id, run_id).await?;
    let after: Vec<TiRow> = tis
        .into_iter()
        .filter(|t| ids.contains(&t.task_id) && in_scope(t))
        .collect();
    Ok(ti_list(&after, &run))
}

/// `PATCH .../taskInstances/{task_id}`: `new_state` and `note`, with relatives (`map_index`
/// query: one mapped instance; without it, every instance of the task).
pub async fn patch_ti(
    State(s): State<AppState>,
    identity: crate::api::identity::Identity,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchTi>,
) -> Result<Json<Value>, ApiError> {
    let m = map_index_query(&p)?;
    let extra = json!({"new_state": body.new_state, "note": body.note, "method": "PATCH"});
    let out = patch_ti_inner(&s, (&dag_id, &run_id, &task_id), m, &p, body, false).await?;
    let mut entry = crate::audit::Entry::new("patch_task_instance").dag(&dag_id);
    entry = entry.run(&run_id).task(&task_id);
    if let Some(m) = m {
        entry = entry.map_index(m);
    }
    crate::audit::record(&s.store, &identity, entry.extra(extra)).await;
    Ok(out)
}

/// `PATCH .../taskInstances/{task_id}/dry_run`.
pub async fn patch_ti_dry_run(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id)): Path<(String, String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchTi>,
) -> Result<Json<Value>, ApiError> {
    let m = map_index_query(&p)?;
    patch_ti_inner(&s, (&dag_id, &run_id, &task_id), m, &p, body, true).await
}

/// `PATCH .../taskInstances/{task_id}/{map_index}`.
pub async fn patch_ti_mapped(
    State(s): State<AppState>,
    identity: crate::api::identity::Identity,
    Path((dag_id, run_id, task_id, m)): Path<(String, String, String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchTi>,
) -> Result<Json<Value>, ApiError> {
    let m = super::runs::path_int("map_index", &m)?;
    let extra = json!({"new_state": body.new_state, "note": body.note, "method": "PATCH"});
    let out = patch_ti_inner(&s, (&dag_id, &run_id, &task_id), Some(m), &p, body, false).await?;
    let entry = crate::audit::Entry::new("patch_task_instance_by_map_index").dag(&dag_id);
    let entry = entry.run(&run_id).task(&task_id).map_index(m);
    crate::audit::record(&s.store, &identity, entry.extra(extra)).await;
    Ok(out)
}

/// `PATCH .../taskInstances/{task_id}/{map_index}/dry_run`.
pub async fn patch_ti_mapped_dry_run(
    State(s): State<AppState>,
    Path((dag_id, run_id, task_id, m)): Path<(String, String, String, String)>,
    p: Params,
    JsonBody(body): JsonBody<PatchTi>,
) -> Result<Json<Value>, ApiError> {
    let m = super::runs::path_int("map_index", &m)?;
    patch_ti_inner(&s, (&dag_id, &run_id, &task_id), Some(m), &p, body, true).await
}

fn map_index_query(p: &Params) -> Result<Option<i64>, ApiError> {
    match p.get("map_index") {
        None | Some("") => Ok(None),
        Some(_) => Ok(Some(p.int("map_index", -1, -1)?)),
    }
}
