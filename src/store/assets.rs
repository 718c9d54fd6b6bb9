//! Assets (data-aware scheduling): `asset`, `asset_alias`, the DAGs' references to them, the
//! `asset_event`s tasks and the API emit, Airflow's `asset_dag_run_queue`, and the events each
//! asset-triggered run consumed (`dagrun_asset_event`).
//!
//! Three kinds of callers: the DAG write path (`store::dags`) syncs a DAG's references when it
//! stores a parse ([`sync_dag`], then [`refresh_active`]); the scheduler emits events when a
//! task with outlets succeeds ([`emit`]) and turns queued assets into runs ([`queued`],
//! [`consumed_events`], [`link_run`], [`dequeue`]); the API reads ([`list`], [`get`],
//! [`details`], [`events`], [`queue_rows`]) and, through `ops`, emits and deletes.
//!
//! Assets are identified by `(name, uri)`, as in Airflow 3. An asset no live DAG references any
//! more stays, inactive.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::{Map, Value};

use super::admin::{Table, page};
use super::filter::{Fields, Filter, Order, Page};
use super::{Db, Result, Tx, sql};
use crate::dag::model::{AssetDef, AssetExpr, AssetLike, Dag};

/// One row of `asset`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetRow {
    pub id: i64,
    pub name: String,
    pub uri: String,
    pub group: String,
    pub extra: Value,
    pub created_at: String,
    pub updated_at: String,
    pub is_active: bool,
}

const ASSET_COLS: &str =
    "a.id, a.name, a.uri, a.\"group\", a.extra, a.created_at, a.updated_at, a.is_active";

fn asset_row(r: &Row<'_>) -> rusqlite::Result<AssetRow> {
    let extra: String = r.get(4)?;
    Ok(AssetRow {
        id: r.get(0)?,
        name: r.get(1)?,
        uri: r.get(2)?,
        group: r.get(3)?,
        extra: serde_json::from_str(&extra).unwrap_or(Value::Object(Map::new())),
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        is_active: r.get::<_, i64>(7)? != 0,
    })
}

/// The fields an asset list filters and orders on (over `asset a`).
pub const FIELDS: Fields = Fields(&[
    ("id", "a.id"),
    ("name", "a.name"),
    ("uri", "a.uri"),
    ("created_at", "a.created_at"),
    ("updated_at", "a.updated_at"),
    ("is_active", "a.is_active"),
]);

// --- the DAG write path ------------------------------------------------------------------

