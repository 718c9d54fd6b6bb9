//! Effective configuration: command-line flags over `LEOFLOW_*` environment variables over an
//! optional `leoflow.toml` in the home, over built-in defaults.
//!
//! Stage one is clap's parsing in `cli` (no IO); stage two is [`Config::resolve`], which reads
//! the environment and the TOML file once and records where every value came from, so
//! `leoflow lite --print-config` can say so. The resolved `Config` is built once in the CLI and
//! handed down explicitly; nothing reads the environment for settings after that.
//!
//! **Invariant:** this module never creates files or opens sockets; `home` owns the state dir.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Settings that may come from a flag, the environment or `leoflow.toml`.
///
/// Every field is optional: `None` means "not given at this layer".
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub dags_folder: Option<PathBuf>,
    pub python: Option<PathBuf>,
    pub executor: Option<String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub parallelism: Option<u32>,
    pub parse_timeout: Option<u64>,
    pub parse_workers: Option<u32>,
    pub xcom_max_bytes: Option<u64>,
    pub log_max_bytes: Option<u64>,
    pub allowed_hosts: Option<Vec<String>>,
    pub secret_key: Option<String>,
    pub no_auth: Option<bool>,
    /// Lifetime of API tokens in seconds (Airflow's `jwt_expiration_time`).
    pub token_ttl: Option<u64>,
    /// The `admin` user's password; environment only (`LEOFLOW_ADMIN_PASSWORD`), never a file.
    #[serde(skip)]
    pub admin_password: Option<String>,
    pub dags_paused_at_creation: Option<bool>,
    /// `auto` (OS notifications, polling if they fail) or `poll`.
    pub watcher: Option<String>,
    /// Task containers' memory limit (`512m`, `2g`, bytes).
    pub container_memory: Option<String>,
    /// Task containers' CPU limit.
    pub container_cpus: Option<f64>,
    /// Task containers' process limit.
    pub container_pids: Option<i64>,
    /// Task containers' network unless a task asks: `none` or `bridge`.
    pub container_network: Option<String>,
    /// `leoflow deploy`: the control plane's URL.
    pub server: Option<String>,
    /// `leoflow deploy`: where images go, `host[:port]/repository-prefix`.
    pub registry: Option<String>,
    /// `leoflow deploy`: the base image of DAG images without a `base_image` of their own.
    pub base_image: Option<String>,
    /// `leoflow deploy`: registries reached over plain HTTP (`host[:port]`).
    pub insecure_registries: Option<Vec<String>>,
}

/// Where a setting's effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::File => "leoflow.toml",
            Source::Default => "default",
        })
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which backend runs task instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorKind {
    /// Each task in its own process group on this machine (the default).
    Subprocess,
    /// Tasks whose DAG or task names an image run in a hardened local container through the
    /// Docker engine API; the others as subprocesses.
    Docker,
}

impl ExecutorKind {
    /// The executors this build runs tasks with; any other is refused at start-up.
    pub const AVAILABLE: &'static [ExecutorKind] =
        &[ExecutorKind::Subprocess, ExecutorKind::Docker];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Subprocess => "subprocess",
            ExecutorKind::Docker => "docker",
        }
    }

    /// The executor a setting names (`local` and `container` are aliases).
    fn parse(name: &str) -> Option<ExecutorKind> {
        match name {
            "subprocess" | "local" => Some(ExecutorKind::Subprocess),
            "docker" | "container" => Some(ExecutorKind::Docker),
            _ => None,
        }
    }

    /// What the `executor` setting accepts in this build, for error messages.
    fn accepted() -> String {
        let names: Vec<&str> = Self::AVAILABLE.iter().map(|k| k.as_str()).collect();
        format!("accepted: {}", names.join(", "))
    }
}

