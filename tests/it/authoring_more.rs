//! Issue 14 item 4: Airflow 3 authoring constructs common in real DAG folders, each parsed by
//! the real server, shown by `/api/v2/dags/{id}/tasks` and run with Airflow's semantics:
//! the `airflow.providers.common.compat` import paths, mapped task groups, setup/teardown
//! tasks, `ExternalPythonOperator` / `@task.external_python`, `ObjectStoragePath`, plugins
//! (timetables, priority weight strategies, listeners) and Airflow's own example DAGs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn start(home: &Path, dags: &Path) -> Server {
    let s = Server::start(home, &[dags.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_json(&s.url("/api/v2/monitor/health")).1["dag_processor"]["parse_progress"]["initial_scan_done"]
        != true
    {
        assert!(Instant::now() < deadline, "initial scan did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    s
}

/// `task_id` → its `TaskResponse`.
fn tasks(s: &Server, dag_id: &str) -> BTreeMap<String, Value> {
    let (status, body) = get_json(&s.url(&format!("/api/v2/dags/{dag_id}/tasks")));
    assert_eq!(status, 200, "{body}\n{}", s.output());
    body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["task_id"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

/// Triggers `dag_id` and waits for the run: (run, task instances by `task[map_index]`).
fn run_dag(s: &Server, dag_id: &str) -> (String, Value, BTreeMap<String, Value>) {
    let run_id = trigger_when_parsed(s, dag_id, json!({}), Duration::from_secs(20));
    let (run, tis) = run_result(s, dag_id, &run_id, Duration::from_secs(60));
    (run_id, run, tis)
}

fn states(tis: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    tis.iter()
        .map(|(k, v)| (k.clone(), v["state"].as_str().unwrap_or("none").to_string()))
        .collect()
}

fn import_errors(s: &Server) -> Vec<Value> {
    get_json(&s.url("/api/v2/importErrors")).1["import_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

const MAPPED_GROUP: &str = r#"
from airflow.sdk import DAG, task, task_group
from airflow.providers.standard.operators.bash import BashOperator

with DAG("mapped_group", schedule=None):
    @task
    def numbers():
        return [1, 2, 3]

    @task
    def add(x, y):
        return x + y

    @task
    def double(v):
        if v == 22:
            print("index", v)
        return v * 2

    @task_group
    def grp(x, y):
        e = BashOperator(task_id="echo", bash_command="echo item {{ ti.map_index }}")
        d = double(add(x, y))
        e >> d
        return d

    @task
    def total(values):
        print("total", list(values))
        return sum(values)

    total(grp.partial(y=10).expand(x=numbers()))

    @task_group
    def literal(letter):
        @task
        def shout(s):
            return s.upper()
        shout(letter)

    literal.expand(letter=["a", "b"])

    @task
    def nothing():
        return []

    @task_group
    def empty(v):
        double.override(task_id="never")(v)

    empty.expand(v=nothing())
"#;

#[test]
fn a_mapped_task_group_expands_each_task_and_downstream_sees_every_index() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("mapped_group.py"), MAPPED_GROUP).unwrap();
    let s = start(home.path(), dags.path());
    assert!(import_errors(&s).is_empty(), "{:?}", import_errors(&s));
    let t = tasks(&s, "mapped_group");
    // As Airflow's TaskResponse: tasks of a mapped group are not mapped operators themselves.
    assert_eq!(t["grp.add"]["is_mapped"], false);
    assert_eq!(
        t["numbers"]["downstream_task_ids"],
        json!(["grp.add", "grp.echo"])
    );
    assert_eq!(t["grp.double"]["downstream_task_ids"], json!(["total"]));
    let (run_id, run, tis) = run_dag(&s, "mapped_group");
    let st = states(&tis);
    assert_eq!(run["state"], "success", "{st:?}\n{}", s.output());
    for task in ["grp.echo", "grp.add", "grp.double"] {
        for i in 0..3 {
            assert_eq!(st[&format!("{task}[{i}]")], "success", "{st:?}");
        }
        assert!(!st.contains_key(&format!("{task}[3]")), "{st:?}");
    }
    assert_eq!(st["literal.shout[0]"], "success");
    assert_eq!(st["literal.shout[1]"], "success");
    assert_eq!(st["empty.never"], "skipped", "an empty input skips: {st:?}");
    // Each index got its share: (x + 10) * 2 for x in 1, 2, 3; the downstream sees all.
    let xcom = |task: &str, i: i64| {
        get_json(&s.url(&format!(
            "/api/v2/dags/mapped_group/dagRuns/{}/taskInstances/{task}/xcomEntries/return_value?map_index={i}",
            enc_run(&run_id)
        )))
        .1["value"]
            .clone()
    };
    assert_eq!(xcom("grp.double", 0), json!(22));
    assert_eq!(xcom("grp.double", 2), json!(26));
    assert_eq!(xcom("total", -1), json!(72));
    assert_eq!(xcom("literal.shout", 1), json!("B"));
    let echo = try_log_mapped(home.path(), &run_id, "grp.echo", 2);
    assert!(echo.contains("item 2"), "{echo}");
}

fn try_log_mapped(home: &Path, run_id: &str, task: &str, i: i64) -> String {
    std::fs::read_to_string(
        home.join("logs/dag_id=mapped_group")
            .join(format!("run_id={run_id}"))
            .join(format!("task_id={task}/map_index={i}/attempt=1.log")),
    )
    .unwrap_or_default()
}

const SETUP_TEARDOWN: &str = r#"
from airflow.sdk import DAG, task, setup, teardown
from airflow.providers.standard.operators.bash import BashOperator

with DAG("st_fail", schedule=None):
    create = BashOperator(task_id="create", bash_command="echo create")
    work = BashOperator(task_id="work", bash_command="exit 1")
    delete = BashOperator(task_id="delete", bash_command="echo deleted")
    create >> work >> delete.as_teardown(setups=create)

with DAG("st_decorated", schedule=None):
    @setup
    def make():
        return "resource"

    @task
    def use(r):
        print("using", r)

    @teardown
    def clean(r):
        raise RuntimeError("cleanup failed")

    r = make()
    use(r) >> clean(r)

with DAG("st_strict", schedule=None):
    @setup
    def make2():
        return 1

    @task
    def use2():
        pass

    @teardown(on_failure_fail_dagrun=True)
    def clean2():
        raise RuntimeError("strict cleanup failed")

    s2 = make2()
    c2 = clean2()
    s2 >> use2() >> c2
    s2 >> c2

with DAG("st_setup_fails", schedule=None):
    @task
    def boom():
        raise RuntimeError("setup failed")

    b = boom().as_setup()
    w = BashOperator(task_id="w", bash_command="echo w")
    td = BashOperator(task_id="td", bash_command="echo td")
    b >> w >> td.as_teardown(setups=b)
"#;

#[test]
fn setup_and_teardown_tasks_run_with_airflows_semantics() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("st.py"), SETUP_TEARDOWN).unwrap();
    let s = start(home.path(), dags.path());
    assert!(import_errors(&s).is_empty(), "{:?}", import_errors(&s));
    let t = tasks(&s, "st_fail");
    assert_eq!(t["delete"]["trigger_rule"], "all_done_setup_success");
    assert_eq!(t["create"]["trigger_rule"], "all_success");

    // The work fails: the teardown still runs and succeeds; the run fails (the work is a leaf).
    let (_, run, tis) = run_dag(&s, "st_fail");
    let st = states(&tis);
    assert_eq!(run["state"], "failed", "{st:?}");
    assert_eq!(st["work"], "failed");
    assert_eq!(st["delete"], "success", "{st:?}");

    // A failing teardown does not fail the run...
    let (_, run, tis) = run_dag(&s, "st_decorated");
    let st = states(&tis);
    assert_eq!(st["clean"], "failed", "{st:?}");
    assert_eq!(st["use"], "success");
    assert_eq!(run["state"], "success", "{st:?}");
    // ...unless it says on_failure_fail_dagrun=True.
    let (_, run, tis) = run_dag(&s, "st_strict");
    let st = states(&tis);
    assert_eq!(st["clean2"], "failed", "{st:?}");
    assert_eq!(run["state"], "failed", "{st:?}");

    // A failed setup: the work is upstream_failed, the teardown too (no setup succeeded).
    let (run_id, run, tis) = run_dag(&s, "st_setup_fails");
    let st = states(&tis);
    assert_eq!(run["state"], "failed");
    assert_eq!(st["boom"], "failed");
    assert_eq!(st["w"], "upstream_failed");
    assert_eq!(st["td"], "upstream_failed", "{st:?}");

    // Clearing the work clears its setup and teardown too (Airflow's partial_subset).
    let r = http()
        .post(s.url("/api/v2/dags/st_setup_fails/clearTaskInstances"))
        .json(&json!({"dry_run": true, "dag_run_id": run_id, "task_ids": ["w"], "only_failed": false}))
        .send()
        .unwrap();
    let body: Value = r.json().unwrap();
    let mut cleared: Vec<&str> = body["task_instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task_id"].as_str().unwrap())
        .collect();
    cleared.sort();
    assert_eq!(cleared, ["boom", "td", "w"], "{body}");
}

const COMPAT_AND_MORE: &str = r#"
import sys
from airflow.providers.common.compat.sdk import (
    DAG, BaseOperator, BaseHook, BaseSensorOperator, Context, TaskGroup, Variable, Connection,
    task, timezone, TriggerRule, ObjectStoragePath, AirflowSkipException, get_current_context,
)
from airflow.providers.common.compat.standard.operators import PythonOperator
from airflow.providers.standard.operators.python import ExternalPythonOperator
from workday import Weekdays, Decreasing

PY = sys.executable


class Hello(BaseOperator):
    def execute(self, context: Context):
        return "hello from compat at %s" % timezone.utcnow().year


def external(a, b, ds=None):
    import sys
    print("external interpreter", sys.executable, "ds", ds)
    return {"sum": a + b}


with DAG("compat_more", schedule=None, start_date=timezone.datetime(2025, 1, 1)):
    hello = Hello(task_id="hello", weight_rule=Decreasing())
    with TaskGroup("grp"):
        ext = ExternalPythonOperator(task_id="ext", python=PY, python_callable=external,
                                     op_args=[1, 2], expect_airflow=False)

    @task.external_python(python=PY)
    def pickled(x, items):
        return [x["sum"] * 10, sorted(items)]

    hello >> ext
    pickled(ext.output, {3, 1, 2})

with DAG("weekday_tt", schedule=Weekdays(), start_date=timezone.datetime(2025, 1, 1)):
    PythonOperator(task_id="p", python_callable=lambda: "ok")
"#;

const PLUGIN: &str = r#"
from airflow.plugins_manager import AirflowPlugin
from airflow.task.priority_strategy import PriorityWeightStrategy
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable


class Weekdays(Timetable):
    description = "Every weekday at midnight"

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        return None


class Decreasing(PriorityWeightStrategy):
    def get_weight(self, ti):
        return max(3 - ti.try_number + 1, 1)


class Listener:
    pass


class WorkdayPlugin(AirflowPlugin):
    name = "workday_plugin"
    timetables = [Weekdays]
    priority_weight_strategies = [Decreasing]
    listeners = [Listener()]
"#;

#[test]
fn compat_imports_external_python_object_storage_and_plugins_load_and_run() {
    let home = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let dags = root.path().join("dags");
    let plugins = root.path().join("plugins");
    std::fs::create_dir_all(&dags).unwrap();
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(dags.join("compat_more.py"), COMPAT_AND_MORE).unwrap();
    std::fs::write(plugins.join("workday.py"), PLUGIN).unwrap();
    std::fs::write(plugins.join("broken.py"), "import no_such_module_x\n").unwrap();
    let s = start(home.path(), &dags);
    assert!(import_errors(&s).is_empty(), "{:?}", import_errors(&s));

    let t = tasks(&s, "compat_more");
    assert_eq!(t["grp.ext"]["operator_name"], "ExternalPythonOperator");
    assert_eq!(t["pickled"]["operator_name"], "@task.external_python");
    // The plugin's priority weight strategy: its qualname, the weight of a first try.
    assert_eq!(t["hello"]["weight_rule"], "workday.Decreasing");
    assert_eq!(t["hello"]["priority_weight"], 3.0);
    let (_, dag) = get_json(&s.url("/api/v2/dags/weekday_tt/details"));
    assert_eq!(dag["timetable_summary"], "Weekdays", "{dag}");
    assert_eq!(dag["timetable_description"], "Every weekday at midnight");

    let (status, body) = get_json(&s.url("/api/v2/plugins"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_entries"], 1, "{body}");
    let p = &body["plugins"][0];
    assert_eq!(p["name"], "workday_plugin");
    assert_eq!(p["source"], "$PLUGINS_FOLDER/workday.py");
    assert_eq!(p["timetables"], json!(["workday.Weekdays"]));
    assert_eq!(p["listeners"], json!(["workday.Listener"]));
    assert!(p.get("priority_weight_strategies").is_none(), "{p}");
    let (_, errs) = get_json(&s.url("/api/v2/plugins/importErrors"));
    assert_eq!(errs["total_entries"], 1, "{errs}");
    assert_eq!(
        errs["import_errors"][0]["source"],
        "$PLUGINS_FOLDER/broken.py"
    );
    assert!(
        errs["import_errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no_such_module_x")
    );
    assert!(
        s.output().contains("accepts and ignores them"),
        "the ignored listener is logged"
    );

    let run_id = trigger_when_parsed(&s, "compat_more", json!({}), Duration::from_secs(20));
    let (run, tis) = run_result(&s, "compat_more", &run_id, Duration::from_secs(60));
    let st = states(&tis);
    assert_eq!(run["state"], "success", "{st:?}\n{}", s.output());
    let xcom = |task: &str| {
        get_json(&s.url(&format!(
            "/api/v2/dags/compat_more/dagRuns/{}/taskInstances/{task}/xcomEntries/return_value",
            enc_run(&run_id)
        )))
        .1["value"]
            .clone()
    };
    assert_eq!(xcom("grp.ext"), json!({"sum": 3}));
    // A set argument is not JSON: the call was pickled, the result came back.
    assert_eq!(xcom("pickled"), json!([30, [1, 2, 3]]));
    let log = try_log(home.path(), "compat_more", &run_id, "grp.ext", 1);
    assert!(log.contains("external interpreter"), "{log}");
    let log = try_log(home.path(), "compat_more", &run_id, "pickled", 1);
    assert!(
        log.contains("expect_airflow=False"),
        "the missing Airflow is warned: {log}"
    );
}

#[test]
fn object_storage_paths_work_on_local_files_and_name_other_schemes() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("osp.py"),
        format!(
            r#"
from airflow.sdk import DAG, ObjectStoragePath, task

with DAG("osp", schedule=None):
    @task
    def storage():
        root = ObjectStoragePath("file://{base}")
        (root / "in").mkdir(parents=True, exist_ok=True)
        f = root / "in" / "data.txt"
        f.write_text("abc")
        f.copy(root / "copy.txt")
        (root / "copy.txt").move(root / "moved.txt")
        err = None
        try:
            ObjectStoragePath("s3://aws_default@bucket/key").read_text()
        except ImportError as e:
            err = str(e)
        return {{"names": sorted(p.name for p in root.iterdir()), "size": f.stat().st_size,
                "found": sorted(p.name for p in root.glob("**/*.txt")),
                "text": (root / "moved.txt").read_text(), "uri": str(f), "err": err}}
    storage()
"#,
            base = data.path().display()
        ),
    )
    .unwrap();
    let s = start(home.path(), dags.path());
    let (run_id, run, tis) = run_dag(&s, "osp");
    assert_eq!(run["state"], "success", "{:?}", states(&tis));
    let (_, x) = get_json(&s.url(&format!(
        "/api/v2/dags/osp/dagRuns/{}/taskInstances/storage/xcomEntries/return_value",
        enc_run(&run_id)
    )));
    let v = &x["value"];
    assert_eq!(v["names"], json!(["in", "moved.txt"]), "{v}");
    assert_eq!(v["size"], 3);
    assert_eq!(v["found"], json!(["data.txt", "moved.txt"]));
    assert_eq!(v["text"], "abc");
    assert_eq!(
        v["uri"],
        format!("file://{}/in/data.txt", data.path().display())
    );
    assert!(
        v["err"].as_str().unwrap().contains("scheme 's3'"),
        "the error names the scheme: {v}"
    );
    assert!(data.path().join("in/data.txt").exists());
}

/// The `apache-airflow-core` 3.2.2 wheel: `LEOFLOW_AIRFLOW_CORE_WHEEL`, else the copy
/// `scripts/test` downloads under the target dir, else pip's cache (`pip download`, which
/// needs the network only when the wheel is not cached).
fn airflow_core_wheel() -> std::path::PathBuf {
    const NAME: &str = "apache_airflow_core-3.2.2-py3-none-any.whl";
    if let Some(p) = std::env::var_os("LEOFLOW_AIRFLOW_CORE_WHEEL") {
        return p.into();
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("airflow-wheels");
    let wheel = dir.join(NAME);
    if !wheel.exists() {
        let out = std::process::Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "--quiet"])
            .arg("apache-airflow-core==3.2.2")
            .arg("-d")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            wheel.exists(),
            "the apache-airflow-core 3.2.2 wheel is not in pip's cache and could not be downloaded ({}); run scripts/test, or set LEOFLOW_AIRFLOW_CORE_WHEEL",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    wheel
}

#[test]
fn airflow_example_dags_load_as_docs_airflow_example_dags_md_says() {
    let wheel = airflow_core_wheel();
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let only = [
        "example_setup_teardown_taskflow.py",
        "example_task_group_decorator.py",
        "example_dynamic_task_mapping.py",
    ];
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(root.join("scripts/airflow-example-dags"))
        .arg("--wheel")
        .arg(&wheel)
        .arg("--leoflow")
        .arg(bin())
        .arg("--out")
        .arg(out.path())
        .arg("--run")
        .arg("--only")
        .args(only);
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // These run to success with `leoflow dags test` (mapped task groups, setup/teardown).
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), only.len(), "{stdout}");
    for r in &rows {
        assert_eq!(r["status"], "runs", "{r}");
    }
    // Every file's loads/fails status is the one the doc records.
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(root.join("scripts/airflow-example-dags"))
        .arg("--wheel")
        .arg(&wheel)
        .arg("--leoflow")
        .arg(bin())
        .arg("--out")
        .arg(out.path());
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let doc = std::fs::read_to_string(root.join("docs/airflow-example-dags.md")).unwrap();
    let mut checked = 0;
    for line in stdout.lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let file = r["file"].as_str().unwrap();
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{file}` |")))
            .unwrap_or_else(|| panic!("{file} is not in docs/airflow-example-dags.md"));
        let documented_fail = row.contains("| fails |");
        assert_eq!(
            r["status"] == "fails",
            documented_fail,
            "{file}: validate says {}, the doc says: {row}",
            r["status"]
        );
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} example files checked");
}
