//! Leoflow Lite: a single-binary workflow orchestrator that speaks Apache Airflow 3.2.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of these modules, how a saved DAG
//! file becomes a finished task, and the invariants each module keeps.

pub mod api;
pub mod audit;
pub mod auth;
pub mod authoring;
pub mod cli;
pub mod config;
pub mod dag;
pub mod dag_processor;
pub mod dagtest;
pub mod deploy;
pub mod doctor;
pub mod events;
pub mod executor;
pub mod health;
pub mod home;
pub mod keys;
pub mod lite;
pub mod logging;
pub mod metrics;
pub mod ops;
pub mod python;
pub mod scheduler;
pub mod secrets;
pub mod store;
pub mod ui;
pub mod watch;
pub mod xcom;

/// The Leoflow version compiled into this binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Apache Airflow version whose REST API and DAG authoring surface Lite implements.
pub const AIRFLOW_COMPAT_VERSION: &str = "3.2.2";
