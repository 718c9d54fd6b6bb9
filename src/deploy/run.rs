//! `leoflow deploy`: compile → build → push → pin → register (→ trigger), per DAG.
//!
//! 1. **Select and compile** each DAG (a path, a DAG id of the DAG folder, or `--all`) into
//!    its Pro `dag.json` (plus the generated entrypoint module when it needs one).
//! 2. **Check before pushing anything**: a registry is configured, the user is signed in to
//!    the server, the server answers and accepts the token, the registry answers and accepts
//!    its credentials for a push. Each failure is one line with its fix (exit 2).
//! 3. **Build** without a daemon: the base image's manifest and config (`oci`), one
//!    reproducible layer with the DAG's code under [`CODE_DIR`] (never the home, `.env` files,
//!    keys or VCS folders), `PYTHONPATH` pointing at it.
//! 4. **Push** what the registry lacks, then the manifest; its digest pins the image:
//!    `dag.json`'s `image` becomes `repo@sha256:…`.
//! 5. **Register** the dag.json with the server (201 new version, 200 unchanged), and with
//!    `--trigger` unpause the DAG and queue a run.
//!
//! `--dry-run` does steps 1-3 and reads what the registry and server have, changing nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use super::client::ControlPlane;
use super::layer::layer;
use super::oci::{self, BaseImage, Built, ImageRef, Progress, Registry, RegistryAuth};
use crate::authoring::{CompiledDag, compile_dag, parse_all};
use crate::config::Config;
use crate::dag::project::{FILE as PROJECT_FILE, Project};

/// Where the DAG's code sits in the image (on `PYTHONPATH`).
pub const CODE_DIR: &str = "/opt/leoflow/dags";
/// The base image when neither the flag, the project nor the settings name one.
pub const DEFAULT_BASE: &str = "docker.io/leoflow/python-runtime";

/// What to deploy.
#[derive(Debug, Clone)]
pub enum What {
    /// A DAG file, a Leoflow project folder, or a folder of DAG files.
    Path(PathBuf),
    /// A DAG of the DAG folder.
    DagId(String),
    /// Every DAG of the DAG folder.
    All,
}

/// `leoflow deploy`'s arguments (settings fill what is missing).
#[derive(Debug, Clone)]
pub struct DeployArgs {
    pub what: What,
    pub server: Option<String>,
    /// `host[:port]/repository-prefix`.
    pub registry: Option<String>,
    pub base_image: Option<String>,
    /// The image tag (default: the dag.json's `dag_version`).
    pub tag: Option<String>,
    /// Reach the registry (and the base image's) over plain HTTP.
    pub insecure_registry: bool,
    pub registry_user: Option<String>,
    pub registry_password_stdin: bool,
    pub trigger: bool,
    pub dry_run: bool,
    pub yes: bool,
    /// `os/arch` of the image.
    pub platform: String,
}

/// One DAG to deploy: where its code is.
#[derive(Debug, Clone)]
struct Item {
    dag_id: String,
    /// What `compile` reads: the DAG file, or its project folder.
    source: PathBuf,
    /// What goes into the image (module paths are relative to it).
    root: PathBuf,
    project: Option<Project>,
}

/// A pre-flight failure: nothing was pushed or registered (exit 2).
struct Preflight(anyhow::Error);

/// `leoflow deploy`.
pub fn deploy(config: &Config, args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    match plan_and_run(config, args, started) {
        Ok(code) => Ok(code),
        Err(Preflight(e)) => {
            eprintln!("error: {e:#}");
            eprintln!("Nothing was pushed or registered.");
            Ok(ExitCode::from(2))
        }
    }
}

