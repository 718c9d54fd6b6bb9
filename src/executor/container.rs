//! Tries in local containers, through the engine's Docker API (`engine`).
//!
//! Three kinds of try run here: `DockerOperator` and `@task.docker` (the Python runtime
//! prepares them — rendering, map index, the `@task.docker` exchange files — and hands over a
//! [`Spec`]), and, with `--executor docker`, tasks whose DAG or task names an image (bash as
//! `bash -c`, everything else through the Python runtime mounted read-only).
//!
//! Each try: the image is pulled when missing (or `force_pull`), with a progress line; the
//! container is created with labels (`io.leoflow.*`: dag, run, task, map index, try, this
//! server's instance, its home) and hardened ([`Limits`]: no privileges, every capability
//! dropped, `no-new-privileges`, read-only root with a tmpfs `/tmp`, a non-root user unless the
//! task names one, pids / memory / CPU limits, network `none` unless asked); its output is
//! streamed into the try's log as it comes; its exit code decides the outcome; it is removed
//! per `auto_remove`. `execution_timeout`, clear and mark-failed kill it; a server that starts
//! kills and removes what an earlier instance left running ([`Containers::reconcile`]).
//!
//! **Invariant:** a container never gets the engine's socket, the server's environment or a
//! writable mount the try did not ask for (its exchange folder, the task's own binds).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, DownloadFromContainerOptionsBuilder,
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;

use super::TaskRequest;
use super::engine::{Engine, bounded};
use super::log::{LOG_TAIL_INTERVAL, LogWriter, Tail};
use super::process::until;

/// Label keys.
pub const LABEL_PREFIX: &str = "io.leoflow.";

/// The defaults every container gets unless its task asks otherwise (settings).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes of memory.
    pub memory: i64,
    /// CPUs (fractions allowed).
    pub cpus: f64,
    pub pids: i64,
    /// `none` or `bridge`.
    pub network: String,
    /// The user a container runs as unless the task names one.
    pub user: String,
}

impl Limits {
    /// The limits the settings ask for.
    pub fn from_config(c: &crate::config::Config) -> Limits {
        Limits {
            memory: c.container_memory,
            cpus: c.container_cpus,
            pids: c.container_pids,
            network: c.container_network.clone(),
            ..Default::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory: 2 << 30,
            cpus: 2.0,
            pids: 1024,
            network: "none".into(),
            user: "65534:65534".into(),
        }
    }
}

/// A bind mount.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Bind {
    pub source: String,
    pub target: String,
    #[serde(default = "yes")]
    pub read_only: bool,
}

fn yes() -> bool {
    true
}

fn never() -> String {
    "never".into()
}

/// What to run: the Python runtime's `container` request (`python/PROTOCOL.md`), or one built
/// here for a task that runs in its image.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Spec {
    pub image: String,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub private_environment: BTreeMap<String, String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    #[serde(default)]
    pub mounts: Vec<Bind>,
    pub network_mode: Option<String>,
    pub mem_limit: Option<i64>,
    pub cpus: Option<f64>,
    pub shm_size: Option<i64>,
    #[serde(default = "never")]
    pub auto_remove: String,
    #[serde(default)]
    pub skip_on_exit_code: Vec<i64>,
    #[serde(default = "yes")]
    pub do_xcom_push: bool,
    #[serde(default)]
    pub xcom_all: bool,
    #[serde(default)]
    pub retrieve_output: bool,
    pub retrieve_output_path: Option<String>,
    #[serde(default)]
    pub mount_tmp_dir: bool,
    #[serde(default)]
    pub force_pull: bool,
    pub container_name: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `@task.docker`: the function's result is `output.json` in the exchange folder.
    pub python: Option<PythonSpec>,
}

/// `@task.docker`'s part of a [`Spec`].
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PythonSpec {
    #[serde(default)]
    pub multiple_outputs: bool,
}

/// Where the try's exchange folder is mounted (read-write), for `@task.docker` files and the
/// Python runtime's log and result.
pub const EXCHANGE: &str = "/leoflow/exchange";

/// How a container ended.
#[derive(Debug, Default)]
pub struct Ended {
    pub exit_code: i64,
    /// Every output line when the spec asked for all of them (`xcom_all`), else the last.
    pub lines: Vec<String>,
    /// The last stdout line.
    pub last_stdout: Option<String>,
    /// The content of `retrieve_output_path`, when asked.
    pub output: Option<Value>,
    pub timed_out: bool,
}

