//! Issue #15: provider packages installed in the user's Python run on Lite. Real packages from
//! the package registry (PyPI) are installed into a real virtualenv, which the server uses as
//! `--python`; the DAG's connection comes from Lite's store.
//!
//! The virtualenv is built once per package list under Cargo's target tmp dir (pip's cache
//! beside it), so a second run of the suite installs nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::json;

use crate::support::*;

/// The provider packages tried, and what they need that the real Airflow would have brought
/// (installed with `--no-deps`: Airflow itself is never installed).
pub const PROVIDER_PACKAGES: &[&str] = &[
    "apache-airflow-providers-common-sql==2.4.0",
    "apache-airflow-providers-common-compat==1.23.0",
    "apache-airflow-providers-sqlite==4.3.4",
    "sqlparse==0.6.1",
    "more-itertools==11.2.1",
    "methodtools==0.4.7",
    "wirerope==1.0.0",
    "six==1.17.0",
    "asgiref==3.13.0",
    "packaging==26.4",
    "deprecated==1.3.1",
    "wrapt==2.5.2",
    "attrs==26.1.0",
];

fn checked(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A virtualenv holding [`PROVIDER_PACKAGES`]: its python.
pub fn provider_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            PROVIDER_PACKAGES.hash(&mut h);
            h.finish()
        };
        let venv = tmp.join(format!("provider-venv-{key:016x}"));
        let python = venv.join("bin/python");
        if python.exists() {
            return python;
        }
        // Built aside, then renamed: a half-built venv is never used.
        let building = tmp.join(format!("provider-venv-{key:016x}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        checked(
            Command::new("python3").args(["-m", "venv"]).arg(&building),
            "python3 -m venv (Debian: apt-get install python3-venv; scripts/test does)",
        );
        let mut pip = Command::new(building.join("bin/python"));
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--cache-dir",
        ])
        .arg(tmp.join("pip-cache"))
        .args(PROVIDER_PACKAGES);
        checked(&mut pip, "pip install of the provider packages");
        match std::fs::rename(&building, &venv) {
            Ok(()) => {}
            // Another test process finished first: use its venv.
            Err(_) if python.exists() => {
                let _ = std::fs::remove_dir_all(&building);
            }
            Err(e) => panic!("cannot move the venv into place: {e}"),
        }
        python
    })
}

