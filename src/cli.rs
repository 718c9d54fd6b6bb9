//! The command line: clap definitions (pure parsing, no IO), then one function per command.
//!
//! `main` is the only place that turns an error into an exit code: 0 success, 1 failure
//! (message on stderr), 2 usage error (clap's own, a bad setting from any source: a
//! `ConfigError` other than an unreadable `leoflow.toml`, or `--no-auth` off loopback).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, Layer};
use crate::home::Home;

const ROOT_EXAMPLES: &str = "\
Examples:
  leoflow lite examples/dags          Run Lite on a DAG folder (UI at http://127.0.0.1:8088)
  leoflow doctor                      Check this machine can run Lite
  leoflow db check                    Show the metadata schema version
  leoflow --home /tmp/lf lite dags    Use another state directory

Settings come from flags, then LEOFLOW_* environment variables, then HOME/leoflow.toml.";

/// Leoflow Lite: run Apache Airflow 3 DAGs on a laptop from one binary.
#[derive(Debug, Parser)]
#[command(name = "leoflow", version, about, after_help = ROOT_EXAMPLES)]
pub struct Cli {
    /// State directory (database, XCom, logs, runtime) [env: LEOFLOW_HOME] [default: ~/.leoflow]
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Log format: text or json [env: LEOFLOW_LOG_FORMAT]
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Log level (error, warn, info, debug, trace) or a full filter directive [env: LEOFLOW_LOG_LEVEL, RUST_LOG]
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the whole Lite server: scheduler, executor, API and UI in one process
    #[command(after_help = "\
Examples:
  leoflow lite                        Serve ./dags on http://127.0.0.1:8088
  leoflow lite examples/dags --port 9000
  leoflow lite --print-config         Show the effective settings and where each came from
  LEOFLOW_PYTHON=.venv/bin/python leoflow lite dags

Stop with Ctrl+C or SIGTERM: in-flight requests finish, XCom is flushed, SQLite checkpointed.")]
    Lite(LiteArgs),

    /// Print the Leoflow version and the Airflow API version it speaks
    #[command(after_help = "Examples:\n  leoflow version\n  leoflow version --json")]
    Version {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },

    /// Check that this machine can run Lite (python3, home, port, Docker) and say how to fix it
    #[command(after_help = "\
Examples:
  leoflow doctor
  leoflow doctor --port 9000 --python /opt/venv/bin/python

Exits 1 when a blocker is found; each failing check prints its fix.")]
    Doctor(ServerArgs),

    /// Compile a DAG file or Leoflow project to a Pro dag.json (validated against the schema)
    #[command(after_help = "\
Examples:
  leoflow compile examples/dags/leoflow_project -o dag.json
  leoflow compile dags/etl.py --dag-id etl --image registry.local/etl:1.4 --dag-version 1.4

A feature Pro cannot run (mapping, branching, sensors, other trigger rules...) is an error
naming the task and the feature; nothing is dropped silently.")]
    Compile(CompileArgs),

    /// Promote DAGs to a control plane: compile, build the image without a daemon, push it,
    /// pin it by digest and register the dag.json
    #[command(after_help = "\
Examples:
  leoflow auth login --server https://leoflow.example.com
  leoflow deploy examples/dags/leoflow_project --server https://leoflow.example.com \\
      --registry ghcr.io/acme/dags --yes
  leoflow deploy etl_xcom --dry-run            A DAG of the DAG folder: show the plan only
  leoflow deploy --all --trigger --yes          Every DAG of the DAG folder, then run each

Settings: LEOFLOW_SERVER, LEOFLOW_REGISTRY, LEOFLOW_BASE_IMAGE, LEOFLOW_INSECURE_REGISTRIES
(or server, registry, base_image, insecure_registries in leoflow.toml). Registry credentials
come from ~/.docker/config.json (and its credential helpers) unless --registry-user is given.
The image holds the DAG's code only: never the home, .env files, keys or VCS folders.
Exit 0 when every DAG deployed, 1 when one failed, 2 when a check failed before anything
was pushed.")]
    Deploy(DeployCliArgs),

    /// Parse DAG files and report every import error and validation problem (exit 1 on any)
    #[command(after_help = "\
Examples:
  leoflow validate dags/
  leoflow validate dags/etl.py --json")]
    Validate {
        /// A DAG file, a DAG folder or a Leoflow project folder
        path: PathBuf,
        /// Print the full parse results as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        py: PyArgs,
    },

    /// Inspect the DAGs of a folder without a server
    #[command(
        subcommand,
        after_help = "\
Examples:
  leoflow dags list examples/dags
  leoflow dags show etl_xcom --dags-folder examples/dags
  leoflow dags graph etl_xcom --dags-folder examples/dags --format dot | dot -Tsvg > etl.svg"
    )]
    Dags(DagsCommand),

    /// Manage the metadata database schema
    #[command(
        subcommand,
        after_help = "\
Examples:
  leoflow db check                    Show the schema version and pending migrations
  leoflow db migrate                  Apply pending migrations
  leoflow db reset --yes              Delete all metadata, XCom and logs of this home"
    )]
    Db(DbCommand),

    /// Run single tasks without a server
    #[command(
        subcommand,
        after_help = "\
Examples:
  leoflow tasks test etl_xcom extract --dags-folder examples/dags"
    )]
    Tasks(TasksCommand),

    /// Manage who may sign in to the API and UI (roles viewer, user, admin)
    #[command(
        subcommand,
        after_help = "\
Examples:
  leoflow users list
  leoflow users create --username ann --role user      Prints a generated password
  leoflow users reset-password --username admin --password 'new secret'