fn plan_and_run(
    config: &Config,
    args: &DeployArgs,
    started: Instant,
) -> Result<ExitCode, Preflight> {
    let pf = |e: anyhow::Error| Preflight(e);
    // Settings first: their absence is the cheapest failure.
    let registry = args
        .registry
        .clone()
        .or_else(|| config.registry.clone())
        .ok_or_else(|| {
            pf(anyhow::anyhow!(
                "no registry configured: pass --registry HOST[:PORT]/REPO (or set LEOFLOW_REGISTRY, or `registry` in leoflow.toml)"
            ))
        })?;
    let registry = registry.trim_end_matches('/').to_string();
    let registry_host = registry.split('/').next().unwrap_or_default().to_string();
    let server = super::login::server(args.server.as_deref(), config).map_err(pf)?;
    let token = match super::login::token_for(&server).map_err(pf)? {
        Some((t, _)) => t,
        None => {
            return Err(pf(anyhow::anyhow!(
                "not signed in to {server}: run `leoflow auth login --server {server}` (or set LEOFLOW_TOKEN)"
            )));
        }
    };
    let mut insecure = config.insecure_registries.clone();
    if args.insecure_registry {
        insecure.push(registry_host.clone());
    }
    let registry_auth = match (&args.registry_user, args.registry_password_stdin) {
        (Some(user), true) => {
            let mut p = String::new();
            std::io::stdin()
                .read_line(&mut p)
                .context("reading the registry password from standard input")
                .map_err(pf)?;
            RegistryAuth::Basic {
                username: user.clone(),
                password: p.trim_end_matches(['\n', '\r']).to_string(),
            }
        }
        (Some(_), false) | (None, true) => {
            return Err(pf(anyhow::anyhow!(
                "--registry-user and --registry-password-stdin go together"
            )));
        }
        (None, false) => oci::auth_for(&registry_host).map_err(|e| pf(e.into()))?,
    };

    // 1. Select and compile.
    let items = select(config, &args.what).map_err(pf)?;
    let mut compiled = Vec::new();
    for item in &items {
        let c = compile_dag(
            config,
            &item.source,
            Some(&item.dag_id),
            None,
            None,
            Some(&item.root),
        )
        .map_err(pf)?;
        row(
            &item.dag_id,
            "compile",
            &format!(
                "{} task(s), version {}",
                c.dag.tasks.len(),
                c.compiled.doc["dag_version"].as_str().unwrap_or_default()
            ),
        );
        compiled.push(c);
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| pf(e.into()))?;
    let plane = ControlPlane::new(&server, Some(token));
    let reg = Registry::new(&insecure);
    let targets: Vec<String> = items
        .iter()
        .zip(&compiled)
        .map(|(item, c)| target(&registry, item, c, args.tag.as_deref()))
        .collect::<anyhow::Result<_>>()
        .map_err(pf)?;

    // 2. Check the server and the registry before anything moves.
    rt.block_on(async {
        plane.check().await?;
        for t in targets.iter().collect::<BTreeSet<_>>() {
            reg.check(t, &registry_auth).await?;
        }
        anyhow::Ok(())
    })
    .map_err(pf)?;

    if !args.dry_run && !confirm(args, &server, &compiled).map_err(pf)? {
        eprintln!("Cancelled: nothing was pushed or registered.");
        return Ok(ExitCode::FAILURE);
    }

    // 3-5, per DAG.
    let mut summary = Summary::default();
    let mut failed = 0;
    for ((item, c), target) in items.iter().zip(compiled).zip(&targets) {
        let outcome = rt.block_on(one(
            config,
            args,
            &reg,
            &registry_auth,
            &insecure,
            &plane,
            item,
            c,
            target,
            &mut summary,
        ));
        if let Err(e) = outcome {
            row(&item.dag_id, "failed", &format!("{e:#}"));
            failed += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    if args.dry_run {
        println!(
            "Dry run: {} DAG(s) planned for {server} ({} new, {} changed, {} unchanged there); {} to upload; nothing was pushed or registered ({secs:.1} s)",
            items.len(),
            summary.new,
            summary.changed,
            summary.unchanged,
            human(summary.bytes),
        );
    } else {
        println!(
            "Deployed {} of {} DAG(s) to {server}: {} new version(s), {} unchanged; {} uploaded, {} blob(s) skipped, {} mounted ({secs:.1} s)",
            items.len() - failed,
            items.len(),
            summary.created,
            summary.same,
            human(summary.bytes),
            summary.skipped,
            summary.mounted,
        );
    }
    if !summary.connections.is_empty() {
        println!(
            "Connections these DAGs use (create them on {server} under Admin > Connections, they are never shipped): {}",
            summary
                .connections
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What the run did, for the summary.
#[derive(Default)]
struct Summary {
    new: usize,
    changed: usize,
    unchanged: usize,
    created: usize,
    same: usize,
    bytes: u64,
    skipped: usize,
    mounted: usize,
    connections: BTreeSet<String>,
}

/// Build, push, pin, register and trigger one DAG.
#[allow(clippy::too_many_arguments)]
async fn one(
    config: &Config,
    args: &DeployArgs,
    reg: &Registry,
    auth: &RegistryAuth,
    insecure: &[String],
    plane: &ControlPlane,
    item: &Item,
    c: CompiledDag,
    target: &str,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let dag_id = &item.dag_id;
    summary.connections.extend(connections(&c));
    // The base image: flag, project, settings, default.
    let base_ref = base_image(config, args, item);
    let base_host = base_ref.split('/').next().unwrap_or_default();
    let base_auth = if base_host == target.split('/').next().unwrap_or_default() {
        auth.clone()
    } else {
        oci::auth_for(base_host)?
    };
    let base_reg;
    let base_reg = if insecure.iter().any(|h| h == base_host) || args.insecure_registry {
        let mut all = insecure.to_vec();
        all.push(base_host.to_string());
        base_reg = Registry::new(&all);
        &base_reg
    } else {
        reg
    };
    let base: BaseImage = base_reg.base(&base_ref, &base_auth, &args.platform).await?;
    let (built, files) = build(item, &c, &base, home_of(config))?;
    row(
        dag_id,
        "build",
        &format!(
            "{files} file(s) in one layer of {} on {} ({})",
            human(built.layer.gzip.len() as u64),
            base.reference,
            short(&base.digest)
        ),
    );
    let pinned = ImageRef::parse(target)?.pinned(&built.digest);
    let mut doc = c.compiled.doc.clone();
    doc["image"] = Value::String(pinned.clone());
    if args.dry_run {
        let missing = reg.missing_blobs(&built, target, auth).await?;
        let sizes: BTreeMap<String, u64> =
            built.blobs().into_iter().map(|(_, d, s)| (d, s)).collect();
        let bytes: u64 = missing.iter().filter_map(|d| sizes.get(d)).sum();
        summary.bytes += bytes;
        row(
            dag_id,
            "push",
            &format!(
                "would upload {} blob(s) ({}); {} already there → {pinned}",
                missing.len(),
                human(bytes),
                sizes.len() - missing.len()
            ),
        );
        let state = match plane.dag(dag_id).await? {
            None => {
                summary.new += 1;
                "new on the server"
            }
            Some(d) if d["bundle_version"] == doc["dag_version"] => {
                summary.unchanged += 1;
                "unchanged on the server"
            }
            Some(_) => {
                summary.changed += 1;
                "changed: would be a new version"
            }
        };
        row(dag_id, "register", state);
        return Ok(());
    }
    let mut last_line = Instant::now();
    let mut progress = |p: Progress| {
        if let Progress::Uploading {
            digest, sent, size, ..
        } = &p
            && last_line.elapsed().as_millis() >= 500
        {
            last_line = Instant::now();
            eprintln!(
                "  {dag_id}: uploading {} {} of {}",
                short(digest),
                human(*sent),
                human(*size)
            );
        }
    };
    let pushed = reg.push(&built, &base, target, auth, &mut progress).await?;
    summary.bytes += pushed.bytes_uploaded;
    summary.skipped += pushed.blobs_skipped;
    summary.mounted += pushed.blobs_mounted;
    row(
        dag_id,
        "push",
        &format!(
            "{} uploaded in {} blob(s), {} skipped, {} mounted → {pinned}",
            human(pushed.bytes_uploaded),
            pushed.blobs_uploaded,
            pushed.blobs_skipped,
            pushed.blobs_mounted
        ),
    );
    let r = plane.register(dag_id, &doc).await?;
    if r.created {
        summary.created += 1;
    } else {
        summary.same += 1;
    }
    row(
        dag_id,
        "register",
        &format!(
            "version {} ({}), spec_hash {}",
            r.version,
            if r.created { "new" } else { "unchanged" },
            short(&r.spec_hash)
        ),
    );
    println!(
        "{}",
        serde_json::json!({"dag_id": dag_id, "version": r.version, "spec_hash": r.spec_hash, "image": pinned})
    );
    if args.trigger {
        let run_id = plane.trigger(dag_id).await?;
        row(
            dag_id,
            "trigger",
            &format!("run {run_id} queued (DAG unpaused)"),
        );
    }
    Ok(())
}

/// The image's files: (host path, path in the image) for the DAG's code and the generated
/// entrypoint modules, and the built image.
fn build(
    item: &Item,
    c: &CompiledDag,
    base: &BaseImage,
    home: PathBuf,
) -> anyhow::Result<(Built, usize)> {
    let mut files = code_files(item, &home)?;
    // Generated modules are written to a scratch folder of the home to be layered like any
    // file (the home itself never is).
    let scratch = home
        .join("tmp")
        .join(format!("deploy-{}-{}", std::process::id(), item.dag_id));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    for (name, text) in &c.compiled.modules {
        let p = scratch.join(name);
        std::fs::write(&p, text)?;
        files.push((p, format!("{CODE_DIR}/{name}")));
    }
    let n = files.len();
    let layer = layer(&files);
    let _ = std::fs::remove_dir_all(&scratch);
    let layer = layer?;
    let env = vec![(
        "PYTHONPATH".to_string(),
        match base_env(base, "PYTHONPATH") {
            Some(p) if !p.is_empty() => format!("{CODE_DIR}:{p}"),
            _ => CODE_DIR.to_string(),
        },
    )];
    let labels = BTreeMap::from([
        ("io.leoflow.dag_id".to_string(), item.dag_id.clone()),
        (
            "io.leoflow.dag_version".to_string(),
            c.compiled.doc["dag_version"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
    ]);
    Ok((oci::build(base, layer, &env, &labels)?, n))
}

/// A variable of the base image's config `Env`.
fn base_env(base: &BaseImage, name: &str) -> Option<String> {
    let config: Value = serde_json::from_slice(&base.config).ok()?;
    config["config"]["Env"]
        .as_array()?
        .iter()
        .filter_map(|e| e.as_str())
        .find_map(|e| e.strip_prefix(&format!("{name}=")).map(String::from))
}

/// Names never shipped, wherever they are: secrets, VCS, caches, virtualenvs, Leoflow's own.
const NEVER: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
    ".leoflow",
    "leoflow.toml",
    "credentials.toml",
    ".netrc",
    ".pypirc",
    ".docker",
    ".ssh",
    ".aws",
];

/// Whether a file name is a secret or clutter that never enters an image.
fn never_shipped(name: &str) -> bool {
    NEVER.contains(&name)
        || name == ".env"
        || name.starts_with(".env.")
        || name.ends_with(".env")
        || name.ends_with(".pyc")
        || name.ends_with(".pem")
        || name.ends_with(".key")
        || name.starts_with("id_rsa")
        || name.starts_with("id_ed25519")
}

/// The DAG's code: every file under the root (a project's `include_paths` and
/// `exclude_paths` applied), minus what is never shipped and the home.
fn code_files(item: &Item, home: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let root = &item.root;
    let (includes, excludes) = match &item.project {
        Some(p) => (
            strings(p.doc.get("include_paths")).unwrap_or_else(|| vec![".".into()]),
            strings(p.doc.get("exclude_paths")).unwrap_or_default(),
        ),
        None => (vec![".".into()], Vec::new()),
    };
    let excluded = |rel: &Path| {
        rel.components()
            .any(|c| never_shipped(&c.as_os_str().to_string_lossy()))
            || excludes.iter().any(|x| matches_glob(x, rel))
    };
    let home = std::fs::canonicalize(home).unwrap_or_else(|_| home.to_path_buf());
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for inc in includes {
        let start = root.join(&inc);
        if !start.exists() {
            bail!(
                "include_paths entry {inc:?} of {} does not exist",
                root.join(PROJECT_FILE).display()
            );
        }
        let mut stack = vec![start];
        while let Some(p) = stack.pop() {
            let canon = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if canon.starts_with(&home) {
                continue;
            }
            let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
            if !rel.as_os_str().is_empty() && excluded(&rel) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            if meta.is_dir() {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(&p)
                    .with_context(|| format!("cannot read {}", p.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                entries.sort();
                stack.extend(entries.into_iter().rev());
            } else if seen.insert(rel.clone()) {
                let in_image = format!("{CODE_DIR}/{}", rel.display());
                out.push((p, in_image));
            }
        }
    }
    Ok(out)
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    })
}

/// `exclude_paths` entries: a name or `*.ext` matched against each path component, or a
/// relative path prefix.
fn matches_glob(pattern: &str, rel: &Path) -> bool {
    let pattern = pattern.trim_end_matches('/');
    if let Some(ext) = pattern.strip_prefix("*.") {
        return rel.extension().is_some_and(|e| e.to_string_lossy() == ext);
    }
    if pattern.contains('/') {
        return rel.starts_with(pattern);
    }
    rel.components()
        .any(|c| c.as_os_str().to_string_lossy() == pattern)
}

/// The base image of `item`: `--base-image`, the project's `base_image`, the `base_image`
/// setting, else Leoflow's runtime image for the project's Python version.
fn base_image(config: &Config, args: &DeployArgs, item: &Item) -> String {
    let project = item.project.as_ref();
    args.base_image
        .clone()
        .or_else(|| {
            project
                .and_then(|p| p.doc.get("base_image"))
                .and_then(|v| v.as_str())
                .map(String::from)
        })
        .or_else(|| config.base_image.clone())
        .unwrap_or_else(|| {
            let py = project
                .and_then(|p| p.doc.get("python_version"))
                .and_then(|v| v.as_str())
                .unwrap_or("3.11");
            format!("{DEFAULT_BASE}:{py}")
        })
}

/// `registry/image:tag` of a DAG: the project's `registry.image_name` or the DAG id
/// (lower-cased, as repositories must be), tagged `--tag` or its `dag_version`.
fn target(
    registry: &str,
    item: &Item,
    c: &CompiledDag,
    tag: Option<&str>,
) -> anyhow::Result<String> {
    let name = item
        .project
        .as_ref()
        .and_then(|p| p.doc.get("registry"))
        .and_then(|r| r.get("image_name"))
        .and_then(|v| v.as_str())
        .map(String::from)
        .unwrap_or_else(|| {
            item.dag_id
                .to_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
                .trim_matches('-')
                .to_string()
        });
    let tag = tag.map(String::from).unwrap_or_else(|| {
        c.compiled.doc["dag_version"]
            .as_str()
            .unwrap_or("latest")
            .to_string()
    });
    let t = format!("{registry}/{name}:{tag}");
    ImageRef::parse(&t).with_context(|| format!("the image name {t:?} is not valid"))?;
    Ok(t)
}

/// The DAGs `what` names.
fn select(config: &Config, what: &What) -> anyhow::Result<Vec<Item>> {
    let folder = &config.dags_folder;
    let from_folder = |dir: &Path, only: Option<&str>| -> anyhow::Result<Vec<Item>> {
        let results = parse_all(config, dir)?;
        let mut items = Vec::new();
        for r in &results {
            for e in &r.import_errors {
                eprintln!("warning: {} (not deployed)", e.display());
            }
            for d in &r.dags {
                if only.is_some_and(|id| id != d.dag_id) {
                    continue;
                }
                items.push(item_of(&d.dag_id, Path::new(&d.fileloc), dir));
            }
        }
        Ok(items)
    };
    let items = match what {
        What::Path(p) if p.is_dir() && p.join(PROJECT_FILE).is_file() => {
            let project = Project::load(p).map_err(anyhow::Error::msg)?;
            let dag_id = project
                .doc
                .get("dag_id")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            vec![Item {
                dag_id,
                source: p.clone(),
                root: p.clone(),
                project: Some(project),
            }]
        }
        What::Path(p) if p.is_dir() => from_folder(p, None)?,
        What::Path(p) if p.is_file() => {
            let root = if std::fs::canonicalize(p)?
                .starts_with(std::fs::canonicalize(folder).unwrap_or_default())
            {
                folder.clone()
            } else {
                p.parent().map(PathBuf::from).unwrap_or_default()
            };
            let mut items = Vec::new();
            for r in parse_all(config, p)? {
                if let Some(e) = r.import_errors.first() {
                    bail!("{}", e.display());
                }
                for d in &r.dags {
                    items.push(item_of(&d.dag_id, Path::new(&d.fileloc), &root));
                }
            }
            items
        }
        What::Path(p) => bail!("{} does not exist", p.display()),
        What::DagId(id) => {
            let items = from_folder(folder, Some(id))?;
            if items.is_empty() {
                bail!(
                    "no DAG {id:?} in the DAG folder {} (give a path to deploy a file elsewhere)",
                    folder.display()
                );
            }
            items
        }
        What::All => from_folder(folder, None)?,
    };
    if items.is_empty() {
        bail!("nothing to deploy: no DAG found");
    }
    Ok(items)
}

/// The item of a DAG defined in `file`: its project when the file's folder is one, else the
/// file with `root` as its code.
fn item_of(dag_id: &str, file: &Path, root: &Path) -> Item {
    let dir = file.parent().unwrap_or(root);
    match Project::load(dir) {
        Ok(p) if dir.join(PROJECT_FILE).is_file() => Item {
            dag_id: dag_id.into(),
            source: dir.to_path_buf(),
            root: dir.to_path_buf(),
            project: Some(p),
        },
        _ => Item {
            dag_id: dag_id.into(),
            source: file.to_path_buf(),
            root: root.to_path_buf(),
            project: None,
        },
    }
}

/// Connection ids a DAG's tasks name (`*_conn_id` arguments).
fn connections(c: &CompiledDag) -> Vec<String> {
    let mut out = Vec::new();
    for t in &c.dag.tasks {
        for (k, v) in &t.args {
            if k.ends_with("conn_id")
                && let Some(id) = v.as_str()
                && !id.is_empty()
            {
                out.push(id.to_string());
            }
        }
    }
    out
}

/// Asks before changing a server, unless `--yes`; without a terminal `--yes` is required.
fn confirm(args: &DeployArgs, server: &str, compiled: &[CompiledDag]) -> anyhow::Result<bool> {
    if args.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to confirm on: pass --yes to deploy to {server}");
    }
    eprint!(
        "Deploy {} DAG(s) ({}) to {server}? [y/N] ",
        compiled.len(),
        compiled
            .iter()
            .map(|c| c.dag.dag_id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// The home, which never enters an image.
fn home_of(config: &Config) -> PathBuf {
    config.home.clone()
}

/// One line of the step table.
fn row(dag_id: &str, step: &str, what: &str) {
    println!("{dag_id:<24} {step:<9} {what}");
}

fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("{}…", &hex[..hex.len().min(12)])
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_clutter_never_ship() {
        for name in [
            ".env",
            ".env.prod",
            "prod.env",
            "id_rsa",
            "server.pem",
            "tls.key",
            ".git",
            "__pycache__",
            "x.pyc",
            "leoflow.toml",
        ] {
            assert!(never_shipped(name), "{name}");
        }
        for name in [
            "dag.py",
            "env.py",
            "requirements.txt",
            "keys.py",
            "environment.yaml",
        ] {
            assert!(!never_shipped(name), "{name}");
        }
    }

    #[test]
    fn exclude_paths_match_names_extensions_and_prefixes() {
        assert!(matches_glob("*.csv", Path::new("data/x.csv")));
        assert!(matches_glob("tests", Path::new("tests/test_dag.py")));
        assert!(matches_glob("data/raw/", Path::new("data/raw/big.bin")));
        assert!(!matches_glob("data/raw", Path::new("data/clean/x")));
        assert!(!matches_glob("*.csv", Path::new("csv.py")));
    }
}