/// This server's containers: the engine (connected on first use), the running container of
/// each try, and what labels mark them.
pub struct Containers {
    engine: tokio::sync::OnceCell<Result<Engine, String>>,
    running: Mutex<HashMap<String, String>>,
    /// This server process (a fresh id per start).
    instance: String,
    /// The home this server serves (its path's hash): containers of other homes are not ours.
    home: String,
    pub limits: Limits,
}

impl Containers {
    pub fn new(home: &Path, limits: Limits) -> Containers {
        use sha2::Digest;
        let home = hex::encode(&sha2::Sha256::digest(home.to_string_lossy().as_bytes())[..8]);
        Containers {
            engine: tokio::sync::OnceCell::new(),
            running: Mutex::default(),
            instance: uuid::Uuid::new_v4().simple().to_string(),
            home,
            limits,
        }
    }

    /// The engine, connected on first use; the error says which sockets were tried.
    pub async fn engine(&self) -> Result<&Engine, String> {
        self.engine
            .get_or_init(Engine::connect)
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Kills the container of `ti_id`'s try, if it has one (its outcome follows as usual).
    pub fn kill(&self, ti_id: &str) -> bool {
        let Some(id) = self.lock().get(ti_id).cloned() else {
            return false;
        };
        if let Some(Ok(engine)) = self.engine.get() {
            let docker = engine.docker.clone();
            tokio::spawn(async move { kill(&docker, &id).await });
        }
        true
    }

    /// Kills every running container of this server (shutdown).
    pub fn kill_all(&self) {
        let ids: Vec<String> = self.lock().keys().cloned().collect();
        for ti in ids {
            self.kill(&ti);
        }
    }

    /// Kills and removes the containers an earlier instance of this server (same home) left
    /// running; how many. Their tries are failed (and retried per policy) by the scheduler's
    /// recovery.
    pub async fn reconcile(&self) -> Result<usize, String> {
        let engine = self.engine().await?;
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{LABEL_PREFIX}home={}", self.home)],
        )]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = bounded(
            "listing containers",
            engine.docker.list_containers(Some(opts)),
        )
        .await?;
        let mut n = 0;
        for c in list {
            let labels = c.labels.unwrap_or_default();
            let ours = labels.get(&format!("{LABEL_PREFIX}instance")) == Some(&self.instance);
            let running = matches!(
                c.state,
                Some(bollard::models::ContainerSummaryStateEnum::RUNNING)
                    | Some(bollard::models::ContainerSummaryStateEnum::CREATED)
                    | Some(bollard::models::ContainerSummaryStateEnum::PAUSED)
                    | Some(bollard::models::ContainerSummaryStateEnum::RESTARTING)
            );
            if ours || !running {
                continue;
            }
            if let Some(id) = c.id {
                tracing::warn!(
                    container = id,
                    dag_id = labels.get(&format!("{LABEL_PREFIX}dag_id")),
                    task_id = labels.get(&format!("{LABEL_PREFIX}task_id")),
                    "removing a task container a previous server left running"
                );
                kill(&engine.docker, &id).await;
                remove(&engine.docker, &id).await;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Runs `spec` for `req`'s try: pulls the image if needed, creates the hardened container
    /// with `binds`, streams its output into `log` (and the records the runtime inside writes
    /// to `tail`'s file), waits (killing it at the try's `execution_timeout`), collects what the
    /// spec asks for and removes it per `auto_remove` (`remove_always` for the runtime's own
    /// containers).
    pub(super) async fn run(
        &self,
        req: &TaskRequest,
        log: &mut LogWriter,
        spec: &Spec,
        binds: &[Bind],
        remove_always: bool,
        tail: Option<&mut Tail>,
    ) -> Result<Ended, String> {
        let engine = self.engine().await?;
        let docker = &engine.docker;
        self.ensure_image(engine, log, &spec.image, spec.force_pull)
            .await?;
        let body = self.body(req, spec, binds)?;
        let name = spec
            .container_name
            .clone()
            .unwrap_or_else(|| container_name(req));
        let opts = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = bounded(
            &format!("creating a container of {}", spec.image),
            docker.create_container(Some(opts), body),
        )
        .await?;
        let id = created.id;
        self.lock().insert(req.ti_id.clone(), id.clone());
        log.line(
            "leoflow",
            Some("info"),
            &format!(
                "Container {name} ({}) of {} on {}",
                &id[..12.min(id.len())],
                spec.image,
                engine.name
            ),
        )
        .await;
        let ended = self.supervise(docker, &id, req, log, spec, tail).await;
        self.lock().remove(&req.ti_id);
        let ok = matches!(&ended, Ok(e) if e.exit_code == 0 && !e.timed_out);
        if remove_always || spec.auto_remove == "force" || (spec.auto_remove == "success" && ok) {
            remove(docker, &id).await;
        }
        ended
    }

    /// Starts the container, streams its logs, waits, and reads what the spec asks for.
    async fn supervise(
        &self,
        docker: &bollard::Docker,
        id: &str,
        req: &TaskRequest,
        log: &mut LogWriter,
        spec: &Spec,
        mut tail: Option<&mut Tail>,
    ) -> Result<Ended, String> {
        bounded("starting the container", docker.start_container(id, None)).await?;
        let mut tick = tokio::time::interval(LOG_TAIL_INTERVAL);
        let opts = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .build();
        let mut logs = docker.logs(id, Some(opts));
        let mut wait = Box::pin(docker.wait_container(id, None));
        let deadline = req.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut ended = Ended::default();
        let mut lines = Lines::default();
        let mut exit: Option<i64> = None;
        let mut logs_open = true;
        let mut broken: Option<String> = None;
        loop {
            tokio::select! {
                chunk = logs.next(), if logs_open => match chunk {
                    Some(Ok(out)) => lines.take(out, log, spec.xcom_all, &mut ended).await,
                    Some(Err(e)) => {
                        logs_open = false;
                        broken = Some(e.to_string());
                    }
                    None => logs_open = false,
                },
                w = wait.next(), if exit.is_none() => {
                    exit = Some(match w {
                        Some(Ok(r)) => r.status_code,
                        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                        Some(Err(e)) => return Err(format!("waiting for the container: {e}")),
                        None => return Err("the engine stopped answering about the container".into()),
                    });
                    if !logs_open { break; }
                },
                _ = tick.tick(), if tail.is_some() => {
                    if let Some(t) = tail.as_deref_mut() {
                        t.copy(log).await;
                    }
                },
                _ = until(deadline), if !ended.timed_out => {
                    ended.timed_out = true;
                    kill(docker, id).await;
                },
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)), if exit.is_some() => {
                    // The container ended; its log stream should close at once. Do not wait
                    // on an engine that keeps it open.
                    break;
                }
            }
            if exit.is_some() && !logs_open {
                break;
            }
        }
        if let Some(e) = broken {
            tracing::warn!(container = id, "the container's log stream broke: {e}");
        }
        // Catch up from the engine's stored log: a follow stream may end (Podman's does when
        // the container exits) or break before it delivered the last lines, which are the
        // ones XCom is made of.
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .build();
        let mut all = docker.logs(id, Some(opts));
        let mut again = Lines::default();
        let catch_up = async {
            while let Some(Ok(out)) = all.next().await {
                again
                    .resume(out, &mut lines, log, spec.xcom_all, &mut ended)
                    .await;
            }
        };
        if tokio::time::timeout(std::time::Duration::from_secs(10), catch_up)
            .await
            .is_err()
        {
            tracing::warn!(container = id, "re-reading the container's log timed out");
        }
        again.hand_over_partial(&mut lines);
        lines.flush(log, spec.xcom_all, &mut ended).await;
        if let Some(t) = tail {
            t.copy(log).await;
        }
        ended.exit_code = exit.unwrap_or(-1);
        if !spec.xcom_all {
            ended.lines = lines.last.take().into_iter().collect();
        }
        if spec.retrieve_output
            && ended.exit_code == 0
            && let Some(path) = &spec.retrieve_output_path
        {
            ended.output = Some(read_file(docker, id, path).await?);
        }
        Ok(ended)
    }