/// Records the assets `dag` declares (its schedule's condition, its tasks' outlets and
/// inlets) and rewrites its references to them; references it no longer makes go.
pub(super) fn sync_dag(c: &Connection, dag: &Dag, now: &str) -> Result<()> {
    let mut schedule_assets: Vec<i64> = Vec::new();
    let mut schedule_aliases: Vec<i64> = Vec::new();
    let mut schedule_refs: Vec<(&'static str, String)> = Vec::new();
    if let Some(s) = &dag.schedule
        && let Some(cond) = s.asset_condition()
    {
        let defs: Vec<AssetDef> = match s {
            crate::dag::model::Schedule::Assets { assets, .. } => assets.clone(),
            _ => Vec::new(),
        };
        let mut leaves = Vec::new();
        leaves_of(&cond, &mut leaves);
        for leaf in leaves {
            match leaf {
                AssetExpr::Asset(k) => {
                    let def = defs
                        .iter()
                        .find(|d| d.name == k.name && d.uri == k.uri)
                        .cloned()
                        .unwrap_or_else(|| AssetDef {
                            uri: k.uri.clone(),
                            name: k.name.clone(),
                            group: k.group.clone(),
                            extra: Map::new(),
                            watchers: Vec::new(),
                        });
                    schedule_assets.push(upsert_def(c, &def, now)?);
                }
                AssetExpr::Alias(a) => schedule_aliases.push(alias_id(c, &a.name, &a.group)?),
                AssetExpr::AssetRef(r) => {
                    if let Some(n) = &r.name {
                        schedule_refs.push(("name", n.clone()));
                    }
                    if let Some(u) = &r.uri {
                        schedule_refs.push(("uri", u.clone()));
                    }
                }
                AssetExpr::All(_) | AssetExpr::Any(_) => {}
            }
        }
    }
    let mut outlets: Vec<(i64, &str)> = Vec::new();
    let mut inlets: Vec<(i64, &str)> = Vec::new();
    for t in &dag.tasks {
        for (out, list) in [(true, &mut outlets), (false, &mut inlets)] {
            for a in t.assets(out) {
                match a {
                    AssetLike::Asset(def) => list.push((upsert_def(c, &def, now)?, &t.task_id)),
                    AssetLike::Alias(al) => {
                        alias_id(c, &al.name, &al.group)?;
                    }
                    AssetLike::AssetRef(r) => {
                        if let Some(row) = resolve_ref(c, r.name.as_deref(), r.uri.as_deref())? {
                            list.push((row.id, &t.task_id));
                        }
                    }
                }
            }
        }
    }
    let d = &dag.dag_id;
    // Schedule references.
    let keep = id_list(&schedule_assets);
    c.execute(
        &format!("DELETE FROM dag_schedule_asset_reference WHERE dag_id = ?1 AND asset_id NOT IN ({keep})"),
        [d],
    )
    .map_err(sql)?;
    for id in &schedule_assets {
        c.execute(
            "INSERT OR IGNORE INTO dag_schedule_asset_reference(asset_id, dag_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![id, d, now],
        )
        .map_err(sql)?;
    }
    let keep = id_list(&schedule_aliases);
    c.execute(
        &format!("DELETE FROM dag_schedule_asset_alias_reference WHERE dag_id = ?1 AND alias_id NOT IN ({keep})"),
        [d],
    )
    .map_err(sql)?;
    for id in &schedule_aliases {
        c.execute(
            "INSERT OR IGNORE INTO dag_schedule_asset_alias_reference(alias_id, dag_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![id, d, now],
        )
        .map_err(sql)?;
    }
    c.execute("DELETE FROM dag_schedule_asset_ref WHERE dag_id = ?1", [d])
        .map_err(sql)?;
    for (kind, value) in &schedule_refs {
        c.execute(
            "INSERT OR IGNORE INTO dag_schedule_asset_ref(dag_id, kind, value, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![d, kind, value, now],
        )
        .map_err(sql)?;
    }
    // Task references.
    for (table, list) in [
        ("task_outlet_asset_reference", &outlets),
        ("task_inlet_asset_reference", &inlets),
    ] {
        let existing: Vec<(i64, String)> = {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT asset_id, task_id FROM {table} WHERE dag_id = ?1"
                ))
                .map_err(sql)?;
            st.query_map([d], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(sql)?
                .collect::<rusqlite::Result<_>>()
                .map_err(sql)?
        };
        for (asset, task) in existing {
            if !list.iter().any(|(a, t)| *a == asset && *t == task) {
                c.execute(
                    &format!(
                        "DELETE FROM {table} WHERE asset_id = ?1 AND dag_id = ?2 AND task_id = ?3"
                    ),
                    params![asset, d, task],
                )
                .map_err(sql)?;
            }
        }
        for (asset, task) in list {
            c.execute(
                &format!("INSERT OR IGNORE INTO {table}(asset_id, dag_id, task_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)"),
                params![asset, d, task, now],
            )
            .map_err(sql)?;
        }
    }
    // A DAG that no longer depends on assets has nothing queued (Airflow drops stale rows).
    c.execute(
        &format!(
            "DELETE FROM asset_dag_run_queue WHERE target_dag_id = ?1 AND asset_id NOT IN ({})",
            id_list(&schedule_assets)
        ),
        [d],
    )
    .map_err(sql)?;
    Ok(())
}

/// Marks each asset active when a live DAG references it (scheduled on it, or a task's outlet
/// or inlet), inactive otherwise.
pub(super) fn refresh_active(c: &Connection) -> Result<()> {
    c.execute(
        "UPDATE asset SET is_active = (
             EXISTS(SELECT 1 FROM dag_schedule_asset_reference r JOIN dag d ON d.dag_id = r.dag_id
                    WHERE r.asset_id = asset.id AND d.is_stale = 0)
          OR EXISTS(SELECT 1 FROM task_outlet_asset_reference r JOIN dag d ON d.dag_id = r.dag_id
                    WHERE r.asset_id = asset.id AND d.is_stale = 0)
          OR EXISTS(SELECT 1 FROM task_inlet_asset_reference r JOIN dag d ON d.dag_id = r.dag_id
                    WHERE r.asset_id = asset.id AND d.is_stale = 0))",
        [],
    )
    .map_err(sql)?;
    Ok(())
}