/// The fully resolved configuration of one `leoflow` process.
#[derive(Debug, Clone)]
pub struct Config {
    pub home: PathBuf,
    pub host: IpAddr,
    pub port: u16,
    pub dags_folder: PathBuf,
    pub python: PathBuf,
    pub executor: ExecutorKind,
    pub log_format: LogFormat,
    pub log_level: String,
    pub parallelism: u32,
    pub parse_timeout: u64,
    pub parse_workers: u32,
    pub xcom_max_bytes: u64,
    /// Size cap of one task try's log file (0: none).
    pub log_max_bytes: u64,
    pub allowed_hosts: Vec<String>,
    pub secret_key: Option<String>,
    pub no_auth: bool,
    /// Lifetime of API tokens in seconds.
    pub token_ttl: u64,
    /// Sets (or resets) the `admin` user's password at start-up.
    pub admin_password: Option<String>,
    pub dags_paused_at_creation: bool,
    /// Poll the DAG folder instead of using OS notifications.
    pub watcher_poll: bool,
    /// Task containers' defaults: memory (bytes), CPUs, processes, network.
    pub container_memory: i64,
    pub container_cpus: f64,
    pub container_pids: i64,
    pub container_network: String,
    /// `leoflow deploy`'s defaults: control plane, registry, base image, plain-HTTP
    /// registries.
    pub server: Option<String>,
    pub registry: Option<String>,
    pub base_image: Option<String>,
    pub insecure_registries: Vec<String>,
    /// Where each setting came from, by setting name, for `--print-config`.
    pub sources: BTreeMap<&'static str, Source>,
}

/// A configuration error: names the setting, the value and what would be accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid {name} {value:?} (from {origin}): {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        origin: Source,
        expected: String,
    },
    /// A value this build knows but cannot honour yet (`executor = "docker"`).
    #[error("{name} {value:?} (from {origin}) is not available in this build yet: {accepted}")]
    Unavailable {
        name: &'static str,
        value: String,
        origin: Source,
        accepted: String,
    },
    #[error("cannot read {path}: {err}")]
    Read { path: PathBuf, err: std::io::Error },
    #[error("{path}: {err}")]
    Toml { path: PathBuf, err: String },
    #[error("cannot find the home directory: set LEOFLOW_HOME or pass --home")]
    NoHome,
}

/// A memory size as docker takes one: bytes, or a number with `k`, `m`, `g` (or `kb`, `mb`,
/// `gb`, any case).
pub fn parse_bytes(v: &str) -> Option<i64> {
    let v = v.trim().to_ascii_lowercase();
    let v = v.strip_suffix('b').unwrap_or(&v);
    let (num, unit) = match v.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&v[..i], &v[i..]),
        None => (v, ""),
    };
    let n: f64 = num.trim().parse().ok()?;
    let mult = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    (n >= 0.0 && n.is_finite()).then_some((n * mult) as i64)
}