    /// Pulls `image` when the engine does not have it (or `force`), logging the pull.
    async fn ensure_image(
        &self,
        engine: &Engine,
        log: &mut LogWriter,
        image: &str,
        force: bool,
    ) -> Result<(), String> {
        if image.trim().is_empty() {
            return Err("the task names no image".into());
        }
        if !force && engine.docker.inspect_image(image).await.is_ok() {
            return Ok(());
        }
        log.line("leoflow", Some("info"), &format!("Pulling image {image}"))
            .await;
        let opts = CreateImageOptionsBuilder::default()
            .from_image(image)
            .build();
        let mut pull = engine.docker.create_image(Some(opts), None, None);
        let mut last = String::new();
        while let Some(step) = pull.next().await {
            match step {
                Ok(info) => {
                    if let Some(e) = info.error_detail.and_then(|d| d.message) {
                        return Err(format!("cannot pull image {image}: {e}"));
                    }
                    if let Some(s) = info.status {
                        last = s;
                    }
                }
                Err(e) => return Err(format!("cannot pull image {image}: {e}")),
            }
        }
        log.line(
            "leoflow",
            Some("info"),
            &format!("Pulled image {image}: {last}"),
        )
        .await;
        Ok(())
    }

    /// The container's configuration: the spec over the hardened defaults.
    fn body(
        &self,
        req: &TaskRequest,
        spec: &Spec,
        binds: &[Bind],
    ) -> Result<ContainerCreateBody, String> {
        let network = spec
            .network_mode
            .clone()
            .unwrap_or_else(|| self.limits.network.clone());
        if !["none", "bridge"].contains(&network.as_str()) {
            return Err(format!(
                "network_mode {network:?} is not supported: use \"none\" (the default) or \"bridge\""
            ));
        }
        let mut env: BTreeMap<String, String> = spec.environment.clone();
        env.extend(spec.private_environment.clone());
        let mut host_binds: Vec<String> = Vec::new();
        for b in spec.mounts.iter().chain(binds) {
            if !Path::new(&b.source).is_absolute() || !b.target.starts_with('/') {
                return Err(format!(
                    "mount {} -> {}: give absolute paths for a bind mount",
                    b.source, b.target
                ));
            }
            if is_engine_socket(&b.source) {
                return Err(format!(
                    "mount {}: the container engine's socket is never given to a task",
                    b.source
                ));
            }
            let mode = if b.read_only { "ro" } else { "rw" };
            host_binds.push(format!("{}:{}:{mode}", b.source, b.target));
        }
        let mut labels: HashMap<String, String> = spec
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let c = &req.context;
        for (k, v) in [
            ("dag_id", c.dag_id.clone()),
            ("run_id", c.run_id.clone()),
            ("task_id", c.task_id.clone()),
            ("map_index", c.map_index.to_string()),
            ("try", req.try_number.to_string()),
            ("ti_id", req.ti_id.clone()),
            ("instance", self.instance.clone()),
            ("home", self.home.clone()),
        ] {
            labels.insert(format!("{LABEL_PREFIX}{k}"), v);
        }
        let memory = spec.mem_limit.unwrap_or(self.limits.memory);
        let cpus = spec.cpus.unwrap_or(self.limits.cpus);
        let host = HostConfig {
            privileged: Some(false),
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            readonly_rootfs: Some(true),
            tmpfs: Some(HashMap::from([(
                "/tmp".to_string(),
                "rw,nosuid,nodev,size=256m,mode=1777".to_string(),
            )])),
            pids_limit: Some(self.limits.pids),
            memory: Some(memory),
            memory_swap: Some(memory),
            nano_cpus: Some((cpus * 1e9) as i64),
            shm_size: spec.shm_size,
            network_mode: Some(network),
            binds: Some(host_binds),
            ..Default::default()
        };
        Ok(ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.command.clone(),
            entrypoint: spec.entrypoint.clone(),
            env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            user: Some(
                spec.user
                    .clone()
                    .unwrap_or_else(|| self.limits.user.clone()),
            ),
            working_dir: spec.working_dir.clone(),
            labels: Some(labels),
            host_config: Some(host),
            ..Default::default()
        })
    }
}