fn leaves_of<'a>(e: &'a AssetExpr, out: &mut Vec<&'a AssetExpr>) {
    match e {
        AssetExpr::All(v) | AssetExpr::Any(v) => v.iter().for_each(|x| leaves_of(x, out)),
        leaf => out.push(leaf),
    }
}

fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        "NULL".into()
    } else {
        ids.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Inserts or updates the asset `(name, uri)` of `def` (group, extra, watchers); its id.
fn upsert_def(c: &Connection, def: &AssetDef, now: &str) -> Result<i64> {
    let extra = Value::Object(def.extra.clone()).to_string();
    let old: Option<(i64, String, String)> = c
        .query_row(
            "SELECT id, \"group\", extra FROM asset WHERE name = ?1 AND uri = ?2",
            params![def.name, def.uri],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(sql)?;
    let id = match old {
        Some((id, g, e)) => {
            if g != def.group || e != extra {
                c.execute(
                    "UPDATE asset SET \"group\" = ?2, extra = ?3, updated_at = ?4 WHERE id = ?1",
                    params![id, def.group, extra, now],
                )
                .map_err(sql)?;
            }
            id
        }
        None => {
            c.execute(
                "INSERT INTO asset(name, uri, \"group\", extra, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![def.name, def.uri, def.group, extra, now],
            )
            .map_err(sql)?;
            c.last_insert_rowid()
        }
    };
    let names: Vec<String> = def.watchers.iter().map(|w| w.name.clone()).collect();
    let mut q = String::from("DELETE FROM asset_watcher WHERE asset_id = ?1");
    if !names.is_empty() {
        q.push_str(&format!(
            " AND name NOT IN ({})",
            (2..names.len() + 2)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    let mut args: Vec<rusqlite::types::Value> = vec![id.into()];
    args.extend(names.iter().map(|n| n.clone().into()));
    c.execute(&q, params_from_iter(args)).map_err(sql)?;
    for w in &def.watchers {
        c.execute(
            "INSERT INTO asset_watcher(asset_id, name, trigger, created_date) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(asset_id, name) DO UPDATE SET trigger = excluded.trigger",
            params![id, w.name, w.trigger, now],
        )
        .map_err(sql)?;
    }
    Ok(id)
}

/// The id of the alias `name`, created when new.
fn alias_id(c: &Connection, name: &str, group: &str) -> Result<i64> {
    c.execute(
        "INSERT OR IGNORE INTO asset_alias(name, \"group\") VALUES (?1, ?2)",
        params![name, group],
    )
    .map_err(sql)?;
    c.query_row("SELECT id FROM asset_alias WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .map_err(sql)
}

/// The asset an `Asset.ref` names (by name, else by URI), active ones first.
fn resolve_ref(c: &Connection, name: Option<&str>, uri: Option<&str>) -> Result<Option<AssetRow>> {
    let (col, v) = match (name, uri) {
        (Some(n), _) => ("name", n),
        (None, Some(u)) => ("uri", u),
        (None, None) => return Ok(None),
    };
    c.query_row(
        &format!("SELECT {ASSET_COLS} FROM asset a WHERE a.{col} = ?1 ORDER BY a.is_active DESC, a.id LIMIT 1"),
        [v],
        asset_row,
    )
    .optional()
    .map_err(sql)
}

// --- events --------------------------------------------------------------------------------

/// What an asset event names when it is emitted.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub extra: Map<String, Value>,
    pub source_task_id: Option<String>,
    pub source_dag_id: Option<String>,
    pub source_run_id: Option<String>,
    pub source_map_index: i64,
    pub partition_key: Option<String>,
}

/// Which asset an emitted event updates.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// By id (the API).
    Id(i64),
    /// A task's outlet: its definition (created if this is the first time it is seen).
    Def(&'a AssetDef),
    /// `Asset.ref(name=...)` / `Asset.ref(uri=...)`.
    Ref {
        name: Option<&'a str>,
        uri: Option<&'a str>,
    },
}

/// An emitted event: its id, its asset and the DAGs it queued.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub event_id: i64,
    pub asset_id: i64,
    pub queued: Vec<String>,
}

/// Records an asset event (through `aliases`, names of asset aliases, when emitted via them)
/// and queues the asset for every unpaused DAG scheduled on it, on one of those aliases, or on
/// a reference to it (Airflow's `register_asset_change`). An event with a partition key queues
/// no DAG: only partitioned DAGs listen to those, and Lite does not create partitioned runs.
/// `None` when the asset does not exist.
pub fn emit(
    tx: &Tx<'_>,
    target: Target<'_>,
    e: &NewEvent,
    aliases: &[(String, String)],
    now: &str,
) -> Result<Option<Emitted>> {
    let c = tx.conn();
    let asset = match target {
        Target::Id(id) => get(tx, id)?,
        Target::Def(def) => {
            let id = upsert_def(c, def, now)?;
            get(tx, id)?
        }
        Target::Ref { name, uri } => resolve_ref(c, name, uri)?,
    };
    let Some(asset) = asset else {
        return Ok(None);
    };
    c.execute(
        "INSERT INTO asset_event(asset_id, extra, source_task_id, source_dag_id, source_run_id, source_map_index, partition_key, timestamp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            asset.id,
            Value::Object(e.extra.clone()).to_string(),
            e.source_task_id,
            e.source_dag_id,
            e.source_run_id,
            e.source_map_index,
            e.partition_key,
            now
        ],
    )
    .map_err(sql)?;
    let event_id = c.last_insert_rowid();
    let mut alias_ids = Vec::new();
    for (name, group) in aliases {
        let id = alias_id(c, name, group)?;
        alias_ids.push(id);
        c.execute(
            "INSERT OR IGNORE INTO asset_alias_asset(alias_id, asset_id) VALUES (?1, ?2)",
            params![id, asset.id],
        )
        .map_err(sql)?;
        c.execute(
            "INSERT OR IGNORE INTO asset_alias_asset_event(alias_id, event_id) VALUES (?1, ?2)",
            params![id, event_id],
        )
        .map_err(sql)?;
    }
    let mut queued = Vec::new();
    if e.partition_key.is_none() {
        let mut st = c
            .prepare_cached(&format!(
                "SELECT d.dag_id FROM dag d
                 WHERE d.is_paused = 0
                   AND COALESCE(json_extract(d.spec, '$.schedule.partitioned'), 0) = 0
                   AND (EXISTS(SELECT 1 FROM dag_schedule_asset_reference r WHERE r.dag_id = d.dag_id AND r.asset_id = ?1)
                     OR EXISTS(SELECT 1 FROM dag_schedule_asset_ref r WHERE r.dag_id = d.dag_id
                               AND ((r.kind = 'name' AND r.value = ?2) OR (r.kind = 'uri' AND r.value = ?3)))
                     OR EXISTS(SELECT 1 FROM dag_schedule_asset_alias_reference r WHERE r.dag_id = d.dag_id
                               AND r.alias_id IN ({})))
                 ORDER BY d.dag_id",
                id_list(&alias_ids)
            ))
            .map_err(sql)?;
        queued = st
            .query_map(params![asset.id, asset.name, asset.uri], |r| r.get(0))
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(sql)?;
        for d in &queued {
            c.execute(
                "INSERT OR IGNORE INTO asset_dag_run_queue(asset_id, target_dag_id, created_at) VALUES (?1, ?2, ?3)",
                params![asset.id, d, now],
            )
            .map_err(sql)?;
        }
    }
    Ok(Some(Emitted {
        event_id,
        asset_id: asset.id,
        queued,
    }))
}

// --- the scheduler ---------------------------------------------------------------------------

/// An asset queued for a DAG.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub asset_id: i64,
    pub name: String,
    pub uri: String,
    pub created_at: String,
}

/// A DAG with queued assets.
#[derive(Debug, Clone)]
pub struct QueuedDag {
    pub dag_id: String,
    pub version_id: Option<String>,
    pub paused: bool,
    pub stale: bool,
    pub assets: Vec<Queued>,
}

/// Every DAG with queued assets, with them (newest first).
pub fn queued(db: &Db<'_>) -> Result<Vec<QueuedDag>> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT q.target_dag_id, d.latest_version_id, d.is_paused, d.is_stale, a.id, a.name, a.uri, q.created_at
             FROM asset_dag_run_queue q JOIN dag d ON d.dag_id = q.target_dag_id JOIN asset a ON a.id = q.asset_id
             ORDER BY q.target_dag_id, q.created_at DESC, a.id",
        )
        .map_err(sql)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)? != 0,
                r.get::<_, i64>(3)? != 0,
                Queued {
                    asset_id: r.get(4)?,
                    name: r.get(5)?,
                    uri: r.get(6)?,
                    created_at: r.get(7)?,
                },
            ))
        })
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql)?;
    let mut out: Vec<QueuedDag> = Vec::new();
    for (dag_id, version_id, paused, stale, q) in rows {
        match out.last_mut() {
            Some(last) if last.dag_id == dag_id => last.assets.push(q),
            _ => out.push(QueuedDag {
                dag_id,
                version_id,
                paused,
                stale,
                assets: vec![q],
            }),
        }
    }
    Ok(out)
}