/// The default home: `$LEOFLOW_HOME`, else `~/.leoflow`.
pub fn default_home(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, ConfigError> {
    if let Some(h) = env("LEOFLOW_HOME").filter(|s| !s.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    env("HOME")
        .filter(|s| !s.is_empty())
        .map(|h| PathBuf::from(h).join(".leoflow"))
        .ok_or(ConfigError::NoHome)
}

impl Layer {
    /// Reads the `LEOFLOW_*` variables through `env` (so tests can pass a map).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        let parse_bool = |name: &'static str, key: &str| -> Result<Option<bool>, ConfigError> {
            match get(key) {
                None => Ok(None),
                Some(v) => match v.to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => Ok(Some(true)),
                    "0" | "false" | "no" | "off" => Ok(Some(false)),
                    _ => Err(ConfigError::Invalid {
                        name,
                        value: v,
                        origin: Source::Env,
                        expected: format!("{key} takes true or false"),
                    }),
                },
            }
        };
        fn num<T: std::str::FromStr>(
            name: &'static str,
            key: &str,
            v: Option<String>,
        ) -> Result<Option<T>, ConfigError> {
            v.map(|v| {
                v.trim().parse::<T>().map_err(|_| ConfigError::Invalid {
                    name,
                    value: v.clone(),
                    origin: Source::Env,
                    expected: format!("{key} takes a whole number"),
                })
            })
            .transpose()
        }
        Ok(Layer {
            host: get("LEOFLOW_HOST"),
            port: num("port", "LEOFLOW_PORT", get("LEOFLOW_PORT"))?,
            dags_folder: get("LEOFLOW_DAGS_FOLDER").map(PathBuf::from),
            python: get("LEOFLOW_PYTHON").map(PathBuf::from),
            executor: get("LEOFLOW_EXECUTOR"),
            log_format: get("LEOFLOW_LOG_FORMAT"),
            log_level: get("LEOFLOW_LOG_LEVEL"),
            parallelism: num(
                "parallelism",
                "LEOFLOW_PARALLELISM",
                get("LEOFLOW_PARALLELISM"),
            )?,
            parse_timeout: num(
                "parse_timeout",
                "LEOFLOW_PARSE_TIMEOUT",
                get("LEOFLOW_PARSE_TIMEOUT"),
            )?,
            parse_workers: num(
                "parse_workers",
                "LEOFLOW_PARSE_WORKERS",
                get("LEOFLOW_PARSE_WORKERS"),
            )?,
            xcom_max_bytes: num(
                "xcom_max_bytes",
                "LEOFLOW_XCOM_MAX_BYTES",
                get("LEOFLOW_XCOM_MAX_BYTES"),
            )?,
            log_max_bytes: num(
                "log_max_bytes",
                "LEOFLOW_LOG_MAX_BYTES",
                get("LEOFLOW_LOG_MAX_BYTES"),
            )?,
            allowed_hosts: get("LEOFLOW_ALLOWED_HOSTS").map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            secret_key: get("LEOFLOW_SECRET_KEY"),
            no_auth: parse_bool("no_auth", "LEOFLOW_NO_AUTH")?,
            token_ttl: num("token_ttl", "LEOFLOW_TOKEN_TTL", get("LEOFLOW_TOKEN_TTL"))?,
            admin_password: get("LEOFLOW_ADMIN_PASSWORD"),
            dags_paused_at_creation: parse_bool(
                "dags_paused_at_creation",
                "LEOFLOW_DAGS_PAUSED_AT_CREATION",
            )?,
            watcher: get("LEOFLOW_WATCHER"),
            container_memory: get("LEOFLOW_CONTAINER_MEMORY"),
            container_cpus: get("LEOFLOW_CONTAINER_CPUS")
                .map(|v| {
                    v.trim().parse::<f64>().map_err(|_| ConfigError::Invalid {
                        name: "container_cpus",
                        value: v.clone(),
                        origin: Source::Env,
                        expected: "LEOFLOW_CONTAINER_CPUS takes a number of CPUs, e.g. 1.5".into(),
                    })
                })
                .transpose()?,
            container_pids: num(
                "container_pids",
                "LEOFLOW_CONTAINER_PIDS",
                get("LEOFLOW_CONTAINER_PIDS"),
            )?,
            container_network: get("LEOFLOW_CONTAINER_NETWORK"),
            server: get("LEOFLOW_SERVER"),
            registry: get("LEOFLOW_REGISTRY"),
            base_image: get("LEOFLOW_BASE_IMAGE"),
            insecure_registries: get("LEOFLOW_INSECURE_REGISTRIES").map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
        })
    }

    /// Reads `leoflow.toml`; a missing file is an empty layer, an unknown key an error.
    pub fn from_file(path: &Path) -> Result<Layer, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Layer::default()),
            Err(err) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    err,
                });
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::Toml {
            path: path.to_path_buf(),
            err: e.to_string().trim_end().to_string(),
        })
    }
}

/// Picks the first layer that has a value and records its source.
fn pick<T: Clone>(
    sources: &mut BTreeMap<&'static str, Source>,
    name: &'static str,
    layers: [(&Option<T>, Source); 3],
    default: T,
) -> (T, Source) {
    for (v, src) in layers {
        if let Some(v) = v {
            sources.insert(name, src);
            return (v.clone(), src);
        }
    }
    sources.insert(name, Source::Default);
    (default, Source::Default)
}