Works on the home's database directly, also while a server runs."
    )]
    Users(UsersCommand),

    /// Sign in to a Leoflow control plane (Pro, or a shared Lite) for `leoflow deploy`
    #[command(
        subcommand,
        after_help = "\
Examples:
  leoflow auth login --server https://leoflow.example.com --username ann
  echo \"$PASSWORD\" | leoflow auth login --server http://127.0.0.1:8088 --username admin --password-stdin
  leoflow auth status
  leoflow auth logout --server https://leoflow.example.com

Tokens are kept per server in $XDG_CONFIG_HOME/leoflow/credentials.toml (~/.config/...),
readable by you only; LEOFLOW_TOKEN overrides them."
    )]
    Auth(AuthCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Sign in (POST /auth/token) and save the token
    #[command(
        after_help = "Examples:\n  leoflow auth login --server https://leoflow.example.com --username ann\n  echo \"$PASSWORD\" | leoflow auth login --server http://127.0.0.1:8088 --username admin --password-stdin"
    )]
    Login {
        /// The control plane's URL [env: LEOFLOW_SERVER]
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// Who signs in (asked when missing and a terminal is attached)
        #[arg(long)]
        username: Option<String>,
        /// Read the password from standard input (one line) instead of asking without echo
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget the token of a server (of every server without --server)
    #[command(
        after_help = "Examples:\n  leoflow auth logout --server https://leoflow.example.com\n  leoflow auth logout"
    )]
    Logout {
        /// The control plane's URL [env: LEOFLOW_SERVER]
        #[arg(long, value_name = "URL")]
        server: Option<String>,
    },
    /// Show each sign-in: server, user, expiry (exit 1 when expired or missing)
    #[command(
        after_help = "Examples:\n  leoflow auth status\n  leoflow auth status --server https://leoflow.example.com"
    )]
    Status {
        /// Only this control plane [env: LEOFLOW_SERVER]
        #[arg(long, value_name = "URL")]
        server: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; without --password one is generated and printed once
    #[command(
        after_help = "Examples:\n  leoflow users create --username ann --role viewer\n  leoflow users create --username ci --role user --password \"$CI_PASSWORD\""
    )]
    Create {
        /// 1 to 64 letters, digits or . _ - @
        #[arg(long)]
        username: String,
        /// viewer (read-only), user (also runs DAGs) or admin (also variables, connections, pools, users)
        #[arg(long, value_parser = ["viewer", "user", "admin"])]
        role: String,
        /// At least 8 characters [default: generated]
        #[arg(long)]
        password: Option<String>,
    },
    /// Set a user's password; without --password one is generated and printed once
    #[command(
        after_help = "Examples:\n  leoflow users reset-password --username admin\n  leoflow users reset-password --username ann --password 'correct horse'"
    )]
    ResetPassword {
        #[arg(long)]
        username: String,
        /// At least 8 characters [default: generated]
        #[arg(long)]
        password: Option<String>,
    },
    /// List the users with their roles and last sign-in
    #[command(after_help = "Example:\n  leoflow users list")]
    List,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations (the server also does this on start)
    #[command(after_help = "Example:\n  leoflow --home ~/.leoflow db migrate")]
    Migrate,
    /// Print the schema version and pending migrations; exit 1 if the file is from a newer binary
    #[command(after_help = "Example:\n  leoflow db check")]
    Check,
    /// Delete the metadata database, XCom and logs of this home (asks first unless --yes)
    #[command(after_help = "Examples:\n  leoflow db reset\n  leoflow db reset --yes")]
    Reset {
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Run one task of a DAG in-process, ignoring its upstreams (like `airflow tasks test`)
    #[command(
        after_help = "Examples:\n  leoflow tasks test etl_xcom extract --dags-folder examples/dags\n  leoflow tasks test hello_taskflow greet --conf '{\"name\": \"Ada\"}'\n\nUses a throw-away state directory, streams the task's log; exits 1 when the task fails.\nUpstream XCom is not available (as in Airflow, nothing upstream has run)."
    )]
    Test {
        dag_id: String,
        task_id: String,
        /// DAG folder [env: LEOFLOW_DAGS_FOLDER] [default: ./dags]
        #[arg(long, value_name = "DIR")]
        dags_folder: Option<PathBuf>,
        /// Run configuration (JSON object), checked against the DAG's params
        #[arg(long, value_name = "JSON")]
        conf: Option<String>,
        #[command(flatten)]
        py: PyArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum DagsCommand {
    /// List the DAGs of a folder (import errors go to stderr)
    #[command(
        after_help = "Examples:\n  leoflow dags list\n  leoflow dags list examples/dags --json"
    )]
    List {
        /// DAG folder [env: LEOFLOW_DAGS_FOLDER] [default: ./dags]
        dags_dir: Option<PathBuf>,
        /// Print JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        py: PyArgs,
    },
    /// Show one DAG: attributes and tasks
    #[command(
        after_help = "Examples:\n  leoflow dags show etl_xcom --dags-folder examples/dags\n  leoflow dags show etl_xcom --json"
    )]
    Show {
        dag_id: String,
        /// DAG folder [env: LEOFLOW_DAGS_FOLDER] [default: ./dags]
        #[arg(long, value_name = "DIR")]
        dags_folder: Option<PathBuf>,
        /// Print the full DAG model as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        py: PyArgs,
    },
    /// Run one DAG run in-process, without a server, streaming task logs (like `airflow dags test`)
    #[command(
        after_help = "Examples:\n  leoflow dags test templated_bash --dags-folder examples/dags\n  leoflow dags test etl --conf '{\"day\": \"2025-01-01\"}'\n\nUses a throw-away state directory; exits 1 when the run fails."
    )]
    Test {
        dag_id: String,
        /// DAG folder [env: LEOFLOW_DAGS_FOLDER] [default: ./dags]
        #[arg(long, value_name = "DIR")]
        dags_folder: Option<PathBuf>,
        /// Run configuration (JSON object), checked against the DAG's params
        #[arg(long, value_name = "JSON")]
        conf: Option<String>,
        #[command(flatten)]
        py: PyArgs,
    },
    /// Queue a run of a DAG in the home's database; a running server starts it at once
    #[command(
        after_help = "Examples:\n  leoflow dags trigger etl_xcom\n  leoflow dags trigger hello_taskflow --conf '{\"name\": \"Ada\"}'\n  leoflow dags trigger etl_xcom --run-id nightly_fix --logical-date 2025-01-01T00:00:00Z\n\nLike `airflow dags trigger`: the DAG must have been parsed by `leoflow lite` on this home;\nconf is checked against the DAG's params. Prints the run id."
    )]
    Trigger {
        dag_id: String,
        /// Run configuration (JSON object), checked against the DAG's params
        #[arg(long, value_name = "JSON")]
        conf: Option<String>,
        /// Run id [default: manual__<logical date or now>]
        #[arg(long, value_name = "ID")]
        run_id: Option<String>,
        /// Logical date (RFC 3339) [default: none, as Airflow 3]
        #[arg(long, value_name = "DATE")]
        logical_date: Option<String>,
    },
    /// Print a DAG's task graph as a tree or as Graphviz dot
    #[command(
        after_help = "Examples:\n  leoflow dags graph etl_xcom --dags-folder examples/dags\n  leoflow dags graph etl_xcom --format dot"
    )]
    Graph {
        dag_id: String,
        /// DAG folder [env: LEOFLOW_DAGS_FOLDER] [default: ./dags]
        #[arg(long, value_name = "DIR")]
        dags_folder: Option<PathBuf>,
        /// tree or dot
        #[arg(long, default_value = "tree", value_parser = ["tree", "dot"])]
        format: String,
        #[command(flatten)]
        py: PyArgs,
    },
}