/// The assets each alias resolved to so far: alias name → `(name, uri)`s.
pub fn alias_targets(db: &Db<'_>) -> Result<HashMap<String, Vec<(String, String)>>> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT al.name, a.name, a.uri FROM asset_alias_asset x
             JOIN asset_alias al ON al.id = x.alias_id JOIN asset a ON a.id = x.asset_id",
        )
        .map_err(sql)?;
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
        .map_err(sql)?;
    for row in rows {
        let (alias, name, uri) = row.map_err(sql)?;
        out.entry(alias).or_default().push((name, uri));
    }
    Ok(out)
}

/// The events a new asset-triggered run of `dag_id` at `upto` consumes: those of the assets
/// (and aliases, and references) it is scheduled on, after its previous asset-triggered run's
/// `run_after` and up to `upto`, oldest first (Airflow's `_create_dag_runs_asset_triggered`).
pub fn consumed_events(db: &Db<'_>, dag_id: &str, upto: &str) -> Result<Vec<i64>> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT e.id FROM asset_event e JOIN asset a ON a.id = e.asset_id
             WHERE (e.asset_id IN (SELECT asset_id FROM dag_schedule_asset_reference WHERE dag_id = ?1)
                 OR EXISTS(SELECT 1 FROM asset_alias_asset_event x JOIN dag_schedule_asset_alias_reference r
                           ON r.alias_id = x.alias_id WHERE x.event_id = e.id AND r.dag_id = ?1)
                 OR EXISTS(SELECT 1 FROM dag_schedule_asset_ref r WHERE r.dag_id = ?1
                           AND ((r.kind = 'name' AND r.value = a.name) OR (r.kind = 'uri' AND r.value = a.uri))))
               AND e.timestamp <= ?2
               AND e.timestamp > COALESCE((SELECT MAX(run_after) FROM dag_run WHERE dag_id = ?1
                                           AND run_type = 'asset_triggered' AND run_after < ?2), '')
             ORDER BY e.timestamp, e.id",
        )
        .map_err(sql)?;
    st.query_map(params![dag_id, upto], |r| r.get(0))
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<i64>>>()
        .map_err(sql)
}