impl Config {
    /// Merges flags, environment and `home/leoflow.toml` into the effective configuration.
    ///
    /// `cwd` makes relative paths absolute. Reads the TOML file but creates nothing.
    pub fn resolve(
        home: PathBuf,
        flags: &Layer,
        env: &Layer,
        cwd: &Path,
    ) -> Result<Config, ConfigError> {
        let home = absolute(cwd, &home);
        let file = Layer::from_file(&home.join("leoflow.toml"))?;
        let mut s = BTreeMap::new();
        macro_rules! layer {
            ($field:ident, $default:expr) => {
                pick(
                    &mut s,
                    stringify!($field),
                    [
                        (&flags.$field, Source::Flag),
                        (&env.$field, Source::Env),
                        (&file.$field, Source::File),
                    ],
                    $default,
                )
            };
        }
        let (host, host_src) = layer!(host, "127.0.0.1".to_string());
        let host: IpAddr = match host.as_str() {
            "localhost" => IpAddr::from([127, 0, 0, 1]),
            h => h
                .trim_matches(|c| c == '[' || c == ']')
                .parse()
                .map_err(|_| ConfigError::Invalid {
                    name: "host",
                    value: host.clone(),
                    origin: host_src,
                    expected: "an IP address to bind, e.g. 127.0.0.1, ::1 or 0.0.0.0".into(),
                })?,
        };
        let (port, _) = layer!(port, 8088);
        let (dags_folder, _) = layer!(dags_folder, PathBuf::from("dags"));
        let (python, _) = layer!(python, PathBuf::from("python3"));
        let (executor, ex_src) = layer!(executor, "subprocess".to_string());
        let executor = match ExecutorKind::parse(&executor) {
            Some(k) if ExecutorKind::AVAILABLE.contains(&k) => k,
            Some(_) => {
                return Err(ConfigError::Unavailable {
                    name: "executor",
                    value: executor,
                    origin: ex_src,
                    accepted: ExecutorKind::accepted(),
                });
            }
            None => {
                return Err(ConfigError::Invalid {
                    name: "executor",
                    value: executor,
                    origin: ex_src,
                    expected: ExecutorKind::accepted(),
                });
            }
        };
        let (log_format, lf_src) = layer!(log_format, "text".to_string());
        let log_format = match log_format.as_str() {
            "text" | "pretty" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    name: "log_format",
                    value: other.into(),
                    origin: lf_src,
                    expected: "text or json".into(),
                });
            }
        };
        let (log_level, _) = layer!(log_level, "info".to_string());
        let (parallelism, p_src) = layer!(parallelism, 32);
        if parallelism == 0 {
            return Err(ConfigError::Invalid {
                name: "parallelism",
                value: "0".into(),
                origin: p_src,
                expected: "a number of task slots of at least 1".into(),
            });
        }
        let (parse_timeout, _) = layer!(parse_timeout, 30);
        let (parse_workers, _) = layer!(parse_workers, 2);
        let (xcom_max_bytes, _) = layer!(xcom_max_bytes, 1024 * 1024);
        let (log_max_bytes, _) = layer!(log_max_bytes, 64 * 1024 * 1024);
        let (allowed_hosts, _) = layer!(allowed_hosts, Vec::new());
        let secret_key = flags
            .secret_key
            .clone()
            .or_else(|| env.secret_key.clone())
            .or_else(|| file.secret_key.clone());
        s.insert(
            "secret_key",
            if flags.secret_key.is_some() {
                Source::Flag
            } else if env.secret_key.is_some() {
                Source::Env
            } else if file.secret_key.is_some() {
                Source::File
            } else {
                Source::Default
            },
        );
        let (no_auth, _) = layer!(no_auth, false);
        let (token_ttl, ttl_src) = layer!(token_ttl, 86_400);
        if token_ttl == 0 {
            return Err(ConfigError::Invalid {
                name: "token_ttl",
                value: "0".into(),
                origin: ttl_src,
                expected: "a token lifetime in seconds of at least 1 (default 86400)".into(),
            });
        }
        let (admin_password, _) = layer!(admin_password, String::new());
        let admin_password = Some(admin_password).filter(|p| !p.is_empty());
        let (dags_paused_at_creation, _) = layer!(dags_paused_at_creation, true);
        let (watcher, w_src) = layer!(watcher, "auto".to_string());
        let watcher_poll = match watcher.as_str() {
            "auto" => false,
            "poll" => true,
            other => {
                return Err(ConfigError::Invalid {
                    name: "watcher",
                    value: other.into(),
                    origin: w_src,
                    expected: "auto or poll".into(),
                });
            }
        };
        let (memory, m_src) = layer!(container_memory, "2g".to_string());
        let container_memory = parse_bytes(&memory).ok_or_else(|| ConfigError::Invalid {
            name: "container_memory",
            value: memory.clone(),
            origin: m_src,
            expected: "a memory size: bytes, or a number with k, m or g (e.g. 512m, 2g)".into(),
        })?;
        let (container_cpus, c_src) = layer!(container_cpus, 2.0);
        if !(container_cpus > 0.0 && container_cpus.is_finite()) {
            return Err(ConfigError::Invalid {
                name: "container_cpus",
                value: container_cpus.to_string(),
                origin: c_src,
                expected: "a number of CPUs above 0, e.g. 1.5".into(),
            });
        }
        let (container_pids, p_src) = layer!(container_pids, 1024);
        if container_pids < 16 {
            return Err(ConfigError::Invalid {
                name: "container_pids",
                value: container_pids.to_string(),
                origin: p_src,
                expected: "a process limit of at least 16 (default 1024)".into(),
            });
        }
        let (container_network, n_src) = layer!(container_network, "none".to_string());
        if !["none", "bridge"].contains(&container_network.as_str()) {
            return Err(ConfigError::Invalid {
                name: "container_network",
                value: container_network,
                origin: n_src,
                expected: "none (the default: no network) or bridge".into(),
            });
        }
        let (server, _) = layer!(server, String::new());
        let (registry, _) = layer!(registry, String::new());
        let (base_image, _) = layer!(base_image, String::new());
        let (insecure_registries, _) = layer!(insecure_registries, Vec::new());
        let some = |v: String| (!v.is_empty()).then_some(v);
        Ok(Config {
            server: some(server.trim_end_matches('/').to_string()),
            registry: some(registry),
            base_image: some(base_image),
            insecure_registries,
            container_memory,
            container_cpus,
            container_pids,
            container_network,
            home,
            host,
            port,
            dags_folder: absolute(cwd, &dags_folder),
            python,
            executor,
            log_format,
            log_level,
            parallelism,
            parse_timeout,
            parse_workers: parse_workers.max(1),
            xcom_max_bytes,
            log_max_bytes,
            allowed_hosts,
            secret_key,
            no_auth,
            token_ttl,
            admin_password,
            dags_paused_at_creation,
            watcher_poll,
            sources: s,
        })
    }

    /// Whether the server binds only to a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.host.is_loopback()
    }

    /// The effective configuration as TOML, secrets masked, each line with its source.
    pub fn render(&self) -> String {
        let src = |k: &str| self.sources.get(k).copied().unwrap_or(Source::Default);
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut rows: Vec<(&str, String)> = vec![
            ("home", q(&self.home.display().to_string())),
            ("host", q(&self.host.to_string())),
            ("port", self.port.to_string()),
            ("dags_folder", q(&self.dags_folder.display().to_string())),
            ("python", q(&self.python.display().to_string())),
            ("executor", q(self.executor.as_str())),
            (
                "log_format",
                q(match self.log_format {
                    LogFormat::Text => "text",
                    LogFormat::Json => "json",
                }),
            ),
            ("log_level", q(&self.log_level)),
            ("parallelism", self.parallelism.to_string()),
            ("parse_timeout", self.parse_timeout.to_string()),
            ("parse_workers", self.parse_workers.to_string()),
            ("xcom_max_bytes", self.xcom_max_bytes.to_string()),
            ("log_max_bytes", self.log_max_bytes.to_string()),
            (
                "allowed_hosts",
                toml::Value::Array(
                    self.allowed_hosts
                        .iter()
                        .map(|h| toml::Value::String(h.clone()))
                        .collect(),
                )
                .to_string(),
            ),
            (
                "secret_key",
                match &self.secret_key {
                    Some(_) => q("********"),
                    None => q("(generated in home)"),
                },
            ),
            ("no_auth", self.no_auth.to_string()),
            ("token_ttl", self.token_ttl.to_string()),
            (
                "admin_password",
                q(if self.admin_password.is_some() {
                    "********"
                } else {
                    "(generated in home on first start)"
                }),
            ),
            (
                "dags_paused_at_creation",
                self.dags_paused_at_creation.to_string(),
            ),
            (
                "watcher",
                q(if self.watcher_poll { "poll" } else { "auto" }),
            ),
            ("container_memory", self.container_memory.to_string()),
            ("container_cpus", self.container_cpus.to_string()),
            ("container_pids", self.container_pids.to_string()),
            ("container_network", q(&self.container_network)),
            ("server", q(self.server.as_deref().unwrap_or("(none)"))),
            ("registry", q(self.registry.as_deref().unwrap_or("(none)"))),
            (
                "base_image",
                q(self.base_image.as_deref().unwrap_or("(none)")),
            ),
            (
                "insecure_registries",
                toml::Value::Array(
                    self.insecure_registries
                        .iter()
                        .map(|h| toml::Value::String(h.clone()))
                        .collect(),
                )
                .to_string(),
            ),
        ];
        let width = rows
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .max()
            .unwrap_or(0)
            + 3;
        let mut out = String::from(
            "# Effective Leoflow configuration (flag > env > leoflow.toml > default)\n",
        );
        for (k, v) in rows.drain(..) {
            let line = format!("{k} = {v}");
            let source = if k == "home" {
                "flag --home, LEOFLOW_HOME or ~/.leoflow".to_string()
            } else {
                src(k).to_string()
            };
            out.push_str(&format!("{line:<width$} # {source}\n"));
        }
        out
    }
}

