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
    if !config.is_loopback() && config.no_auth {
        bail!(
            "refusing to serve {} without authentication: --no-auth is only allowed on a loopback address (127.0.0.1 or ::1). Drop --no-auth, or bind --host 127.0.0.1",
            config.host
        );
    }
    let home = Home::new(&config.home);
    home.create()?;
    let _lock = home.lock()?;
    let store = Store::open(&home.db_path())?;
    let xcom = XcomStore::open(&home.xcom_dir(), config.xcom_max_bytes)?;

    let addr = SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen on {addr}; is another program using port {}? Pick another with --port",
            config.port
        )
    })?;
    let addr = listener.local_addr()?;

    let config = Arc::new(config);
    let state = AppState {
        config: config.clone(),
        store: store.clone(),
        xcom: xcom.clone(),
        metrics: Arc::new(Metrics::new()),
        health: Arc::new(Heartbeats::default()),
        events: EventBus::default(),
    };
    print_banner(&config, addr, started.elapsed());

    api::serve(listener, api::app(state), shutdown, GRACE).await?;

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

fn print_banner(config: &Config, addr: SocketAddr, took: Duration) {
    use std::io::Write;
    let host = match addr.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let url = format!("http://{host}:{}", addr.port());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Leoflow Lite {} ready in {} ms\n  UI        {url}/\n  API       {url}/api/v2\n  DAGs      {}\n  Home      {}\n  Executor  {}\n  Stop      Ctrl+C (or SIGTERM)",
        crate::VERSION,
        took.as_millis(),
        config.dags_folder.display(),
        config.home.display(),
        config.executor.as_str(),
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