/// Links the events a run consumed to it.
pub fn link_run(tx: &Tx<'_>, dag_id: &str, run_id: &str, events: &[i64]) -> Result<()> {
    for e in events {
        tx.conn()
            .execute(
                "INSERT OR IGNORE INTO dagrun_asset_event(dag_run_id, event_id)
                 SELECT id, ?3 FROM dag_run WHERE dag_id = ?1 AND run_id = ?2",
                params![dag_id, run_id, e],
            )
            .map_err(sql)?;
    }
    Ok(())
}

/// Removes queued assets of a DAG: `asset_ids` (all when `None`), queued before `before`
/// when given. How many rows went.
pub fn dequeue(
    tx: &Tx<'_>,
    dag_id: Option<&str>,
    asset_ids: Option<&[i64]>,
    before: Option<&str>,
) -> Result<usize> {
    let mut q = String::from("DELETE FROM asset_dag_run_queue WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(d) = dag_id {
        args.push(d.to_string().into());
        q.push_str(&format!(" AND target_dag_id = ?{}", args.len()));
    }
    if let Some(ids) = asset_ids {
        q.push_str(&format!(" AND asset_id IN ({})", id_list(ids)));
    }
    if let Some(b) = before {
        args.push(b.to_string().into());
        q.push_str(&format!(" AND created_at < ?{}", args.len()));
    }
    tx.conn().execute(&q, params_from_iter(args)).map_err(sql)
}

// --- reads for the API ------------------------------------------------------------------------

/// Assets matching `filter` (over [`FIELDS`]), ordered and paged, and the total.
pub fn list(db: &Db<'_>, filter: &Filter, order: &Order, p: Page) -> Result<(Vec<AssetRow>, i64)> {
    let t = Table {
        cols: ASSET_COLS,
        from: "asset a",
        fields: FIELDS,
        tiebreak: "a.id",
    };
    page(db.conn(), &t, filter, order, p, asset_row)
}