/// `SQLExecuteQueryOperator` and `SQLCheckOperator` (common-sql), `SqliteHook` (sqlite) in a
/// `@task` and `DbApiHook` found from the connection: a DAG runs to success on the real
/// provider code, the connection taken from Lite's store.
#[test]
fn common_sql_and_sqlite_providers_run_with_a_connection_from_lites_store() {
    let python = provider_python();
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let db = home.path().join("data.db");
    std::fs::write(
        dags.path().join("sql_dag.py"),
        r#"
from airflow.sdk import DAG, task
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator, SQLCheckOperator
from airflow.providers.common.sql.hooks.sql import DbApiHook
from airflow.providers.sqlite.hooks.sqlite import SqliteHook
from airflow.hooks.base import BaseHook

with DAG("sql_dag", schedule=None):
    create = SQLExecuteQueryOperator(
        task_id="create", conn_id="my_sqlite", split_statements=True,
        sql="CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), ({{ params.third }});",
        params={"third": 4},
    )
    check = SQLCheckOperator(task_id="check", conn_id="my_sqlite",
                             sql="SELECT COUNT(*) = 3 FROM t")
    bad_check = SQLCheckOperator(task_id="bad_check", conn_id="my_sqlite",
                                 sql="SELECT COUNT(*) FROM t WHERE x > 100")

    @task
    def read():
        hook = SqliteHook(sqlite_conn_id="my_sqlite")
        total = hook.get_records("SELECT SUM(x) FROM t")[0][0]
        generic = BaseHook.get_hook("my_sqlite")
        assert isinstance(generic, DbApiHook), type(generic)
        return {"total": total, "hook": type(generic).__name__,
                "first": generic.get_first("SELECT MIN(x) FROM t")[0]}

    create >> check >> read()
    create >> bad_check
"#,
    )
    .unwrap();
    let s = Server::start(
        home.path(),
        &[
            "--python",
            python.to_str().unwrap(),
            dags.path().to_str().unwrap(),
        ],
    );
    let r = http()
        .post(s.url("/api/v2/connections"))
        .json(&json!({"connection_id": "my_sqlite", "conn_type": "sqlite", "host": db}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
    let run_id = trigger_when_parsed(&s, "sql_dag", json!({}), Duration::from_secs(30));
    let (run, tis) = run_result(&s, "sql_dag", &run_id, Duration::from_secs(60));
    let log = |t: &str| try_log(home.path(), "sql_dag", &run_id, t, 1);
    for t in ["create", "check", "read"] {
        assert_eq!(
            tis[t]["state"],
            "success",
            "{t}: {}\n{}",
            log(t),
            s.output()
        );
    }
    assert!(
        log("create").contains("Rows affected: 3"),
        "{}",
        log("create")
    );
    // A check whose first row is falsy fails, with the provider's own message.
    assert_eq!(tis["bad_check"]["state"], "failed");
    assert!(
        log("bad_check").contains("Test failed"),
        "{}",
        log("bad_check")
    );
    assert_eq!(run["state"], "failed");
    let (_, x) = get_json(&s.url(&format!(
        "/api/v2/dags/sql_dag/dagRuns/{}/taskInstances/read/xcomEntries/return_value",
        enc_run(&run_id)
    )));
    assert_eq!(
        x["value"],
        json!({"total": 7, "hook": "SqliteHook", "first": 1}),
        "{x}\n{}",
        log("read")
    );
    // The data really is in the connection's database.
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
}

/// A connection type no installed provider declares fails the task with an error that names
/// the type and what is installed.
#[test]
fn an_unknown_connection_type_names_what_is_installed() {
    let python = provider_python();
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("pg.py"),
        r#"
from airflow.sdk import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

with DAG("pg", schedule=None):
    SQLExecuteQueryOperator(task_id="q", conn_id="warehouse", sql="SELECT 1")
"#,
    )
    .unwrap();
    let s = Server::start(
        home.path(),
        &[
            "--python",
            python.to_str().unwrap(),
            dags.path().to_str().unwrap(),
        ],
    );
    let r = http()
        .post(s.url("/api/v2/connections"))
        .json(&json!({"connection_id": "warehouse", "conn_type": "postgres", "host": "db"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let run_id = trigger_when_parsed(&s, "pg", json!({}), Duration::from_secs(30));
    let (_, tis) = run_result(&s, "pg", &run_id, Duration::from_secs(60));
    assert_eq!(tis["q"]["state"], "failed");
    let log = try_log(home.path(), "pg", &run_id, "q", 1);
    assert!(
        log.contains("'postgres'") && log.contains("sqlite") && log.contains("--python"),
        "{log}"
    );
}

/// A provider that needs a part of Airflow the shim does not have is an import error naming
/// the provider package, the file and line, and the missing piece.
#[test]
fn a_provider_needing_the_real_airflow_names_the_package_and_the_missing_piece() {
    let venv = tempfile::tempdir().unwrap();
    checked(
        Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(venv.path()),
        "python3 -m venv",
    );
    let python = venv.path().join("bin/python");
    let out = Command::new(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ])
        .output()
        .unwrap();
    let site = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let pkg = site.join("airflow/providers/acme/cloud");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("get_provider_info.py"),
        "def get_provider_info():\n    return {'package-name': 'apache-airflow-providers-acme-cloud'}\n",
    )
    .unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    std::fs::write(
        pkg.join("hooks.py"),
        "import os\nfrom airflow.models.dagbag import DagBag\n",
    )
    .unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("acme.py"),
        "from airflow.sdk import DAG\nfrom airflow.providers.acme.cloud.hooks import DagBag\n",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = leoflow(home.path());
    cmd.args(["validate", dags.path().to_str().unwrap(), "--python"])
        .arg(&python);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 1, "{out}{err}");
    let text = format!("{out}{err}");
    assert!(
        text.contains("apache-airflow-providers-acme-cloud")
            && text.contains("hooks.py:2")
            && text.contains("'airflow.models.dagbag.DagBag'"),
        "{text}"
    );
}

/// `@task.virtualenv` and `PythonVirtualenvOperator`: a fresh venv with the task's requirement
/// (installed from PyPI), built once per requirement set under the home and reused by the next
/// run, with its build in the task log.
#[test]
fn virtualenv_tasks_build_their_venv_once_and_reuse_it() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("venv_dag.py"),
        r#"
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.python import PythonVirtualenvOperator

def classic(n):
    import six
    return {"six": six.__version__, "n": n}

with DAG("venv_dag", schedule=None):
    @task.virtualenv(requirements=["six==1.17.0"], system_site_packages=False,
                     expect_airflow=False)
    def in_venv(x):
        import sys, six
        return {"six": six.__version__, "x": x * 2, "prefix": sys.prefix}

    c = PythonVirtualenvOperator(task_id="classic", python_callable=classic, op_args=[3],
                                 requirements="six==1.17.0", system_site_packages=False,
                                 expect_airflow=False)
    c >> in_venv(21)
"#,
    )
    .unwrap();
    let s = Server::start(home.path(), &[dags.path().to_str().unwrap()]);
    let xcom = |run_id: &str, task: &str| {
        get_json(&s.url(&format!(
            "/api/v2/dags/venv_dag/dagRuns/{}/taskInstances/{task}/xcomEntries/return_value",
            enc_run(run_id)
        )))
        .1["value"]
            .clone()
    };
    let mut logs = Vec::new();
    for _ in 0..2 {
        let run_id = trigger_when_parsed(&s, "venv_dag", json!({}), Duration::from_secs(30));
        let (run, tis) = run_result(&s, "venv_dag", &run_id, Duration::from_secs(240));
        let log = try_log(home.path(), "venv_dag", &run_id, "in_venv", 1);
        assert_eq!(run["state"], "success", "{tis:?}\n{log}\n{}", s.output());
        let v = xcom(&run_id, "in_venv");
        assert_eq!(v["six"], "1.17.0", "{v}");
        assert_eq!(v["x"], 42);
        let prefix = v["prefix"].as_str().unwrap();
        assert!(
            prefix.starts_with(home.path().join("venvs").to_str().unwrap()),
            "{prefix}"
        );
        assert_eq!(xcom(&run_id, "classic"), json!({"six": "1.17.0", "n": 3}));
        logs.push(log);
    }
    // Both tasks name the same requirement set: one venv, built once.
    let venvs: Vec<_> = std::fs::read_dir(home.path().join("venvs"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .collect();
    assert_eq!(venvs.len(), 1, "{venvs:?}");
    assert!(
        logs[1].contains("Using the cached virtualenv"),
        "{}",
        logs[1]
    );
}
