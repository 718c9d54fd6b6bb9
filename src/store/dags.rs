//! The write path and queries for parsed DAGs: `dag`, `dag_tag`, `dag_version`,
//! `import_error`.
//!
//! Versions follow Airflow 3: a parse that changes a DAG's content updates the DAG at once; it
//! gets a new `version_number` only when its current version already has runs, otherwise the
//! current version is rewritten in place. Unchanged content changes nothing. A file that fails
//! to import keeps its DAGs serving (last good version); a removed file marks its DAGs stale.

use std::collections::HashSet;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use sha2::{Digest, Sha256};

use super::filter::{Fields, Filter, Order, Where, order_sql};
use super::{Db, Result, Tx, now, sql};
use crate::dag::{Dag, ImportError, ParseResult};

/// What a write changed, for the event bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A DAG was added or its content changed (`new_version` when a version was added).
    DagUpdated {
        dag_id: String,
        version_number: i64,
        new_version: bool,
    },
    /// A DAG's file is gone (or no longer defines it): hidden, history kept.
    DagStale { dag_id: String },
    /// The import error of a file appeared, changed or was cleared.
    ImportErrors { filename: String },
}

/// One parsed source, ready to record.
#[derive(Debug)]
pub struct ParsedFile<'a> {
    /// The DAG file (absolute path, as in `Dag::fileloc`).
    pub file: &'a str,
    /// The file relative to the DAG folder.
    pub relative: &'a str,
    /// The file's text, kept with each version.
    pub source: &'a str,
    pub result: &'a ParseResult,
}

/// The content hash of a DAG version: its model and its source text.
pub fn spec_hash(spec: &str, source: &str) -> String {
    let mut h = Sha256::new();
    h.update(spec.as_bytes());
    h.update([0]);
    h.update(source.as_bytes());
    hex::encode(h.finalize())
}

/// Records one parse of a file. Returns what changed.
pub fn record_parse(
    tx: &Tx<'_>,
    parsed: &ParsedFile<'_>,
    paused_by_default: bool,
) -> Result<Vec<Change>> {
    let tx = tx.conn();
    let now = now();
    let mut changes = Vec::new();
    let mut errors: Vec<ImportError> = parsed.result.import_errors.clone();
    let mut seen = HashSet::new();
    for dag in &parsed.result.dags {
        // A dag_id defined by another live file is an import error of this one, as in Airflow.
        let other: Option<String> = tx
            .query_row(
                "SELECT fileloc FROM dag WHERE dag_id = ?1 AND is_stale = 0 AND fileloc != ?2",
                params![dag.dag_id, parsed.file],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        if let Some(other) = other {
            errors.push(ImportError::new(
                parsed.file,
                dag.lineno,
                format!(
                    "AirflowDagDuplicatedIdException: Ignoring DAG {} from {} - also found in {}",
                    dag.dag_id, parsed.file, other
                ),
            ));
            continue;
        }
        seen.insert(dag.dag_id.clone());
        if let Some(c) = upsert_dag(tx, dag, parsed, paused_by_default, &now)? {
            changes.push(c);
        }
    }
    // DAGs this file used to define: stale if the file imported cleanly (they are really
    // gone); kept serving when the file is broken (the last good version stays).
    if errors.is_empty() {
        let mut stmt = tx
            .prepare("SELECT dag_id FROM dag WHERE fileloc = ?1 AND is_stale = 0")
            .map_err(sql)?;
        let ids: Vec<String> = stmt
            .query_map([parsed.file], |r| r.get(0))
            .map_err(sql)?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql)?;
        for id in ids.into_iter().filter(|id| !seen.contains(id)) {
            tx.execute("UPDATE dag SET is_stale = 1 WHERE dag_id = ?1", [&id])
                .map_err(sql)?;
            changes.push(Change::DagStale { dag_id: id });
        }
    }
    if set_import_error(tx, parsed.file, parsed.relative, &errors, &now)? {
        changes.push(Change::ImportErrors {
            filename: parsed.file.to_string(),
        });
    }
    super::assets::refresh_active(tx)?;
    Ok(changes)
}

