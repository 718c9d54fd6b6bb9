//! `leoflow lite`: starts every Lite component in one process and stops them cleanly.
//!
//! Start order: home and its lock, metadata store (migrations), XCom store, HTTP listener, then
//! the banner. SIGINT/SIGTERM stop accepting connections, let in-flight requests finish (up to
//! a grace period), flush sled, checkpoint SQLite and return, all within 5 s.
//!
//! **Invariant:** this module wires components together; it owns no domain logic.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::api::{self, AppState};
use crate::config::Config;
use crate::events::EventBus;
use crate::health::Heartbeats;
use crate::home::Home;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::xcom::XcomStore;

/// How long in-flight requests get after a stop signal.
const GRACE: Duration = Duration::from_secs(3);

/// Runs the Lite server until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    // Install the handlers first: a signal that arrives while starting must still stop cleanly.
    let shutdown = shutdown_signal()?;
    if let Err(why) = check_auth_bind(&config) {
        bail!("{why}");
    }
    let home = Home::new(&config.home);
    home.create()?;
    let _lock = home.lock()?;
    let store = Store::open(&home.db_path())?;
    let xcom = XcomStore::open(&home.xcom_dir(), config.xcom_max_bytes)?;
    let (auth, auth_line) = start_auth(&config, &home, &store)?;

    let addr = SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen on {addr}; is another program using port {}? Pick another with --port",
            config.port
        )
    })?;
    let addr = listener.local_addr()?;

    let config = Arc::new(config);
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let progress = Arc::new(crate::dag_processor::Progress::default());
    let events = EventBus::default();
    let health = Arc::new(Heartbeats::default());
    let containers = Arc::new(containers(&config));
    let in_image = config.executor == crate::config::ExecutorKind::Docker;
    // With --executor docker the engine must answer before the server says it is ready.
    let executor_line = if in_image {
        let engine = containers
            .engine()
            .await
            .map_err(|e| anyhow::anyhow!("--executor docker: {e}"))?;
        format!("docker ({engine}); tasks without an image: subprocess")
    } else {
        config.executor.as_str().to_string()
    };
    let (scheduler, scheduler_task) = crate::scheduler::start_engine(
        store.clone(),
        events.clone(),
        health.clone(),
        xcom.clone(),
        crate::executor::python::PyRuntime::new(config.python.clone(), home.runtime_dir()),
        containers.clone(),
        crate::scheduler::SchedulerConfig {
            parallelism: config.parallelism,
            logs_dir: home.logs_dir(),
            dags_folder: config.dags_folder.clone(),
            log_max_bytes: config.log_max_bytes,
            in_image,
        },
    );
    // Containers an earlier server of this home left running go (their tries are failed and
    // retried by the scheduler's recovery). Without an engine there is nothing to do.
    tokio::spawn({
        let containers = containers.clone();
        let eager = in_image;
        async move {
            if !eager
                && crate::executor::engine::candidates(&|k| std::env::var(k).ok())
                    .iter()
                    .all(|h| !std::path::Path::new(h.trim_start_matches("unix://")).exists())
            {
                return;
            }
            match containers.reconcile().await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(n, "removed task containers a previous server left running")
                }
                Err(e) => tracing::debug!(error = e, "no container engine to reconcile"),
            }
        }
    });
    // `PUT /parseDagFile` asks the DAG processor for a parse now.
    let (parse_tx, parse_rx) = tokio::sync::mpsc::unbounded_channel();
    let ops = crate::ops::Ops {
        store: store.clone(),
        xcom: Some(xcom.clone()),
        events: events.clone(),
        scheduler: Some(scheduler.clone()),
        home: config.home.clone(),
        parse_requests: Some(parse_tx),
    };
    let state = AppState {
        ops,
        scheduler: Some(scheduler.clone()),
        config: config.clone(),
        store: store.clone(),
        xcom: xcom.clone(),
        metrics: Arc::new(Metrics::new()),
        health: health.clone(),
        events: events.clone(),
        progress: progress.clone(),
        shutdown: shutdown_rx,
        auth: Some(auth),
        reads: Default::default(),
    };
    print_banner(&config, addr, started.elapsed(), &auth_line, &executor_line);

    // DAG parsing starts after the API serves: the first parse pays interpreter start-up.
    let processor = tokio::spawn(start_dag_processor(
        config.clone(),
        home.clone(),
        store.clone(),
        events,
        health,
        progress,
        parse_rx,
    ));

    let stop = async move {
        shutdown.await;
        let _ = shutdown_tx.send(true);
    };
    api::serve(listener, api::app(state), stop, GRACE).await?;
    processor.abort();
    scheduler_task.abort();
    // No task outlives the server: their process groups go with it.
    scheduler.kill_all();

    tracing::info!("stopping: flushing XCom and checkpointing the metadata database");
    if let Err(e) = xcom.flush() {
        tracing::error!(error = %e, "flushing XCom on shutdown failed");
    }
    if let Err(e) = store.checkpoint() {
        tracing::warn!(error = %e, "checkpointing SQLite on shutdown failed");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves the interpreter, writes the Python runtime, and runs the DAG processor fed by the
/// folder watcher. Failures are logged (the API keeps serving).
async fn start_dag_processor(
    config: Arc<Config>,
    home: Home,
    store: Store,
    events: EventBus,
    health: Arc<Heartbeats>,
    progress: Arc<crate::dag_processor::Progress>,
    requests: tokio::sync::mpsc::UnboundedReceiver<std::path::PathBuf>,
) {
    let setup = async {
        let path = std::env::var("PATH").ok();
        let py = config.python.clone();
        let interp =
            tokio::task::spawn_blocking(move || crate::python::resolve(&py, path.as_deref()))
                .await
                .context("resolving python")??;
        let runtime = crate::dag::runtime::ensure(&home.runtime_dir()).with_context(|| {
            format!(
                "writing the Python runtime under {}",
                home.runtime_dir().display()
            )
        })?;
        if !config.dags_folder.exists() {
            std::fs::create_dir_all(&config.dags_folder).with_context(|| {
                format!("creating the DAG folder {}", config.dags_folder.display())
            })?;
            tracing::info!("created the DAG folder {}", config.dags_folder.display());
        }
        let root = std::fs::canonicalize(&config.dags_folder)?;
        anyhow::Ok((interp, runtime, root))
    };
    let (interp, runtime, root) = match setup.await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!("DAG parsing is disabled: {e:#}");
            return;
        }
    };
    let pool = Arc::new(crate::dag::parser::ParserPool::new(
        crate::dag::parser::ParserConfig {
            python: interp.executable,
            runtime,
            dags_folder: root.clone(),
            timeout: Duration::from_secs(config.parse_timeout),
        },
        config.parse_workers as usize,
    ));
    let mode = if config.watcher_poll {
        crate::watch::Mode::Poll
    } else {
        crate::watch::Mode::Auto
    };
    // Without a watcher, an open channel that never sends keeps the processor on its
    // periodic rescans.
    let (_keep_open, idle) = tokio::sync::mpsc::channel(1);
    let (_watch, changes) = match crate::watch::watch(&root, mode) {
        Ok((handle, rx)) => (Some(handle), rx),
        Err(e) => {
            tracing::error!(error = %e, "cannot watch {}; saved files are picked up by the periodic rescan only", root.display());
            (None, idle)
        }
    };
    let processor = Arc::new(crate::dag_processor::DagProcessor::new(
        pool.clone(),
        store,
        events,
        health,
        root,
        config.dags_paused_at_creation,
        progress,
    ));
    processor.run(changes, requests).await;
    pool.shutdown().await;
}