/// How DAG files are parsed by CLI commands.
#[derive(Debug, Args, Default, Clone)]
pub struct PyArgs {
    /// Python interpreter for DAG files [env: LEOFLOW_PYTHON] [default: python3]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Seconds a DAG file may take to import [env: LEOFLOW_PARSE_TIMEOUT] [default: 30]
    #[arg(long, value_name = "SECONDS")]
    pub parse_timeout: Option<u64>,
}

#[derive(Debug, Args, Clone)]
pub struct CompileArgs {
    /// A DAG file or a Leoflow project folder (with leoflow.yaml)
    pub path: PathBuf,
    /// Write dag.json here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Container image reference [default: <dag_id>:<dag_version>]
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// Version label [default: sha-<content hash>]
    #[arg(long, value_name = "V")]
    pub dag_version: Option<String>,
    /// Which DAG, when the file defines several
    #[arg(long)]
    pub dag_id: Option<String>,
    #[command(flatten)]
    pub py: PyArgs,
}

#[derive(Debug, Args, Clone)]
pub struct DeployCliArgs {
    /// A DAG file, a Leoflow project folder, a folder of DAGs, or a DAG id of the DAG folder
    #[arg(value_name = "PATH|DAG_ID", required_unless_present = "all")]
    pub what: Option<String>,
    /// Every DAG of the DAG folder
    #[arg(long, conflicts_with = "what")]
    pub all: bool,
    /// DAG folder, for DAG ids and --all [env: LEOFLOW_DAGS_FOLDER] [default: ./dags]
    #[arg(long, value_name = "DIR")]
    pub dags_folder: Option<PathBuf>,
    /// The control plane's URL [env: LEOFLOW_SERVER]
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Where images go: HOST[:PORT]/REPO [env: LEOFLOW_REGISTRY]
    #[arg(long, value_name = "HOST[:PORT]/REPO")]
    pub registry: Option<String>,
    /// Base image [default: the project's base_image, LEOFLOW_BASE_IMAGE, or leoflow/python-runtime]
    #[arg(long, value_name = "REF")]
    pub base_image: Option<String>,
    /// Image tag [default: the dag.json's dag_version]
    #[arg(long, value_name = "T")]
    pub tag: Option<String>,
    /// Reach the registry over plain HTTP
    #[arg(long)]
    pub insecure_registry: bool,
    /// Registry user (with --registry-password-stdin) instead of ~/.docker/config.json
    #[arg(long, value_name = "USER")]
    pub registry_user: Option<String>,
    /// Read the registry password from standard input
    #[arg(long)]
    pub registry_password_stdin: bool,
    /// Image platform
    #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH")]
    pub platform: String,
    /// Unpause each deployed DAG and queue a run
    #[arg(long)]
    pub trigger: bool,
    /// Show the plan (what would be built, which blobs the registry lacks, which DAGs are
    /// new, changed or unchanged on the server) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub py: PyArgs,
}