fn upsert_dag(
    tx: &Connection,
    dag: &Dag,
    parsed: &ParsedFile<'_>,
    paused_by_default: bool,
    now: &str,
) -> Result<Option<Change>> {
    let spec = serde_json::to_string(dag).expect("a parsed DAG serialises");
    let hash = spec_hash(&spec, parsed.source);
    let duration = parsed.result.duration_ms / 1000.0;
    let current: Option<(Option<String>, String, bool)> = tx
        .query_row(
            "SELECT latest_version_id, spec_hash, is_stale FROM dag WHERE dag_id = ?1",
            [&dag.dag_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0)),
        )
        .optional()
        .map_err(sql)?;
    let write_dag_row = |version_id: &str| -> Result<()> {
        write_dag(
            tx,
            dag,
            &DagColumns {
                fileloc: parsed.file,
                relative: parsed.relative,
                version_id,
                spec: &spec,
                hash: &hash,
                now,
                duration: Some(duration),
                bundle: (DAGS_FOLDER, None),
            },
        )
    };
    let insert_version = |number: i64| -> Result<String> {
        insert_version(
            tx,
            &dag.dag_id,
            number,
            (&spec, &hash, parsed.source),
            now,
            (DAGS_FOLDER, None),
        )
    };
    match current {
        None => {
            let paused = dag.is_paused_upon_creation.unwrap_or(paused_by_default);
            tx.execute(
                "INSERT INTO dag(dag_id, fileloc, relative_fileloc, is_paused, created_at, spec, spec_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![dag.dag_id, parsed.file, parsed.relative, paused, now, spec, hash],
            )
            .map_err(sql)?;
            let id = insert_version(1)?;
            write_dag_row(&id)?;
            Ok(Some(Change::DagUpdated {
                dag_id: dag.dag_id.clone(),
                version_number: 1,
                new_version: true,
            }))
        }
        Some((Some(version_id), old_hash, stale)) if old_hash == hash => {
            tx.execute(
                "UPDATE dag SET last_parsed_time = ?2, last_parse_duration = ?3, is_stale = 0, fileloc = ?4, relative_fileloc = ?5 WHERE dag_id = ?1",
                params![dag.dag_id, now, duration, parsed.file, parsed.relative],
            )
            .map_err(sql)?;
            if stale {
                let n = version_number(tx, &version_id)?;
                return Ok(Some(Change::DagUpdated {
                    dag_id: dag.dag_id.clone(),
                    version_number: n,
                    new_version: false,
                }));
            }
            Ok(None)
        }
        Some((version_id, _, _)) => {
            let latest: Option<(String, i64, bool)> = match version_id {
                None => None,
                Some(id) => Some(
                    tx.query_row(
                        "SELECT id, version_number, EXISTS(SELECT 1 FROM dag_run WHERE dag_version_id = dag_version.id)
                         FROM dag_version WHERE id = ?1",
                        [&id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0)),
                    )
                    .map_err(sql)?,
                ),
            };
            let (id, number, new_version) = match latest {
                Some((id, number, false)) => {
                    tx.execute(
                        "UPDATE dag_version SET spec = ?2, spec_hash = ?3, source = ?4, last_updated = ?5 WHERE id = ?1",
                        params![id, spec, hash, parsed.source, now],
                    )
                    .map_err(sql)?;
                    (id, number, false)
                }
                Some((_, number, true)) => (insert_version(number + 1)?, number + 1, true),
                None => (insert_version(1)?, 1, true),
            };
            write_dag_row(&id)?;
            Ok(Some(Change::DagUpdated {
                dag_id: dag.dag_id.clone(),
                version_number: number,
                new_version,
            }))
        }
    }
}

/// The columns of a `dag` row a write sets besides the model's own.
struct DagColumns<'a> {
    fileloc: &'a str,
    relative: &'a str,
    version_id: &'a str,
    spec: &'a str,
    hash: &'a str,
    now: &'a str,
    duration: Option<f64>,
    /// Bundle name and version.
    bundle: (&'a str, Option<&'a str>),
}

/// Writes the `dag` row (which exists) and its tags from `dag` and `c`.
fn write_dag(tx: &Connection, dag: &Dag, c: &DagColumns<'_>) -> Result<()> {
    tx.execute(
        "UPDATE dag SET fileloc = ?2, relative_fileloc = ?3, is_stale = 0, last_parsed_time = ?4,
             last_parse_duration = ?5, latest_version_id = ?6, spec = ?7, spec_hash = ?8,
             description = ?9, owners = ?10, timetable_summary = ?11, max_active_runs = ?12,
             max_active_tasks = ?13, bundle_name = ?14, bundle_version = ?15
         WHERE dag_id = ?1",
        params![
            dag.dag_id,
            c.fileloc,
            c.relative,
            c.now,
            c.duration,
            c.version_id,
            c.spec,
            c.hash,
            dag.description,
            dag.owner,
            dag.timetable_summary,
            dag.max_active_runs,
            dag.max_active_tasks,
            c.bundle.0,
            c.bundle.1
        ],
    )
    .map_err(sql)?;
    tx.execute("DELETE FROM dag_tag WHERE dag_id = ?1", [&dag.dag_id])
        .map_err(sql)?;
    for t in &dag.tags {
        tx.execute(
            "INSERT OR IGNORE INTO dag_tag(dag_id, name) VALUES (?1, ?2)",
            params![dag.dag_id, t],
        )
        .map_err(sql)?;
    }
    super::assets::sync_dag(tx, dag, c.now)
}