/// One asset.
pub fn get(db: &Db<'_>, id: i64) -> Result<Option<AssetRow>> {
    db.conn()
        .query_row(
            &format!("SELECT {ASSET_COLS} FROM asset a WHERE a.id = ?1"),
            [id],
            asset_row,
        )
        .optional()
        .map_err(sql)
}

/// The ids of the assets `dag_ids` schedule on, produce or consume.
pub fn ids_of_dags(db: &Db<'_>, dag_ids: &[String]) -> Result<Vec<i64>> {
    let marks: Vec<String> = (1..=dag_ids.len()).map(|i| format!("?{i}")).collect();
    let m = marks.join(",");
    let q = format!(
        "SELECT asset_id FROM dag_schedule_asset_reference WHERE dag_id IN ({m})
         UNION SELECT asset_id FROM task_outlet_asset_reference WHERE dag_id IN ({m})
         UNION SELECT asset_id FROM task_inlet_asset_reference WHERE dag_id IN ({m})"
    );
    let mut st = db.conn().prepare(&q).map_err(sql)?;
    st.query_map(params_from_iter(dag_ids.iter()), |r| r.get(0))
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<i64>>>()
        .map_err(sql)
}

/// A DAG's (or task's) reference to an asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub dag_id: String,
    pub task_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An asset alias.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasRow {
    pub id: i64,
    pub name: String,
    pub group: String,
}

/// An asset watcher (its row id stands for Airflow's trigger id).
#[derive(Debug, Clone, PartialEq)]
pub struct WatcherRow {
    pub name: String,
    pub trigger_id: i64,
    pub created_date: String,
}

/// What an asset response carries besides the row.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub scheduled_dags: Vec<Reference>,
    pub producing_tasks: Vec<Reference>,
    pub consuming_tasks: Vec<Reference>,
    pub aliases: Vec<AliasRow>,
    pub watchers: Vec<WatcherRow>,
    /// `(id, timestamp)` of its newest event.
    pub last_event: Option<(i64, String)>,
}

/// The references, aliases, watchers and last event of each asset in `ids`.
pub fn details(db: &Db<'_>, ids: &[i64]) -> Result<BTreeMap<i64, Details>> {
    let mut out: BTreeMap<i64, Details> = ids.iter().map(|i| (*i, Details::default())).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let c = db.conn();
    let list = id_list(ids);
    for (which, q) in [
        (
            0,
            format!(
                "SELECT asset_id, dag_id, NULL, created_at, updated_at FROM dag_schedule_asset_reference WHERE asset_id IN ({list}) ORDER BY dag_id"
            ),
        ),
        (
            1,
            format!(
                "SELECT asset_id, dag_id, task_id, created_at, updated_at FROM task_outlet_asset_reference WHERE asset_id IN ({list}) ORDER BY dag_id, task_id"
            ),
        ),
        (
            2,
            format!(
                "SELECT asset_id, dag_id, task_id, created_at, updated_at FROM task_inlet_asset_reference WHERE asset_id IN ({list}) ORDER BY dag_id, task_id"
            ),
        ),
    ] {
        let mut st = c.prepare(&q).map_err(sql)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Reference {
                        dag_id: r.get(1)?,
                        task_id: r.get(2)?,
                        created_at: r.get(3)?,
                        updated_at: r.get(4)?,
                    },
                ))
            })
            .map_err(sql)?;
        for row in rows {
            let (id, reference) = row.map_err(sql)?;
            if let Some(d) = out.get_mut(&id) {
                match which {
                    0 => d.scheduled_dags.push(reference),
                    1 => d.producing_tasks.push(reference),
                    _ => d.consuming_tasks.push(reference),
                }
            }
        }
    }
    let mut st = c
        .prepare(&format!(
            "SELECT x.asset_id, al.id, al.name, al.\"group\" FROM asset_alias_asset x JOIN asset_alias al ON al.id = x.alias_id
             WHERE x.asset_id IN ({list}) ORDER BY al.id"
        ))
        .map_err(sql)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                AliasRow {
                    id: r.get(1)?,
                    name: r.get(2)?,
                    group: r.get(3)?,
                },
            ))
        })
        .map_err(sql)?;
    for row in rows {
        let (id, a) = row.map_err(sql)?;
        if let Some(d) = out.get_mut(&id) {
            d.aliases.push(a);
        }
    }
    let mut st = c
        .prepare(&format!(
            "SELECT asset_id, name, rowid, created_date FROM asset_watcher WHERE asset_id IN ({list}) ORDER BY name"
        ))
        .map_err(sql)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                WatcherRow {
                    name: r.get(1)?,
                    trigger_id: r.get(2)?,
                    created_date: r.get(3)?,
                },
            ))
        })
        .map_err(sql)?;
    for row in rows {
        let (id, w) = row.map_err(sql)?;
        if let Some(d) = out.get_mut(&id) {
            d.watchers.push(w);
        }
    }
    let mut st = c
        .prepare(&format!(
            "SELECT e.asset_id, e.id, e.timestamp FROM asset_event e
             WHERE e.asset_id IN ({list}) AND NOT EXISTS(SELECT 1 FROM asset_event f WHERE f.asset_id = e.asset_id
                   AND (f.timestamp > e.timestamp OR (f.timestamp = e.timestamp AND f.id > e.id)))"
        ))
        .map_err(sql)?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))
        .map_err(sql)?;
    for row in rows {
        let (id, e, ts) = row.map_err(sql)?;
        if let Some(d) = out.get_mut(&id) {
            d.last_event = Some((e, ts));
        }
    }
    Ok(out)
}