/// Whether `path` is (or holds) a container engine's API socket.
fn is_engine_socket(path: &str) -> bool {
    let p = Path::new(path);
    let named = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n == "docker.sock" || n == "podman.sock")
    };
    named(p)
        || ["/var/run", "/run", "/var/run/docker", "/run/podman"]
            .iter()
            .any(|d| Path::new(d) == p)
        || p.join("docker.sock").exists()
        || p.join("podman.sock").exists()
}

/// A container name for a try: Leoflow's prefix, the task, a short unique suffix.
fn container_name(req: &TaskRequest) -> String {
    let c = &req.context;
    let clean = |s: &str| -> String {
        s.chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                    ch
                } else {
                    '-'
                }
            })
            .take(40)
            .collect()
    };
    format!(
        "leoflow-{}-{}-{}",
        clean(&c.dag_id),
        clean(&c.task_id),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Output split into lines: partial lines wait for their end; every complete line goes to the
/// log; the last one (or all) is kept for XCom.
#[derive(Default)]
struct Lines {
    out: Vec<u8>,
    err: Vec<u8>,
    last: Option<String>,
    /// Complete lines taken from stdout and stderr.
    seen: [usize; 2],
}

impl Lines {
    async fn take(
        &mut self,
        out: bollard::container::LogOutput,
        log: &mut LogWriter,
        all: bool,
        ended: &mut Ended,
    ) {
        use bollard::container::LogOutput as L;
        let (buf, stream) = match out {
            L::StdOut { message } | L::Console { message } => {
                self.out.extend_from_slice(&message);
                (&mut self.out, "stdout")
            }
            L::StdErr { message } => {
                self.err.extend_from_slice(&message);
                (&mut self.err, "stderr")
            }
            L::StdIn { .. } => return,
        };
        let Some(end) = buf.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = buf.drain(..=end).collect();
        let text = String::from_utf8_lossy(&complete).into_owned();
        for line in text.lines() {
            self.seen[usize::from(stream == "stderr")] += 1;
            log.line(stream, None, line).await;
            self.keep(line, stream, all, ended);
        }
    }

    /// Re-reads output from the start (`self` counts it) and hands `live` only the lines
    /// past those it already took.
    async fn resume(
        &mut self,
        out: bollard::container::LogOutput,
        live: &mut Lines,
        log: &mut LogWriter,
        all: bool,
        ended: &mut Ended,
    ) {
        use bollard::container::LogOutput as L;
        let (buf, i) = match out {
            L::StdOut { message } | L::Console { message } => {
                self.out.extend_from_slice(&message);
                (&mut self.out, 0)
            }
            L::StdErr { message } => {
                self.err.extend_from_slice(&message);
                (&mut self.err, 1)
            }
            L::StdIn { .. } => return,
        };
        let Some(end) = buf.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = buf.drain(..=end).collect();
        for line in complete.split_inclusive(|b| *b == b'\n') {
            self.seen[i] += 1;
            if self.seen[i] > live.seen[i] {
                live.seen[i] += 1;
                // The partial line `live` holds is part of this one.
                let stale = if i == 0 { &mut live.out } else { &mut live.err };
                stale.clear();
                let text = String::from_utf8_lossy(line);
                let stream = if i == 0 { "stdout" } else { "stderr" };
                let text = text.trim_end_matches('\n');
                log.line(stream, None, text).await;
                live.keep(text, stream, all, ended);
            }
        }
    }

    fn keep(&mut self, line: &str, stream: &str, all: bool, ended: &mut Ended) {
        if all {
            ended.lines.push(line.to_string());
        }
        self.last = Some(line.to_string());
        if stream == "stdout" {
            ended.last_stdout = Some(line.to_string());
        }
    }

    /// An unterminated last line that only the re-read saw becomes `live`'s.
    fn hand_over_partial(self, live: &mut Lines) {
        if live.out.is_empty() && live.seen[0] == self.seen[0] {
            live.out = self.out;
        }
        if live.err.is_empty() && live.seen[1] == self.seen[1] {
            live.err = self.err;
        }
    }

    /// Writes what is left of unterminated lines.
    async fn flush(&mut self, log: &mut LogWriter, all: bool, ended: &mut Ended) {
        for (buf, stream) in [
            (std::mem::take(&mut self.out), "stdout"),
            (std::mem::take(&mut self.err), "stderr"),
        ] {
            if !buf.is_empty() {
                let line = String::from_utf8_lossy(&buf).into_owned();
                log.line(stream, None, &line).await;
                self.keep(&line, stream, all, ended);
            }
        }
    }
}

/// `SIGKILL` to a container (gone already: nothing to do).
async fn kill(docker: &bollard::Docker, id: &str) {
    let opts = KillContainerOptionsBuilder::default()
        .signal("SIGKILL")
        .build();
    if let Err(e) = bounded("killing a container", docker.kill_container(id, Some(opts))).await {
        tracing::debug!(container = id, error = e, "kill");
    }
}

/// Removes a container (forcefully: it may still be stopping).
async fn remove(docker: &bollard::Docker, id: &str) {
    let opts = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    if let Err(e) = bounded(
        "removing a container",
        docker.remove_container(id, Some(opts)),
    )
    .await
    {
        tracing::warn!(
            container = id,
            error = e,
            "could not remove a task container"
        );
    }
}

/// The content of one file in a stopped container: JSON when it parses, else text.
async fn read_file(docker: &bollard::Docker, id: &str, path: &str) -> Result<Value, String> {
    let opts = DownloadFromContainerOptionsBuilder::default()
        .path(path)
        .build();
    let mut stream = docker.download_from_container(id, Some(opts));
    let mut tar_bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("cannot read {path} from the container: {e}"))?;
        tar_bytes.extend_from_slice(&chunk);
        if tar_bytes.len() > 64 << 20 {
            return Err(format!("{path} in the container is larger than 64 MiB"));
        }
    }
    let content = first_file(&tar_bytes)
        .ok_or_else(|| format!("{path} in the container is not a regular file"))?;
    Ok(match serde_json::from_slice::<Value>(&content) {
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(&content).into_owned()),
    })
}