/// Refuses to serve without authentication anywhere but on loopback; the error explains why.
pub fn check_auth_bind(config: &Config) -> Result<(), String> {
    if config.no_auth && !config.is_loopback() {
        return Err(format!(
            "refusing to serve {host} without authentication: --no-auth is only allowed on a loopback address (127.0.0.1 or ::1), because anyone who can reach {host} would act as admin. Either drop --no-auth (sign in as \"admin\"; its password is printed on the first start) or bind --host 127.0.0.1",
            host = config.host
        ));
    }
    Ok(())
}

/// The signing secret, the auth service, and (auth on) the first-start `admin` user; returns
/// the banner line about signing in.
fn start_auth(
    config: &Config,
    home: &Home,
    store: &Store,
) -> anyhow::Result<(Arc<crate::auth::Auth>, String)> {
    let secret = crate::auth::signing_secret(home.root(), config.secret_key.as_deref())?;
    let auth = crate::auth::Auth::new(
        store.clone(),
        &secret,
        Duration::from_secs(config.token_ttl),
    )?;
    let line = if config.no_auth {
        tracing::warn!(
            "authentication is off (--no-auth): every request to {} acts as admin",
            config.host
        );
        "  Auth      off (--no-auth): every request acts as admin".to_string()
    } else {
        crate::auth::ensure_admin(store, home.root(), config.admin_password.as_deref())?
            .banner_line()
    };
    Ok((Arc::new(auth), line))
}

/// The task containers of this server, with the settings' limits.
fn containers(config: &Config) -> crate::executor::container::Containers {
    crate::executor::container::Containers::new(
        &config.home,
        crate::executor::container::Limits::from_config(config),
    )
}

fn print_banner(
    config: &Config,
    addr: SocketAddr,
    took: Duration,
    auth_line: &str,
    executor: &str,
) {
    use std::io::Write;
    let host = match addr.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let url = format!("http://{host}:{}", addr.port());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Leoflow Lite {} ready in {} ms\n  UI        {url}/\n  API       {url}/api/v2\n  DAGs      {}\n  Home      {}\n  Executor  {}\n{auth_line}\n  Stop      Ctrl+C (or SIGTERM)",
        crate::VERSION,
        took.as_millis(),
        config.dags_folder.display(),
        config.home.display(),
        executor,
    );
    let _ = out.flush();
}

/// Installs SIGINT/SIGTERM handlers now; the future resolves on the first of them.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
    })
}