/// Asset aliases matching `filter` (fields `id`, `name`), ordered and paged, and the total.
pub fn aliases(
    db: &Db<'_>,
    filter: &Filter,
    order: &Order,
    p: Page,
) -> Result<(Vec<AliasRow>, i64)> {
    let t = Table {
        cols: "id, name, \"group\"",
        from: "asset_alias",
        fields: Fields(&[("id", "id"), ("name", "name")]),
        tiebreak: "id",
    };
    page(db.conn(), &t, filter, order, p, |r| {
        Ok(AliasRow {
            id: r.get(0)?,
            name: r.get(1)?,
            group: r.get(2)?,
        })
    })
}

/// One asset alias.
pub fn alias(db: &Db<'_>, id: i64) -> Result<Option<AliasRow>> {
    db.conn()
        .query_row(
            "SELECT id, name, \"group\" FROM asset_alias WHERE id = ?1",
            [id],
            |r| {
                Ok(AliasRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    group: r.get(2)?,
                })
            },
        )
        .optional()
        .map_err(sql)
}

/// One asset event with its asset's identity and the runs that consumed it.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub asset_id: i64,
    pub uri: String,
    pub name: String,
    pub group: String,
    pub extra: Value,
    pub source_task_id: Option<String>,
    pub source_dag_id: Option<String>,
    pub source_run_id: Option<String>,
    pub source_map_index: i64,
    pub partition_key: Option<String>,
    pub timestamp: String,
    /// Filled by [`created_runs`].
    pub created_dagruns: Vec<super::runs::RunRow>,
}

const EVENT_COLS: &str =
    "e.id, e.asset_id, a.uri, a.name, a.\"group\", e.extra, e.source_task_id, e.source_dag_id,
    e.source_run_id, e.source_map_index, e.partition_key, e.timestamp";

fn event_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    let extra: String = r.get(5)?;
    Ok(EventRow {
        id: r.get(0)?,
        asset_id: r.get(1)?,
        uri: r.get(2)?,
        name: r.get(3)?,
        group: r.get(4)?,
        extra: serde_json::from_str(&extra).unwrap_or(Value::Object(Map::new())),
        source_task_id: r.get(6)?,
        source_dag_id: r.get(7)?,
        source_run_id: r.get(8)?,
        source_map_index: r.get(9)?,
        partition_key: r.get(10)?,
        timestamp: r.get(11)?,
        created_dagruns: Vec::new(),
    })
}

/// The fields an event list filters and orders on (over `asset_event e JOIN asset a`).
pub const EVENT_FIELDS: Fields = Fields(&[
    ("id", "e.id"),
    ("asset_id", "e.asset_id"),
    ("source_dag_id", "e.source_dag_id"),
    ("source_task_id", "e.source_task_id"),
    ("source_run_id", "e.source_run_id"),
    ("source_map_index", "e.source_map_index"),
    ("timestamp", "e.timestamp"),
    ("name", "a.name"),
]);

/// Asset events matching `filter` (over [`EVENT_FIELDS`]), ordered and paged, the total, with
/// the runs each created.
pub fn events(
    db: &Db<'_>,
    filter: &Filter,
    order: &Order,
    p: Page,
) -> Result<(Vec<EventRow>, i64)> {
    let t = Table {
        cols: EVENT_COLS,
        from: "asset_event e JOIN asset a ON a.id = e.asset_id",
        fields: EVENT_FIELDS,
        tiebreak: "e.id",
    };
    let (mut rows, total) = page(db.conn(), &t, filter, order, p, event_row)?;
    created_runs(db, &mut rows)?;
    Ok((rows, total))
}