/// Inserts version `number` of `dag_id` with `(spec, hash, source)`: its id.
fn insert_version(
    tx: &Connection,
    dag_id: &str,
    number: i64,
    (spec, hash, source): (&str, &str, &str),
    now: &str,
    bundle: (&str, Option<&str>),
) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "INSERT INTO dag_version(id, dag_id, version_number, spec, spec_hash, source, created_at, last_updated, bundle_name, bundle_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)",
        params![id, dag_id, number, spec, hash, source, now, bundle.0, bundle.1],
    )
    .map_err(sql)?;
    Ok(id)
}

/// The bundle of DAGs parsed from the DAG folder.
pub const DAGS_FOLDER: &str = "dags-folder";
/// The bundle of DAGs registered through the API (`POST /api/v2/dags/{dag_id}/versions`).
pub const REGISTERED: &str = "registered";

/// What a registration did.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub version_number: i64,
    pub created_at: String,
    /// A new version (`false`: the latest already had this content).
    pub new_version: bool,
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistrationRefused {
    /// A DAG file of the DAG folder defines this DAG.
    DefinedByFile(String),
}

/// Records a registered DAG version: `dag` (its model), `hash` (of its dag.json), `source`
/// (what the Code view shows), `bundle_version` (its `dag_version`). The same content as the
/// latest version changes nothing; other content is always a new version (a registration is
/// an explicit release, not an edit). A DAG a live file defines is refused.
pub fn record_registration(
    tx: &Tx<'_>,
    dag: &Dag,
    hash: &str,
    source: &str,
    bundle_version: &str,
    paused_by_default: bool,
) -> Result<std::result::Result<(Registration, Vec<Change>), RegistrationRefused>> {
    let tx = tx.conn();
    let now = now();
    let current: Option<(String, String, bool, String, Option<String>)> = tx
        .query_row(
            "SELECT bundle_name, fileloc, is_stale, spec_hash, latest_version_id FROM dag WHERE dag_id = ?1",
            [&dag.dag_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(sql)?;
    let spec = serde_json::to_string(dag).expect("a DAG model serialises");
    let fileloc = format!("{REGISTERED}/{}/dag.json", dag.dag_id);
    let latest = match &current {
        Some((bundle, file, false, _, _)) if bundle == DAGS_FOLDER => {
            return Ok(Err(RegistrationRefused::DefinedByFile(file.clone())));
        }
        Some((_, _, _, old_hash, Some(version_id))) => {
            let (number, created): (i64, String) = tx
                .query_row(
                    "SELECT version_number, created_at FROM dag_version WHERE id = ?1",
                    [version_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(sql)?;
            if old_hash == hash && current.as_ref().is_some_and(|c| !c.2 && c.0 == REGISTERED) {
                return Ok(Ok((
                    Registration {
                        version_number: number,
                        created_at: created,
                        new_version: false,
                    },
                    Vec::new(),
                )));
            }
            number
        }
        Some(_) => 0,
        None => {
            let paused = dag.is_paused_upon_creation.unwrap_or(paused_by_default);
            tx.execute(
                "INSERT INTO dag(dag_id, fileloc, relative_fileloc, is_paused, created_at, spec, spec_hash)
                 VALUES (?1, ?2, 'dag.json', ?3, ?4, ?5, ?6)",
                params![dag.dag_id, fileloc, paused, now, spec, hash],
            )
            .map_err(sql)?;
            0
        }
    };
    let bundle = (REGISTERED, Some(bundle_version));
    let id = insert_version(
        tx,
        &dag.dag_id,
        latest + 1,
        (&spec, hash, source),
        &now,
        bundle,
    )?;
    write_dag(
        tx,
        dag,
        &DagColumns {
            fileloc: &fileloc,
            relative: "dag.json",
            version_id: &id,
            spec: &spec,
            hash,
            now: &now,
            duration: None,
            bundle,
        },
    )?;
    super::assets::refresh_active(tx)?;
    Ok(Ok((
        Registration {
            version_number: latest + 1,
            created_at: now,
            new_version: true,
        },
        vec![Change::DagUpdated {
            dag_id: dag.dag_id.clone(),
            version_number: latest + 1,
            new_version: true,
        }],
    )))
}

fn version_number(conn: &Connection, id: &str) -> Result<i64> {
    conn.query_row(
        "SELECT version_number FROM dag_version WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .map_err(sql)
}

/// Sets (or clears, with no errors) the import error of `file`; `true` when it changed.
fn set_import_error(
    tx: &Connection,
    file: &str,
    relative: &str,
    errors: &[ImportError],
    now: &str,
) -> Result<bool> {
    let old: Option<String> = tx
        .query_row(
            "SELECT stack_trace FROM import_error WHERE filename = ?1",
            [file],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    if errors.is_empty() {
        if old.is_some() {
            tx.execute("DELETE FROM import_error WHERE filename = ?1", [file])
                .map_err(sql)?;
            return Ok(true);
        }
        return Ok(false);
    }
    let trace = errors
        .iter()
        .map(|e| {
            if e.traceback.is_empty() {
                e.display()
            } else {
                e.traceback.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    if old.as_deref() == Some(trace.as_str()) {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO import_error(filename, relative_filename, lineno, message, stack_trace, timestamp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(filename) DO UPDATE SET lineno = ?3, message = ?4, stack_trace = ?5, timestamp = ?6",
        params![file, relative, errors[0].lineno, errors[0].message, trace, now],
    )
    .map_err(sql)?;
    Ok(true)
}

/// A DAG file disappeared: its DAGs go stale and its import error is cleared.
pub fn record_removed(tx: &Tx<'_>, file: &str) -> Result<Vec<Change>> {
    let tx = tx.conn();
    let mut changes = Vec::new();
    let ids: Vec<String> = {
        let mut stmt = tx
            .prepare("SELECT dag_id FROM dag WHERE fileloc = ?1 AND is_stale = 0")
            .map_err(sql)?;
        stmt.query_map([file], |r| r.get(0))
            .map_err(sql)?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql)?
    };
    for id in ids {
        tx.execute("UPDATE dag SET is_stale = 1 WHERE dag_id = ?1", [&id])
            .map_err(sql)?;
        changes.push(Change::DagStale { dag_id: id });
    }
    if tx
        .execute("DELETE FROM import_error WHERE filename = ?1", [file])
        .map_err(sql)?
        > 0
    {
        changes.push(Change::ImportErrors {
            filename: file.to_string(),
        });
    }
    super::assets::refresh_active(tx)?;
    Ok(changes)
}

/// Every file the store knows as a DAG source: live DAGs' files and files with import errors.
pub fn known_files(db: &Db<'_>) -> Result<Vec<String>> {
    let mut stmt = db
        .conn()
        .prepare(
            "SELECT fileloc FROM dag WHERE is_stale = 0 AND bundle_name = 'dags-folder' UNION SELECT filename FROM import_error",
        )
        .map_err(sql)?;
    stmt.query_map([], |r| r.get(0))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// A row of `dag` with its model.
#[derive(Debug, Clone)]
pub struct DagRow {
    pub dag_id: String,
    pub fileloc: String,
    pub relative_fileloc: String,
    pub is_paused: bool,
    pub is_stale: bool,
    pub last_parsed_time: Option<String>,
    pub last_parse_duration: Option<f64>,
    pub latest_version_id: Option<String>,
    pub latest_version_number: Option<i64>,
    pub has_import_errors: bool,
    pub next_dagrun_logical_date: Option<String>,
    pub next_dagrun_data_interval_start: Option<String>,
    pub next_dagrun_data_interval_end: Option<String>,
    pub next_dagrun_run_after: Option<String>,
    /// Where the DAG comes from: [`DAGS_FOLDER`] or [`REGISTERED`], and that bundle's version.
    pub bundle_name: String,
    pub bundle_version: Option<String>,
    /// The model (shared: parsed once per content).
    pub dag: Arc<Dag>,
}

const DAG_COLUMNS: &str =
    "d.dag_id, d.fileloc, d.relative_fileloc, d.is_paused, d.is_stale, d.last_parsed_time,
    d.last_parse_duration, d.latest_version_id,
    (SELECT version_number FROM dag_version v WHERE v.id = d.latest_version_id),
    EXISTS(SELECT 1 FROM import_error e WHERE e.filename = d.fileloc),
    d.next_dagrun_logical_date, d.next_dagrun_data_interval_start, d.next_dagrun_data_interval_end,
    d.next_dagrun_run_after, d.spec_hash, d.bundle_name, d.bundle_version";

/// Parsed DAG models, one per DAG with the content hash it was parsed from: a listing reads
/// the hash and parses (and reads) the model only when that DAG's content changed. Keyed by
/// DAG id, not by hash, so an afternoon of saves keeps one model per DAG, not one per save.
#[allow(clippy::type_complexity)]
static MODELS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, (String, Arc<Dag>)>>,
> = std::sync::LazyLock::new(Default::default);

/// How many DAGs' models are kept (the cache is emptied when it grows past this).
const MODELS_KEPT: usize = 4096;

/// The model of `dag_id` whose content hash is `hash`, from the cache or from the row.
fn model(conn: &Connection, dag_id: &str, hash: &str) -> rusqlite::Result<Arc<Dag>> {
    let cache = || MODELS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((h, m)) = cache().get(dag_id)
        && h == hash
    {
        return Ok(m.clone());
    }
    // Read with its hash: the row may have changed since `hash` was read.
    let (spec, hash): (String, String) = conn
        .prepare_cached("SELECT spec, spec_hash FROM dag WHERE dag_id = ?1")?
        .query_row([dag_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let dag: Dag = serde_json::from_str(&spec).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(14, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let dag = Arc::new(dag);
    let mut c = cache();
    if c.len() >= MODELS_KEPT && !c.contains_key(dag_id) {
        c.clear();
    }
    c.insert(dag_id.to_string(), (hash, dag.clone()));
    Ok(dag)
}

fn dag_row(conn: &Connection) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<DagRow> {
    move |r| {
        let dag_id: String = r.get(0)?;
        let hash: String = r.get(14)?;
        let dag = model(conn, &dag_id, &hash)?;
        Ok(DagRow {
            dag_id,
            fileloc: r.get(1)?,
            relative_fileloc: r.get(2)?,
            is_paused: r.get::<_, i64>(3)? != 0,
            is_stale: r.get::<_, i64>(4)? != 0,
            last_parsed_time: r.get(5)?,
            last_parse_duration: r.get(6)?,
            latest_version_id: r.get(7)?,
            latest_version_number: r.get(8)?,
            has_import_errors: r.get::<_, i64>(9)? != 0,
            next_dagrun_logical_date: r.get(10)?,
            next_dagrun_data_interval_start: r.get(11)?,
            next_dagrun_data_interval_end: r.get(12)?,
            next_dagrun_run_after: r.get(13)?,
            bundle_name: r.get(15)?,
            bundle_version: r.get(16)?,
            dag,
        })
    }
}

/// SQL for the state of a DAG's latest run (by `run_after`), over `dag d`.
const LAST_RUN_STATE: &str = "(SELECT lr.state FROM dag_run lr WHERE lr.dag_id = d.dag_id ORDER BY lr.run_after DESC, lr.id DESC LIMIT 1)";
/// SQL for the start date of a DAG's latest run, over `dag d`.
const LAST_RUN_START: &str = "(SELECT lr.start_date FROM dag_run lr WHERE lr.dag_id = d.dag_id ORDER BY lr.run_after DESC, lr.id DESC LIMIT 1)";

/// The fields a DAG list filters and orders on (over `dag d`).
pub const FIELDS: Fields = Fields(&[
    ("dag_id", "d.dag_id"),
    ("is_paused", "d.is_paused"),
    ("is_stale", "d.is_stale"),
    (
        "has_import_errors",
        "EXISTS(SELECT 1 FROM import_error e WHERE e.filename = d.fileloc)",
    ),
    ("next_dagrun", "d.next_dagrun_run_after"),
    ("last_run_state", LAST_RUN_STATE),
    ("last_run_start_date", LAST_RUN_START),
]);

/// The fields of a DAG's runs that [`DagFilter::runs`] filters on (over `dag_run x`).
const RUN_FIELDS: Fields = Fields(&[
    ("start_date", "x.start_date"),
    ("end_date", "x.end_date"),
    ("state", "x.state"),
]);

/// What [`list_dags`] selects.
#[derive(Debug, Clone, Default)]
pub struct DagFilter {
    /// Conditions over [`FIELDS`].
    pub filter: Filter,
    /// Tags the DAG has: any of them (or all when `all_tags`); nothing when empty.
    pub tags: Vec<String>,
    pub all_tags: bool,
    /// Owners (any of them) in the DAG's comma-separated `owners`.
    pub owners: Vec<String>,
    /// Conditions one of the DAG's runs must meet together (none: no condition).
    pub runs: Filter,
    /// `(user, true)`: the user's favourite DAGs only; `(user, false)`: the others.
    pub favorite_of: Option<(String, bool)>,
    /// Default: by `dag_id`.
    pub order: Order,
    pub limit: i64,
    pub offset: i64,
}

impl DagFilter {
    /// Every DAG matching `filter`, by id.
    pub fn all(filter: Filter) -> DagFilter {
        DagFilter {
            filter,
            limit: i64::MAX,
            ..Default::default()
        }
    }

    fn clause(&self) -> Result<Where> {
        let mut wh = Where::of(&self.filter, &FIELDS)?;
        if !self.tags.is_empty() {
            let list: Vec<String> = self.tags.iter().map(|t| wh.arg(t.clone())).collect();
            let list = list.join(",");
            if self.all_tags {
                wh.raw(format!(
                    "(SELECT COUNT(DISTINCT name) FROM dag_tag t WHERE t.dag_id = d.dag_id AND t.name IN ({list})) = {}",
                    self.tags.len()
                ));
            } else {
                wh.raw(format!(
                    "EXISTS(SELECT 1 FROM dag_tag t WHERE t.dag_id = d.dag_id AND t.name IN ({list}))"
                ));
            }
        }
        if !self.owners.is_empty() {
            let parts: Vec<String> = self
                .owners
                .iter()
                .map(|o| {
                    let a = wh.arg(o.clone());
                    format!("(',' || replace(d.owners, ' ', '') || ',') LIKE ('%,' || {a} || ',%')")
                })
                .collect();
            wh.raw(format!("({})", parts.join(" OR ")));
        }
        if let Some((user, yes)) = &self.favorite_of {
            let a = wh.arg(user.clone());
            let not = if *yes { "" } else { "NOT " };
            wh.raw(format!(
                "{not}EXISTS(SELECT 1 FROM dag_favorite f WHERE f.dag_id = d.dag_id AND f.user_id = {a})"
            ));
        }
        if !self.runs.is_empty() {
            let mut sub = Where {
                args: std::mem::take(&mut wh.args),
                ..Default::default()
            };
            sub.add(&self.runs, &RUN_FIELDS)?;
            wh.args = std::mem::take(&mut sub.args);
            wh.raw(format!(
                "EXISTS(SELECT 1 FROM dag_run x WHERE x.dag_id = d.dag_id AND {})",
                sub.sql()
            ));
        }
        Ok(wh)
    }
}

/// DAGs matching `f`, ordered (default `dag_id`), and the total count before paging.
pub fn list_dags(db: &Db<'_>, f: &DagFilter) -> Result<(Vec<DagRow>, i64)> {
    let conn = db.conn();
    let wh = f.clause()?;
    let where_ = wh.sql();
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM dag d WHERE {where_}"))
        .and_then(|mut s| s.query_row(params_from_iter(wh.args.iter()), |r| r.get(0)))
        .map_err(sql)?;
    let mut order = order_sql(&f.order, &FIELDS)?;
    if order.first().is_none_or(|o| !o.starts_with("d.dag_id ")) {
        order.push("d.dag_id".into());
    }
    let order = order.join(", ");
    // The page's ids first (an index scan that stops at the page for the default order), then
    // the full rows (subqueries, the model) of those only.
    let q = format!(
        "SELECT {DAG_COLUMNS} FROM (SELECT d.dag_id AS page_id FROM dag d WHERE {where_} ORDER BY {order}
             LIMIT {} OFFSET {}) p JOIN dag d ON d.dag_id = p.page_id ORDER BY {order}",
        f.limit.max(0),
        f.offset.max(0)
    );
    let mut stmt = conn.prepare_cached(&q).map_err(sql)?;
    let rows = stmt
        .query_map(params_from_iter(wh.args.iter()), dag_row(conn))
        .map_err(sql)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql)?;
    Ok((rows, total))
}

/// Deletes a DAG and everything recorded about it (runs, task instances, versions, tags,
/// backfills); returns how many rows went, `None` when the DAG does not exist.
pub fn delete_dag(tx: &Tx<'_>, dag_id: &str) -> Result<Option<i64>> {
    let tx = tx.conn();
    let exists: bool = tx
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM dag WHERE dag_id = ?1)",
            [dag_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if !exists {
        return Ok(None);
    }
    let mut n = 0i64;
    for q in [
        "DELETE FROM task_instance WHERE dag_id = ?1",
        "DELETE FROM dag_run WHERE dag_id = ?1",
        "DELETE FROM dag_version WHERE dag_id = ?1",
        "DELETE FROM dag_tag WHERE dag_id = ?1",
        "DELETE FROM dag WHERE dag_id = ?1",
    ] {
        n += tx.execute(q, [dag_id]).map_err(sql)? as i64;
    }
    super::assets::refresh_active(tx)?;
    Ok(Some(n))
}

/// Marks `dag_id` a favourite of `user_id`; `false` when it already was.
pub fn favorite(tx: &Tx<'_>, user_id: &str, dag_id: &str) -> Result<bool> {
    let n = tx
        .conn()
        .execute(
            "INSERT OR IGNORE INTO dag_favorite(user_id, dag_id) VALUES (?1, ?2)",
            [user_id, dag_id],
        )
        .map_err(sql)?;
    Ok(n == 1)
}

/// Unmarks `dag_id` as a favourite of `user_id`; `false` when it was not one.
pub fn unfavorite(tx: &Tx<'_>, user_id: &str, dag_id: &str) -> Result<bool> {
    let n = tx
        .conn()
        .execute(
            "DELETE FROM dag_favorite WHERE user_id = ?1 AND dag_id = ?2",
            [user_id, dag_id],
        )
        .map_err(sql)?;
    Ok(n == 1)
}

/// Whether `dag_id` is a favourite of `user_id`.
pub fn is_favorite(db: &Db<'_>, user_id: &str, dag_id: &str) -> Result<bool> {
    db.conn()
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM dag_favorite WHERE user_id = ?1 AND dag_id = ?2)",
            [user_id, dag_id],
            |r| r.get(0),
        )
        .map_err(sql)
}

/// The absolute path of the file a bundle's `relative_fileloc` names, when a DAG that is not
/// stale comes from it.
pub fn file_of(db: &Db<'_>, bundle_name: &str, relative_fileloc: &str) -> Result<Option<String>> {
    db.conn()
        .query_row(
            "SELECT fileloc FROM dag WHERE bundle_name = ?1 AND relative_fileloc = ?2 AND is_stale = 0 LIMIT 1",
            [bundle_name, relative_fileloc],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)
}

/// The fields a tag list filters on (over `dag_tag t`).
pub const TAG_FIELDS: Fields = Fields(&[("name", "t.name")]);

/// Distinct tag names matching `filter` (over [`TAG_FIELDS`]), ordered by name, and the total.
pub fn tags(
    db: &Db<'_>,
    filter: &Filter,
    desc: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<String>, i64)> {
    let conn = db.conn();
    let wh = Where::of(filter, &TAG_FIELDS)?;
    let where_ = wh.sql();
    let total: i64 = conn
        .query_row(
            &format!("SELECT COUNT(DISTINCT t.name) FROM dag_tag t WHERE {where_}"),
            params_from_iter(wh.args.iter()),
            |r| r.get(0),
        )
        .map_err(sql)?;
    let mut stmt = conn
        .prepare(&format!(
            "SELECT DISTINCT t.name FROM dag_tag t WHERE {where_} ORDER BY t.name {} LIMIT {} OFFSET {}",
            if desc { "DESC" } else { "ASC" },
            limit.max(0),
            offset.max(0)
        ))
        .map_err(sql)?;
    let names = stmt
        .query_map(params_from_iter(wh.args.iter()), |r| r.get(0))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)?;
    Ok((names, total))
}

/// Pool names that exist.
pub fn pool_names(db: &Db<'_>) -> Result<HashSet<String>> {
    let mut stmt = db
        .conn()
        .prepare("SELECT pool FROM slot_pool")
        .map_err(sql)?;
    stmt.query_map([], |r| r.get(0))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// One DAG by id.
pub fn get_dag(db: &Db<'_>, dag_id: &str) -> Result<Option<DagRow>> {
    let conn = db.conn();
    conn.prepare_cached(&format!(
        "SELECT {DAG_COLUMNS} FROM dag d WHERE d.dag_id = ?1"
    ))
    .and_then(|mut st| st.query_row([dag_id], dag_row(conn)).optional())
    .map_err(sql)
}

/// Pauses or unpauses a DAG; `false` when it does not exist.
pub fn set_paused(tx: &Tx<'_>, dag_id: &str, paused: bool) -> Result<bool> {
    Ok(tx
        .conn()
        .execute(
            "UPDATE dag SET is_paused = ?2 WHERE dag_id = ?1",
            params![dag_id, paused],
        )
        .map_err(sql)?
        > 0)
}

/// A row of `dag_version`.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub id: String,
    pub dag_id: String,
    pub version_number: i64,
    pub created_at: String,
    pub source: String,
    pub spec: String,
    pub bundle_name: String,
    pub bundle_version: Option<String>,
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionRow> {
    super::from_row!(VersionRow from r; id, dag_id, version_number, created_at, source, spec, bundle_name, bundle_version)
}

/// Every version of a DAG, oldest first.
pub fn versions(db: &Db<'_>, dag_id: &str) -> Result<Vec<VersionRow>> {
    let mut stmt = db
        .conn()
        .prepare("SELECT id, dag_id, version_number, created_at, source, spec, bundle_name, bundle_version FROM dag_version WHERE dag_id = ?1 ORDER BY version_number")
        .map_err(sql)?;
    stmt.query_map([dag_id], version_row)
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)
}

/// One version by number (`None`: the latest).
pub fn version(db: &Db<'_>, dag_id: &str, number: Option<i64>) -> Result<Option<VersionRow>> {
    let q = match number {
        Some(_) => {
            "SELECT id, dag_id, version_number, created_at, source, spec, bundle_name, bundle_version FROM dag_version WHERE dag_id = ?1 AND version_number = ?2"
        }
        None => {
            "SELECT id, dag_id, version_number, created_at, source, spec, bundle_name, bundle_version FROM dag_version WHERE dag_id = ?1 AND version_number >= ?2 ORDER BY version_number DESC LIMIT 1"
        }
    };
    db.conn()
        .query_row(q, params![dag_id, number.unwrap_or(0)], version_row)
        .optional()
        .map_err(sql)
}

/// The content hash of a version (`None` when there is no such version).
pub fn version_hash(db: &Db<'_>, version_id: &str) -> Result<Option<String>> {
    db.conn()
        .prepare_cached("SELECT spec_hash FROM dag_version WHERE id = ?1")
        .and_then(|mut st| st.query_row([version_id], |r| r.get(0)).optional())
        .map_err(sql)
}

/// The DAG model of a version (`None` when there is no such version).
pub fn version_model(db: &Db<'_>, version_id: &str) -> Result<Option<Dag>> {
    let spec: Option<String> = db
        .conn()
        .prepare_cached("SELECT spec FROM dag_version WHERE id = ?1")
        .and_then(|mut st| st.query_row([version_id], |r| r.get(0)).optional())
        .map_err(sql)?;
    spec.map(|s| {
        serde_json::from_str(&s).map_err(|e| super::StoreError::Model {
            what: format!("DAG version {version_id}"),
            err: e.to_string(),
        })
    })
    .transpose()
}

/// A row of `import_error`.
#[derive(Debug, Clone)]
pub struct ImportErrorRow {
    pub id: i64,
    pub filename: String,
    pub relative_filename: String,
    pub lineno: Option<i64>,
    pub message: String,
    pub stack_trace: String,
    pub timestamp: String,
}

/// Import errors, newest id last, with the total count.
pub fn import_errors(
    db: &Db<'_>,
    limit: i64,
    offset: i64,
    desc: bool,
) -> Result<(Vec<ImportErrorRow>, i64)> {
    let conn = db.conn();
    let total: i64 = conn
        .query_row("SELECT COUNT(*) FROM import_error", [], |r| r.get(0))
        .map_err(sql)?;
    let mut stmt = conn
        .prepare(&format!(
            "SELECT id, filename, relative_filename, lineno, message, stack_trace, timestamp FROM import_error ORDER BY id {} LIMIT ?1 OFFSET ?2",
            if desc { "DESC" } else { "ASC" }
        ))
        .map_err(sql)?;
    let rows = stmt
        .query_map(params![limit, offset], |r| {
            Ok(ImportErrorRow {
                id: r.get(0)?,
                filename: r.get(1)?,
                relative_filename: r.get(2)?,
                lineno: r.get(3)?,
                message: r.get(4)?,
                stack_trace: r.get(5)?,
                timestamp: r.get(6)?,
            })
        })
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)?;
    Ok((rows, total))
}