/// Settings shared by the server and `doctor`.
#[derive(Debug, Args, Default, Clone)]
pub struct ServerArgs {
    /// DAG folder to serve [env: LEOFLOW_DAGS_FOLDER] [default: ./dags]
    #[arg(value_name = "DAGS_DIR")]
    pub dags_dir: Option<PathBuf>,

    /// Address to bind [env: LEOFLOW_HOST] [default: 127.0.0.1]
    #[arg(long)]
    pub host: Option<String>,

    /// Port to bind; 0 picks a free one [env: LEOFLOW_PORT] [default: 8088]
    #[arg(long)]
    pub port: Option<u16>,

    /// Python interpreter for DAG files and tasks [env: LEOFLOW_PYTHON] [default: python3]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// Task executor: subprocess, or docker (tasks with an image run in it) [env: LEOFLOW_EXECUTOR] [default: subprocess]
    #[arg(long)]
    pub executor: Option<String>,
}

#[derive(Debug, Args, Default, Clone)]
pub struct LiteArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// Maximum task instances running at once [env: LEOFLOW_PARALLELISM] [default: 32]
    #[arg(long)]
    pub parallelism: Option<u32>,

    /// Serve without authentication (allowed only on a loopback address) [env: LEOFLOW_NO_AUTH]
    #[arg(long)]
    pub no_auth: bool,

    /// Print the effective configuration (secrets masked) and exit
    #[arg(long)]
    pub print_config: bool,
}