/// Makes `p` absolute against `cwd` without touching the filesystem.
pub fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("leoflow.toml"),
            "port = 9000\nlog_level = \"debug\"\nparallelism = 4\n",
        )
        .unwrap();
        let env = Layer::from_env(&env_of(&[
            ("LEOFLOW_PORT", "9100"),
            ("LEOFLOW_PARALLELISM", "8"),
        ]))
        .unwrap();
        let flags = Layer {
            port: Some(9200),
            ..Layer::default()
        };
        let c = Config::resolve(dir.path().into(), &flags, &env, dir.path()).unwrap();
        assert_eq!(c.port, 9200);
        assert_eq!(c.sources["port"], Source::Flag);
        assert_eq!(c.parallelism, 8);
        assert_eq!(c.sources["parallelism"], Source::Env);
        assert_eq!(c.log_level, "debug");
        assert_eq!(c.sources["log_level"], Source::File);
        assert_eq!(c.executor, ExecutorKind::Subprocess);
        assert_eq!(c.sources["executor"], Source::Default);
    }

    #[test]
    fn unknown_toml_key_names_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("leoflow.toml"), "prot = 1\n").unwrap();
        let err = Config::resolve(
            dir.path().into(),
            &Layer::default(),
            &Layer::default(),
            dir.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("leoflow.toml"), "{err}");
        assert!(err.contains("prot"), "{err}");
    }

    #[test]
    fn bad_values_say_what_is_accepted() {
        let e = Layer::from_env(&env_of(&[("LEOFLOW_PORT", "eighty")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("eighty") && e.contains("whole number"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let flags = Layer {
            executor: Some("kubernetes".into()),
            ..Layer::default()
        };
        let e = Config::resolve(dir.path().into(), &flags, &Layer::default(), dir.path())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid executor \"kubernetes\" (from flag): accepted: subprocess, docker"
        );
    }

    #[test]
    fn executors_and_their_aliases_name_their_source() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("leoflow.toml"),
            "executor = \"container\"\ncontainer_memory = \"512m\"\n",
        )
        .unwrap();
        let c = Config::resolve(
            dir.path().into(),
            &Layer::default(),
            &Layer::default(),
            dir.path(),
        )
        .unwrap();
        assert_eq!(c.executor, ExecutorKind::Docker);
        assert_eq!(c.sources["executor"], Source::File);
        assert_eq!(c.container_memory, 512 << 20);
        assert_eq!(c.container_network, "none");
        let flags = Layer {
            executor: Some("local".into()),
            container_network: Some("host".into()),
            ..Layer::default()
        };
        let e = Config::resolve(dir.path().into(), &flags, &Layer::default(), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("container_network \"host\""), "{e}");
        assert_eq!(parse_bytes("2g"), Some(2 << 30));
        assert_eq!(parse_bytes("1.5m"), Some(3 << 19));
        assert_eq!(parse_bytes("64kb"), Some(64 << 10));
        assert_eq!(parse_bytes("12x"), None);
    }

    #[test]
    fn render_masks_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let flags = Layer {
            secret_key: Some("hunter2".into()),
            ..Layer::default()
        };
        let c = Config::resolve(dir.path().into(), &flags, &Layer::default(), dir.path()).unwrap();
        let out = c.render();
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("secret_key = \"********\""), "{out}");
        assert!(out.contains("port = 8088"), "{out}");
    }
}
