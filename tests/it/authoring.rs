//! Issue 3, DAG authoring: the corpus of real Airflow 3 DAG files parsed through the same
//! pipeline the server uses (warm Python workers + Rust validation), golden Pro dag.json files,
//! and the authoring CLI.

use std::path::{Path, PathBuf};
use std::time::Duration;

use leoflow::dag::{
    self,
    parser::{ParserConfig, ParserPool},
};
use serde_json::Value;

use crate::support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let path = std::env::var("PATH").unwrap();
    leoflow::python::resolve(Path::new("python3"), Some(&path))
        .unwrap()
        .executable
}

fn pool(dags_folder: &Path, timeout: u64, size: usize) -> (ParserPool, tempfile::TempDir) {
    let rt_home = tempfile::tempdir().unwrap();
    let runtime = dag::runtime::ensure(rt_home.path()).unwrap();
    (
        ParserPool::new(
            ParserConfig {
                python: python(),
                runtime,
                dags_folder: dags_folder.to_path_buf(),
                timeout: Duration::from_secs(timeout),
            },
            size,
        ),
        rt_home,
    )
}

/// Where `expected` is not a subset of `actual` (lists compared element-wise, numbers by value).
fn subset_diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                match a.get(k) {
                    None => out.push(format!("{path}.{k}: missing (expected {v})")),
                    Some(av) => subset_diff(v, av, &format!("{path}.{k}"), out),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset_diff(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(e), Value::Number(a))
            if (e.as_f64().unwrap() - a.as_f64().unwrap()).abs() < 1e-9 => {}
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn compare(expected: &Value, result: &dag::ParseResult) -> Vec<String> {
    let mut diffs = Vec::new();
    let got = serde_json::to_value(result).unwrap();
    let dags: std::collections::BTreeMap<String, &Value> = got["dags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["dag_id"].as_str().unwrap().to_string(), d))
        .collect();
    let exp_dags = expected["dags"].as_object().cloned().unwrap_or_default();
    let want: Vec<&String> = exp_dags.keys().collect();
    let have: Vec<&String> = dags.keys().collect();
    if want != have {
        diffs.push(format!("dag ids: expected {want:?}, got {have:?}"));
    }
    for (dag_id, exp) in &exp_dags {
        let Some(got) = dags.get(dag_id) else {
            continue;
        };
        let mut exp = exp.as_object().unwrap().clone();
        let exp_tasks = exp
            .remove("tasks")
            .and_then(|t| t.as_object().cloned())
            .unwrap_or_default();
        subset_diff(&Value::Object(exp), got, dag_id, &mut diffs);
        let tasks: std::collections::BTreeMap<&str, &Value> = got["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["task_id"].as_str().unwrap(), t))
            .collect();
        let want: Vec<&str> = exp_tasks.keys().map(String::as_str).collect();
        let have: Vec<&str> = tasks.keys().copied().collect();
        if want != have {
            diffs.push(format!(
                "{dag_id}: task ids: expected {want:?}, got {have:?}"
            ));
        }
        for (tid, et) in &exp_tasks {
            let Some(gt) = tasks.get(tid.as_str()) else {
                continue;
            };
            let mut et = et.as_object().unwrap().clone();
            if let Some(Value::Array(up)) = et.remove("upstream") {
                let mut up: Vec<String> =
                    up.iter().map(|u| u.as_str().unwrap().to_string()).collect();
                up.sort();
                let got_up: Vec<String> = gt["upstream"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u.as_str().unwrap().to_string())
                    .collect();
                if up != got_up {
                    diffs.push(format!(
                        "{dag_id}.{tid}.upstream: expected {up:?}, got {got_up:?}"
                    ));
                }
            }
            subset_diff(
                &Value::Object(et),
                gt,
                &format!("{dag_id}.{tid}"),
                &mut diffs,
            );
        }
    }
    let exp_errs = expected["import_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if exp_errs.len() != result.import_errors.len() {
        diffs.push(format!(
            "import_errors: expected {}, got {}: {:?}",
            exp_errs.len(),
            result.import_errors.len(),
            result
                .import_errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
        ));
    }
    for (i, (e, g)) in exp_errs.iter().zip(&result.import_errors).enumerate() {
        if let Some(l) = e.get("lineno")
            && l.as_u64().map(|l| l as u32) != g.lineno
        {
            {
                diffs.push(format!(
                    "import_errors[{i}].lineno: expected {l}, got {:?} ({})",
                    g.lineno, g.message
                ));
            }
        }
        if let Some(mc) = e.get("message_contains").and_then(|m| m.as_str())
            && !g.message.contains(mc)
        {
            {
                diffs.push(format!(
                    "import_errors[{i}].message {:?} does not contain {mc:?}",
                    g.message
                ));
            }
        }
        assert!(
            !g.traceback.is_empty(),
            "import error without traceback: {g:?}"
        );
    }
    diffs
}

#[test]
fn corpus_parses_to_the_expected_structure() {
    let corpus = root().join("tests/corpus");
    let (pool, _rt) = pool(&corpus, 30, 2);
    let (hang_pool, _rt2) = pool_for_hang(&corpus);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "corpus has only {} files", files.len());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sources: Vec<dag::discover::Source> = files
        .iter()
        .map(|f| dag::discover::Source::File(f.clone()))
        .collect();
    let results = rt.block_on(async {
        let jobs = sources.iter().map(|s| {
            let p = if s.dag_file().file_name().unwrap() == "broken_hang.py" {
                &hang_pool
            } else {
                &pool
            };
            dag::load_source(p, s)
        });
        futures_util::future::join_all(jobs).await
    });
    let mut failures = Vec::new();
    for (file, result) in files.iter().zip(&results) {
        let exp_path = file.with_extension("expected.json");
        let text = std::fs::read_to_string(&exp_path)
            .unwrap_or_else(|_| panic!("missing {}", exp_path.display()));
        let text = text.replace("@CORPUS@", corpus.to_str().unwrap());
        let expected: Value = serde_json::from_str(&text).unwrap();
        let diffs = compare(&expected, result);
        if !diffs.is_empty() {
            failures.push(format!(
                "{}:\n  {}",
                file.file_name().unwrap().to_string_lossy(),
                diffs.join("\n  ")
            ));
        }
    }
    rt.block_on(pool.shutdown());
    rt.block_on(hang_pool.shutdown());
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

fn pool_for_hang(corpus: &Path) -> (ParserPool, tempfile::TempDir) {
    pool(corpus, 2, 1)
}

#[test]
fn broken_files_report_file_line_and_keep_the_pool_serving() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.py");
    std::fs::write(&good, "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\nwith DAG('good'):\n    EmptyOperator(task_id='a')\n").unwrap();
    let crash = dir.path().join("crash.py");
    std::fs::write(
        &crash,
        "import os\nfrom airflow.sdk import DAG\nos._exit(3)\n",
    )
    .unwrap();
    let s3 = dir.path().join("s3.py");
    std::fs::write(&s3, "from airflow.sdk import DAG\nfrom airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator\nwith DAG('s3'):\n    S3CreateBucketOperator(task_id='mk', bucket_name='b')\n").unwrap();
    let (pool, _rt) = pool(dir.path(), 10, 1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = pool.parse(&crash).await;
        assert!(r.dags.is_empty());
        assert!(
            r.import_errors[0].message.contains("os._exit(3)"),
            "{:?}",
            r.import_errors
        );
        let r = pool.parse(&s3).await;
        let e = &r.import_errors[0];
        assert!(
            e.message.contains("S3CreateBucketOperator") && e.message.contains("BashOperator"),
            "{e:?}"
        );
        assert!(e.lineno.is_some(), "{e:?}");
        // The same single worker still serves a good file afterwards.
        let r = pool.parse(&good).await;
        assert_eq!(r.dags.len(), 1, "{:?}", r.import_errors);
        pool.shutdown().await;
    });
}

/// Compiles `path` with the CLI: (exit code, stdout, stderr).
fn compile(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let mut c = leoflow(home.path());
    c.arg("compile")
        .arg(path)
        .args([
            "--dag-version",
            "golden",
            "--image",
            "registry.local/golden:1",
        ])
        .args(extra);
    run(c)
}

#[test]
fn golden_dag_json_files_match_and_validate_against_the_pro_schema() {
    let golden_dir = root().join("tests/golden");
    let schema: Value =
        serde_json::from_str(include_str!("../../schemas/dag-schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let cases = [
        (
            "leoflow_project",
            root().join("examples/dags/leoflow_project"),
            vec![],
        ),
        (
            "classic_bash",
            root().join("tests/corpus/classic_bash.py"),
            vec![],
        ),
        ("pro_http", root().join("tests/golden/pro_http.py"), vec![]),
        (
            "pro_taskflow",
            root().join("tests/golden/pro_taskflow.py"),
            vec![],
        ),
    ];
    let update = std::env::var("LEOFLOW_UPDATE_GOLDEN").is_ok();
    for (name, path, extra) in cases {
        let (code, out, err) = compile(&path, &extra);
        assert_eq!(code, 0, "{name}: {err}");
        let mut doc: Value = serde_json::from_str(&out).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: schema errors {errors:?}");
        // The embedded source is checked for presence, not compared (it is the file itself).
        let source = doc.as_object_mut().unwrap().remove("source").unwrap();
        assert!(source.as_str().unwrap().contains("airflow"), "{name}");
        let golden = golden_dir.join(format!("{name}.dag.json"));
        if update {
            std::fs::write(&golden, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        }
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(&golden)
                .unwrap_or_else(|_| panic!("missing {}", golden.display())),
        )
        .unwrap();
        assert_eq!(
            doc,
            want,
            "{name}: compiled dag.json differs from {}",
            golden.display()
        );
    }
}

#[test]
fn features_pro_cannot_carry_are_errors_naming_task_and_feature() {
    let corpus = root().join("tests/corpus");
    for (file, dag_id, needles) in [
        ("mapping_taskflow.py", None, vec!["dynamic task mapping"]),
        ("taskflow_branch.py", None, vec!["branching"]),
        (
            "trigger_rules.py",
            None,
            vec!["trigger_rule", "is not supported by Pro"],
        ),
        ("sensors_standard.py", None, vec!["sensors"]),
        (
            "xcom_custom_key.py",
            None,
            vec!["reads XCom key \"rows\"", "multiple_outputs=True"],
        ),
        (
            "http_operator.py",
            None,
            vec!["is relative to connection", "absolute URL"],
        ),
    ] {
        let path = corpus.join(file);
        let mut extra = vec![];
        let id: Option<&str> = dag_id;
        if let Some(id) = id {
            extra.extend(["--dag-id", id]);
        }
        let (code, _, err) = compile(&path, &extra);
        let err = if err.contains("defines several DAGs") {
            // Pick the first DAG the message lists.
            let list = err
                .split("defines several DAGs (")
                .nth(1)
                .unwrap()
                .split(')')
                .next()
                .unwrap();
            let first = list.split(", ").next().unwrap().to_string();
            compile(&path, &["--dag-id", &first]).2
        } else {
            err
        };
        assert_eq!(code, 1, "{file}: {err}");
        for n in needles {
            assert!(err.contains(n), "{file}: {n:?} not in {err}");
        }
        assert!(err.contains("task \""), "{file}: no task named in {err}");
        assert!(
            err.contains(&format!("{}:", path.file_name().unwrap().to_string_lossy())),
            "{file}: no file:line in {err}"
        );
    }
}

/// Airflow 3's common TaskFlow styles compile (issue #13): tasks nested in an `@dag` function,
/// arguments from `multiple_outputs` keys and fan-in lists go through a generated entrypoint
/// module; run as Pro runs a dag.json (import `module:function`, call it with `call_args` and
/// the upstream return values of `xcom_input`, in dependency order), they compute what the DAG
/// computes.
#[test]
fn taskflow_dags_compile_and_run_as_pro_calls_their_entrypoints() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    for name in ["etl_xcom", "fan_out_fan_in"] {
        std::fs::copy(
            root().join(format!("examples/dags/{name}.py")),
            dir.path().join(format!("{name}.py")),
        )
        .unwrap();
        let json = out.join(format!("{name}.json"));
        let (code, _, err) = compile(
            &dir.path().join(format!("{name}.py")),
            &["-o", json.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{name}: {err}");
        assert!(
            out.join(format!("leoflow_tasks_{name}.py")).is_file(),
            "{name}: {err}"
        );
    }
    // Pro's worker, reduced to its contract: one process per task, importing the entrypoint.
    let pro = r#"
import importlib, json, sys
spec, paths = sys.argv[1], sys.argv[2:]
sys.path[:0] = paths[:-1]
sys.path.append(paths[-1])
doc = json.load(open(spec))
results = {}
for t in doc["tasks"]:
    if t["type"] != "python":
        continue
    module, fn = t["entrypoint"].split(":")
    kwargs = dict(t.get("call_args", {}))
    kwargs.update({k: results[u] for k, u in t.get("xcom_input", {}).items()})
    fn = getattr(importlib.import_module(module), fn)
    fn = getattr(fn, "function", fn)  # a module-level @task: its function, as Pro unwraps it
    results[t["task_id"]] = fn(**kwargs)
print("RESULTS " + json.dumps(results, sort_keys=True))
"#;
    let run_pro = |name: &str| {
        let o = std::process::Command::new("python3")
            .arg("-c")
            .arg(pro)
            .arg(out.join(format!("{name}.json")))
            .arg(root().join("python/shim"))
            .arg(dir.path())
            .arg(&out)
            .arg(root().join("python/fallback"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{name}: {text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let line = text.lines().find(|l| l.starts_with("RESULTS ")).unwrap();
        (
            text.clone(),
            serde_json::from_str::<Value>(&line[8..]).unwrap(),
        )
    };
    let (text, r) = run_pro("etl_xcom");
    assert_eq!(r["transform"]["grand_total"], 594.45, "{text}");
    assert!(text.contains("TOTAL          594.45"), "load ran: {text}");
    let (text, r) = run_pro("fan_out_fan_in");
    let sum: i64 = ["count_north", "count_south", "count_west"]
        .iter()
        .map(|t| r[*t].as_i64().unwrap())
        .sum();
    assert_eq!(r["combine"], sum, "{text}");
}

#[test]
fn validate_and_dags_commands() {
    let home = tempfile::tempdir().unwrap();
    let examples = root().join("examples/dags");
    let mut c = leoflow(home.path());
    c.arg("validate").arg(&examples);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 error(s)"), "{out}");

    let mut c = leoflow(home.path());
    c.args(["dags", "list"]).arg(&examples);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    for id in [
        "hello_taskflow",
        "etl_xcom",
        "fan_out_fan_in",
        "branching",
        "dynamic_mapping",
        "templated_bash",
        "params_trigger_form",
        "leoflow_project_example",
    ] {
        assert!(out.contains(id), "{id} missing from\n{out}");
    }

    let mut c = leoflow(home.path());
    c.args(["dags", "show", "etl_xcom", "--dags-folder"])
        .arg(&examples);
    let (code, out, _) = run(c);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("transform") && out.contains("extract"),
        "{out}"
    );

    let mut c = leoflow(home.path());
    c.args([
        "dags",
        "graph",
        "etl_xcom",
        "--format",
        "dot",
        "--dags-folder",
    ])
    .arg(&examples);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(
        out.contains("\"extract\" -> \"transform\";") && out.starts_with("digraph"),
        "{out}"
    );

    let mut c = leoflow(home.path());
    c.args(["dags", "graph", "etl_xcom", "--dags-folder"])
        .arg(&examples);
    let (_, out, _) = run(c);
    assert!(out.contains("<Task(_PythonDecoratedOperator): extract>\n    <Task(_PythonDecoratedOperator): transform>"), "{out}");

    let mut c = leoflow(home.path());
    c.args(["dags", "show", "etl_xmoc", "--dags-folder"])
        .arg(&examples);
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean \"etl_xcom\""), "{err}");

    // A broken file makes validate exit 1 with file:line.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.py"),
        "from airflow.sdk import DAG\n\nwith DAG('bad') as dag:\n    x = (\n",
    )
    .unwrap();
    let mut c = leoflow(home.path());
    c.arg("validate").arg(dir.path());
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(
        err.contains("bad.py:4") || err.contains("bad.py:5"),
        "{err}"
    );
}

#[test]
fn leoflow_yaml_errors_name_the_nearest_valid_key_and_task() {
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    std::fs::write(
        proj.path().join("dag.py"),
        "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\nwith DAG('proj'):\n    BashOperator(task_id='extract', bash_command='echo $A', env={'A': '1'})\n",
    )
    .unwrap();
    let yaml = |s: &str| std::fs::write(proj.path().join("leoflow.yaml"), s).unwrap();
    let validate = || {
        let mut c = leoflow(home.path());
        c.arg("validate").arg(proj.path()).arg("--json");
        run(c)
    };
    yaml("dag_id: proj\ntasks:\n  extrct:\n    retries: 2\n");
    let (code, _, err) = validate();
    assert_eq!(code, 1);
    assert!(
        err.contains("`tasks.extrct`") && err.contains("did you mean `extract`?"),
        "{err}"
    );

    yaml("dag_id: proj\ndefualts:\n  retries: 2\n");
    let (code, _, err) = validate();
    assert_eq!(code, 1);
    assert!(
        err.contains("leoflow.yaml:2") && err.contains("did you mean `defaults`?"),
        "{err}"
    );

    yaml(
        "dag_id: proj\nowner: data\ndefaults:\n  retries: 2\ntasks:\n  extract:\n    retries: 5\n    env:\n      B: \"2\"\n",
    );
    let (code, out, err) = validate();
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let t = &v[0]["dags"][0]["tasks"][0];
    assert_eq!(t["retries"], 5);
    assert_eq!(t["owner"], "data");
    assert_eq!(t["args"]["env"], serde_json::json!({"A": "1", "B": "2"}));

    yaml(
        "dag_id: proj\ntasks:\n  extract:\n    resources:\n      limits:\n        memory: 5 gigs\n",
    );
    let (code, _, err) = validate();
    assert_eq!(code, 1);
    assert!(
        err.contains("`resources.limits.memory` of task \"extract\"")
            && err.contains("\"5 gigs\" is not a memory quantity")
            && err.contains("512Mi"),
        "{err}"
    );
}