impl Cli {
    fn flag_layer(&self, server: Option<&ServerArgs>, lite: Option<&LiteArgs>) -> Layer {
        let s = server.cloned().unwrap_or_default();
        Layer {
            host: s.host,
            port: s.port,
            dags_folder: s.dags_dir,
            python: s.python,
            executor: s.executor,
            log_format: self.log_format.clone(),
            log_level: self.log_level.clone(),
            parallelism: lite.and_then(|l| l.parallelism),
            no_auth: lite.and_then(|l| l.no_auth.then_some(true)),
            ..Layer::default()
        }
    }

    /// Configuration for commands that parse DAG files.
    fn py_config(&self, py: &PyArgs, dags_folder: Option<PathBuf>) -> anyhow::Result<Config> {
        let server = ServerArgs {
            dags_dir: dags_folder,
            python: py.python.clone(),
            ..ServerArgs::default()
        };
        let mut c = self.config(Some(&server), None)?;
        if let Some(t) = py.parse_timeout {
            c.parse_timeout = t;
        }
        crate::logging::init(c.log_format, &c.log_level, self.log_level.is_some());
        Ok(c)
    }

    /// Stage two: flags + environment + `leoflow.toml` into a `Config`.
    fn config(
        &self,
        server: Option<&ServerArgs>,
        lite: Option<&LiteArgs>,
    ) -> anyhow::Result<Config> {
        let env = |k: &str| std::env::var(k).ok();
        let home = match &self.home {
            Some(h) => h.clone(),
            None => config::default_home(&env)?,
        };
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        Ok(Config::resolve(
            home,
            &self.flag_layer(server, lite),
            &Layer::from_env(&env)?,
            &cwd,
        )?)
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<config::ConfigError>() {
                Some(config::ConfigError::Read { .. }) | None => ExitCode::FAILURE,
                Some(_) => ExitCode::from(2),
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Version { json } => {
            if *json {
                println!(
                    "{}",
                    serde_json::json!({"version": crate::VERSION, "airflow_api_version": crate::AIRFLOW_COMPAT_VERSION})
                );
            } else {
                println!(
                    "leoflow {} (Airflow {} API and DAG authoring)",
                    crate::VERSION,
                    crate::AIRFLOW_COMPAT_VERSION
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lite(args) => {
            let config = cli.config(Some(&args.server), Some(args))?;
            if args.print_config {
                print!("{}", config.render());
                return Ok(ExitCode::SUCCESS);
            }
            if let Err(why) = crate::lite::check_auth_bind(&config) {
                eprintln!("error: {why}");
                return Ok(ExitCode::from(2));
            }
            let forced = cli.log_level.is_some();
            crate::logging::init(config.log_format, &config.log_level, forced);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .max_blocking_threads(32)
                .thread_name("leoflow")
                .build()
                .context("cannot start the async runtime")?;
            rt.block_on(crate::lite::run(config))?;
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor(args) => {
            let config = cli.config(Some(args), None)?;
            let path = std::env::var("PATH").ok();
            let checks = crate::doctor::run(&config, path.as_deref());
            let (text, ok) = crate::doctor::render(&checks);
            print!("{text}");
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Compile(args) => {
            let config = cli.py_config(&args.py, None)?;
            let opts = crate::authoring::CompileOptions {
                path: args.path.clone(),
                output: args.output.clone(),
                image: args.image.clone(),
                dag_version: args.dag_version.clone(),
                dag_id: args.dag_id.clone(),
            };
            crate::authoring::compile(&config, &opts)
        }
        Command::Deploy(a) => {
            let config = cli.py_config(&a.py, a.dags_folder.clone())?;
            let what = match (&a.what, a.all) {
                (_, true) => crate::deploy::run::What::All,
                (Some(w), false) if std::path::Path::new(w).exists() => {
                    crate::deploy::run::What::Path(PathBuf::from(w))
                }
                (Some(w), false) if w.contains('/') || w.ends_with(".py") => {
                    bail!("{w} does not exist")
                }
                (Some(w), false) => crate::deploy::run::What::DagId(w.clone()),
                (None, false) => bail!("give a PATH or DAG_ID, or --all"),
            };
            crate::deploy::run::deploy(
                &config,
                &crate::deploy::run::DeployArgs {
                    what,
                    server: a.server.clone(),
                    registry: a.registry.clone(),
                    base_image: a.base_image.clone(),
                    tag: a.tag.clone(),
                    insecure_registry: a.insecure_registry,
                    registry_user: a.registry_user.clone(),
                    registry_password_stdin: a.registry_password_stdin,
                    trigger: a.trigger,
                    dry_run: a.dry_run,
                    yes: a.yes,
                    platform: a.platform.clone(),
                },
            )
        }
        Command::Validate { path, json, py } => {
            let config = cli.py_config(py, None)?;
            crate::authoring::validate(&config, path, *json)
        }
        Command::Dags(cmd) => match cmd {
            DagsCommand::List { dags_dir, json, py } => {
                let config = cli.py_config(py, dags_dir.clone())?;
                crate::authoring::list(&config, *json)
            }
            DagsCommand::Show {
                dag_id,
                dags_folder,
                json,
                py,
            } => {
                let config = cli.py_config(py, dags_folder.clone())?;
                crate::authoring::show(&config, dag_id, *json)
            }
            DagsCommand::Test {
                dag_id,
                dags_folder,
                conf,
                py,
            } => {
                let config = cli.py_config(py, dags_folder.clone())?;
                crate::dagtest::run(&config, dag_id, conf.as_deref())
            }
            DagsCommand::Graph {
                dag_id,
                dags_folder,
                format,
                py,
            } => {
                let config = cli.py_config(py, dags_folder.clone())?;
                crate::authoring::graph(&config, dag_id, format)
            }
            DagsCommand::Trigger {
                dag_id,
                conf,
                run_id,
                logical_date,
            } => {
                let config = cli.config(None, None)?;
                crate::dagtest::trigger(
                    &config,
                    dag_id,
                    conf.as_deref(),
                    run_id.clone(),
                    logical_date.as_deref(),
                )
            }
        },
        Command::Tasks(TasksCommand::Test {
            dag_id,
            task_id,
            dags_folder,
            conf,
            py,
        }) => {
            let config = cli.py_config(py, dags_folder.clone())?;
            crate::dagtest::run_task(&config, dag_id, task_id, conf.as_deref())
        }
        Command::Db(cmd) => {
            let config = cli.config(None, None)?;
            db(cmd, &config)
        }
        Command::Users(cmd) => {
            let config = cli.config(None, None)?;
            users(cmd, &config)
        }
        Command::Auth(cmd) => {
            let config = cli.config(None, None)?;
            use crate::deploy::login;
            match cmd {
                AuthCommand::Login {
                    server,
                    username,
                    password_stdin,
                } => login::login(
                    &config,
                    server.as_deref(),
                    username.as_deref(),
                    *password_stdin,
                ),
                AuthCommand::Logout { server } => login::logout(&config, server.as_deref()),
                AuthCommand::Status { server } => login::status(&config, server.as_deref()),
            }
        }
    }
}

fn users(cmd: &UsersCommand, config: &Config) -> anyhow::Result<ExitCode> {
    use crate::auth::manage;
    let home = Home::new(&config.home);
    home.create()?;
    let store = crate::store::Store::open(&home.db_path())?;
    let shown_once = |pw: Option<String>| {
        if let Some(pw) = pw {
            println!("password: {pw}");
            println!("(shown once; change it with `leoflow users reset-password`)");
        }
    };
    match cmd {
        UsersCommand::Create {
            username,
            role,
            password,
        } => {
            let role =
                crate::auth::Role::parse(role).context("--role takes viewer, user or admin")?;
            let generated = manage::create(&store, username, role, password.as_deref())?;
            println!("created user {username:?} with role {}", role.as_str());
            shown_once(generated);
        }
        UsersCommand::ResetPassword { username, password } => {
            let generated =
                manage::reset_password(&store, home.root(), username, password.as_deref())?;
            println!(
                "new password set for {username:?}; its current tokens stay valid until they expire"
            );
            shown_once(generated);
        }
        UsersCommand::List => print!("{}", manage::table(&manage::list(&store)?)),
    }
    Ok(ExitCode::SUCCESS)
}

fn db(cmd: &DbCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let home = Home::new(&config.home);
    let path = home.db_path();
    match cmd {
        DbCommand::Check => {
            let s = crate::store::migrate_status(&path)?;
            let latest = crate::store::latest_version();
            println!("database:        {}", path.display());
            println!("schema version:  {}", s.current);
            println!("binary knows:    {latest}");
            if s.current > latest {
                println!(
                    "status:          written by a newer Leoflow; this binary will refuse it (upgrade leoflow)"
                );
                return Ok(ExitCode::FAILURE);
            }
            if s.pending.is_empty() {
                println!("pending:         none");
            } else {
                println!("pending:");
                for m in &s.pending {
                    println!("  {:04}  {}", m.version, m.name);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Migrate => {
            home.create()?;
            let before = crate::store::migrate_status(&path)?;
            crate::store::Store::open(&path)?;
            if before.pending.is_empty() {
                println!(
                    "{}: already at schema version {}",
                    path.display(),
                    before.current
                );
            } else {
                for m in &before.pending {
                    println!("applied {:04}  {}", m.version, m.name);
                }
                println!(
                    "{}: now at schema version {}",
                    path.display(),
                    crate::store::latest_version()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Reset { yes } => {
            if let Some(pid) = home.is_locked() {
                bail!(
                    "a Leoflow server (PID {pid}) is running on {}; stop it before resetting",
                    config.home.display()
                );
            }
            if !yes {
                eprint!(
                    "This deletes every DAG run, task instance, variable, connection, XCom and log in {}.\nType 'yes' to continue: ",
                    config.home.display()
                );
                let _ = std::io::stderr().flush();
                let mut answer = String::new();
                std::io::stdin().lock().read_line(&mut answer)?;
                if answer.trim() != "yes" {
                    eprintln!("aborted; nothing was deleted");
                    return Ok(ExitCode::FAILURE);
                }
            }
            let _lock = if home.root().exists() {
                Some(home.lock()?)
            } else {
                None
            };
            for suffix in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{}{suffix}", path.display()));
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot delete {}", p.display()));
                    }
                }
            }
            for dir in [home.xcom_dir(), home.logs_dir()] {
                match std::fs::remove_dir_all(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot delete {}", dir.display()));
                    }
                }
            }
            home.create()?;
            crate::store::Store::open(&path)?;
            println!(
                "reset {}: empty database at schema version {}",
                config.home.display(),
                crate::store::latest_version()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples_in_its_help() {
        let mut root = Cli::command();
        root.build();
        fn walk(cmd: &clap::Command, path: &str) {
            let help = cmd
                .get_after_help()
                .map(|s| s.to_string())
                .unwrap_or_default();
            assert!(help.contains("Example"), "`{path}` --help has no examples");
            assert!(cmd.get_about().is_some(), "`{path}` has no description");
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&root, "leoflow");
    }
}