/// The content of the first regular file of a tar archive.
fn first_file(tar_bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut archive = tar::Archive::new(tar_bytes);
    for entry in archive.entries().ok()? {
        let mut e = entry.ok()?;
        if e.header().entry_type().is_file() {
            let mut out = Vec::new();
            e.read_to_end(&mut out).ok()?;
            return Some(out);
        }
    }
    None
}

/// A per-try folder shared with the container (read-write), under the runtime folder.
pub fn exchange_dir(runtime_root: &Path, req: &TaskRequest) -> PathBuf {
    runtime_root
        .join("exchange")
        .join(format!("{}-{}", req.ti_id, req.try_number))
}

/// Creates an empty exchange folder any container user can write.
pub async fn make_exchange(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let _ = tokio::fs::remove_dir_all(dir).await;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))
        .await
        .map_err(|e| format!("cannot open {} to the container: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_socket_is_never_mounted() {
        assert!(is_engine_socket("/var/run/docker.sock"));
        assert!(is_engine_socket("/run/podman/podman.sock"));
        assert!(is_engine_socket("/var/run"));
        assert!(!is_engine_socket("/home/me/data"));
    }

    /// A broken follow stream is completed from the full log without repeating a line.
    #[tokio::test]
    async fn resumed_output_adds_only_the_lines_not_yet_taken() {
        use bollard::container::LogOutput as L;
        let out = |s: &str| L::StdOut {
            message: s.as_bytes().to_vec().into(),
        };
        let err = |s: &str| L::StdErr {
            message: s.as_bytes().to_vec().into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = LogWriter::scratch(&path).await;
        let mut ended = Ended::default();
        let mut live = Lines::default();
        for chunk in [out("a\nb\npar"), err("e1\n")] {
            live.take(chunk, &mut log, true, &mut ended).await;
        }
        let mut again = Lines::default();
        for chunk in [out("a\n"), err("e1\ne2\n"), out("b\npartial\nc\n")] {
            again
                .resume(chunk, &mut live, &mut log, true, &mut ended)
                .await;
        }
        live.flush(&mut log, true, &mut ended).await;
        log.finish().await;
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["line"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(lines, ["a", "b", "e1", "e2", "partial", "c"]);
        assert_eq!(ended.last_stdout.as_deref(), Some("c"));
        assert_eq!(ended.lines, ["a", "b", "e1", "e2", "partial", "c"]);
    }

    /// A follow stream that ended before the last lines (Podman's may when the container
    /// exits at once) is completed from the stored log, an unterminated last line included.
    #[tokio::test]
    async fn a_stream_that_ended_early_is_caught_up_to_the_last_line() {
        use bollard::container::LogOutput as L;
        let out = |s: &str| L::StdOut {
            message: s.as_bytes().to_vec().into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = LogWriter::scratch(&path).await;
        let mut ended = Ended::default();
        let mut live = Lines::default();
        live.take(out("a\n"), &mut log, true, &mut ended).await;
        let mut again = Lines::default();
        for chunk in [out("a\nb\n"), out("tail")] {
            again
                .resume(chunk, &mut live, &mut log, true, &mut ended)
                .await;
        }
        again.hand_over_partial(&mut live);
        live.flush(&mut log, true, &mut ended).await;
        assert_eq!(ended.lines, ["a", "b", "tail"]);
        assert_eq!(ended.last_stdout.as_deref(), Some("tail"));
    }

    #[test]
    fn a_spec_takes_the_runtimes_container_request() {
        let s: Spec = serde_json::from_value(serde_json::json!({
            "image": "busybox", "command": ["sh", "-c", "echo hi"],
            "environment": {"A": "1"}, "mounts": [{"source": "/data", "target": "/in"}],
            "auto_remove": "success", "skip_on_exit_code": [3]
        }))
        .unwrap();
        assert!(s.mounts[0].read_only);
        assert!(s.do_xcom_push);
        assert_eq!(s.auto_remove, "success");
    }
}