/// The events a run consumed (its upstream asset events), oldest first, with their runs.
pub fn events_of_run(db: &Db<'_>, dag_id: &str, run_id: &str) -> Result<Vec<EventRow>> {
    let mut st = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {EVENT_COLS} FROM asset_event e JOIN asset a ON a.id = e.asset_id
             JOIN dagrun_asset_event x ON x.event_id = e.id JOIN dag_run r ON r.id = x.dag_run_id
             WHERE r.dag_id = ?1 AND r.run_id = ?2 ORDER BY e.timestamp, e.id"
        ))
        .map_err(sql)?;
    let mut rows = st
        .query_map(params![dag_id, run_id], event_row)
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql)?;
    created_runs(db, &mut rows)?;
    Ok(rows)
}

/// One asset event with the runs it created.
pub fn event(db: &Db<'_>, id: i64) -> Result<Option<EventRow>> {
    let row = db
        .conn()
        .query_row(
            &format!(
                "SELECT {EVENT_COLS} FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE e.id = ?1"
            ),
            [id],
            event_row,
        )
        .optional()
        .map_err(sql)?;
    let Some(row) = row else { return Ok(None) };
    let mut rows = vec![row];
    created_runs(db, &mut rows)?;
    Ok(rows.pop())
}

fn created_runs(db: &Db<'_>, rows: &mut [EventRow]) -> Result<()> {
    for e in rows.iter_mut() {
        let ids: Vec<(String, String)> = {
            let mut st = db
                .conn()
                .prepare_cached(
                    "SELECT r.dag_id, r.run_id FROM dagrun_asset_event x JOIN dag_run r ON r.id = x.dag_run_id
                     WHERE x.event_id = ?1 ORDER BY r.id",
                )
                .map_err(sql)?;
            st.query_map([e.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(sql)?
                .collect::<rusqlite::Result<_>>()
                .map_err(sql)?
        };
        for (d, r) in ids {
            if let Some(run) = super::runs::get(db, &d, &r)? {
                e.created_dagruns.push(run);
            }
        }
    }
    Ok(())
}

/// A row of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub dag_id: String,
    pub asset_id: i64,
    pub created_at: String,
}

/// Queue rows of a DAG and/or an asset, queued before `before` when given, by DAG and asset.
pub fn queue_rows(
    db: &Db<'_>,
    dag_id: Option<&str>,
    asset_id: Option<i64>,
    before: Option<&str>,
) -> Result<Vec<QueueRow>> {
    let mut q = String::from(
        "SELECT target_dag_id, asset_id, created_at FROM asset_dag_run_queue WHERE 1 = 1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(d) = dag_id {
        args.push(d.to_string().into());
        q.push_str(&format!(" AND target_dag_id = ?{}", args.len()));
    }
    if let Some(a) = asset_id {
        args.push(a.into());
        q.push_str(&format!(" AND asset_id = ?{}", args.len()));
    }
    if let Some(b) = before {
        args.push(b.to_string().into());
        q.push_str(&format!(" AND created_at < ?{}", args.len()));
    }
    q.push_str(" ORDER BY target_dag_id, asset_id");
    let mut st = db.conn().prepare(&q).map_err(sql)?;
    st.query_map(params_from_iter(args), |r| {
        Ok(QueueRow {
            dag_id: r.get(0)?,
            asset_id: r.get(1)?,
            created_at: r.get(2)?,
        })
    })
    .map_err(sql)?
    .collect::<rusqlite::Result<_>>()
    .map_err(sql)
}

/// The DAGs with a task producing asset `id` (at most `limit`).
pub fn producing_dags(db: &Db<'_>, id: i64, limit: i64) -> Result<Vec<String>> {
    let mut st = db
        .conn()
        .prepare_cached(
            "SELECT DISTINCT r.dag_id FROM task_outlet_asset_reference r JOIN dag d ON d.dag_id = r.dag_id
             WHERE r.asset_id = ?1 AND d.is_stale = 0 ORDER BY r.dag_id LIMIT ?2",
        )
        .map_err(sql)?;
    st.query_map(params![id, limit], |r| r.get(0))
        .map_err(sql)?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql)
}
