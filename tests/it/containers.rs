//! Tasks in local containers on a real engine (issue #12): Podman's Docker-compatible
//! service in CI (started by `scripts/test`), with images built from this machine's files
//! (`engine_images`).

use std::time::Duration;

use serde_json::json;

use crate::engine_images::{
    PYTHON_IMAGE, SHELL_IMAGE, docker_host, images, inspect, leftovers, with_engine,
};
use crate::support::*;

const WAIT: Duration = Duration::from_secs(90);

/// A server with the engine reachable (`DOCKER_HOST`) and `extra` arguments.
fn server(home: &std::path::Path, envs: &[(&str, &str)], extra: &[&str]) -> Server {
    images();
    let mut cmd = leoflow(home);
    cmd.env("DOCKER_HOST", docker_host());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    Server::start_with(cmd, home, extra)
}

/// A Leoflow project folder (its `leoflow.yaml` naming `base_image`) holding `dag.py`.
fn project(root: &std::path::Path, dag_id: &str, image: &str, dag: &str) -> std::path::PathBuf {
    project_with(root, dag_id, image, dag, "")
}

/// [`project`] with more `leoflow.yaml` lines.
fn project_with(
    root: &std::path::Path,
    dag_id: &str,
    image: &str,
    dag: &str,
    yaml: &str,
) -> std::path::PathBuf {
    let dir = root.join(dag_id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("leoflow.yaml"),
        format!("schema_version: \"1.0\"\ndag_id: {dag_id}\nbase_image: {image}\n{yaml}"),
    )
    .unwrap();
    std::fs::write(dir.join("dag.py"), dag).unwrap();
    dir
}

/// `--executor docker`: a DAG whose project names an image runs its bash and Python tasks in
/// it (as a non-root user, read-only root), with XCom between them.
#[test]
fn executor_docker_runs_a_projects_tasks_in_its_image() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    project(
        dags.path(),
        "in_image",
        PYTHON_IMAGE,
        r#"
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG("in_image", schedule=None):
    who = BashOperator(
        task_id="who",
        bash_command="id -u; touch /not-writable 2>/dev/null && echo ROOT-WRITABLE; echo {{ params.get('x', 5) }}",
    )

    @task
    def double(v):
        import os
        assert os.path.exists("/leoflow/runtime/boot.py"), "not in the image"
        return int(v) * 2

    double(who.output)
"#,
    );
    let s = server(
        home.path(),
        &[],
        &["--executor", "docker", dags.path().to_str().unwrap()],
    );
    // The banner is read from the server's output as it comes: wait for its last line.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !s.output().contains("Stop") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        s.output().contains("Podman") || s.output().contains("Docker"),
        "{}",
        s.output()
    );
    let run_id = trigger_when_parsed(&s, "in_image", json!({}), WAIT);
    let (run, tis) = run_result(&s, "in_image", &run_id, WAIT);
    let log = try_log(home.path(), "in_image", &run_id, "who", 1);
    assert_eq!(run["state"], "success", "{tis:?}\n{log}\n{}", s.output());
    assert!(log.contains("65534"), "not the unprivileged user: {log}");
    assert!(!log.contains("ROOT-WRITABLE"), "{log}");
    let (_, x) = get_json(&s.url(&format!(
        "/api/v2/dags/in_image/dagRuns/{}/taskInstances/double/xcomEntries/return_value",
        enc_run(&run_id)
    )));
    assert_eq!(x["value"], 10, "{x}");
    let _ = SHELL_IMAGE;
}

/// Waits (bounded) until `pred` holds for the containers labelled with `run_id`.
fn wait_containers(run_id: &str, what: &str, pred: impl Fn(&[(String, String)]) -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let now = leftovers("io.leoflow.run_id", run_id);
        if pred(&now) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: containers of {run_id} are {now:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A container task sees none of the server's environment, no capabilities, no privilege
/// escalation, no network but loopback, a read-only root and an unprivileged user.
#[test]
fn container_tasks_are_hardened_and_get_no_server_secrets() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    project(
        dags.path(),
        "hardened",
        SHELL_IMAGE,
        r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("hardened", schedule=None):
    BashOperator(
        task_id="probe",
        bash_command=(
            "echo uid=$(id -u); "
            "grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status; "
            "echo nets=$(ls /sys/class/net | tr '\\n' ,); "
            "(echo x > /etc/x) 2>/dev/null && echo ROOT-WRITABLE; "
            "echo tmp-ok > /tmp/t && cat /tmp/t; "
            "env | grep -c -e sekrit -e LEOFLOW_ || true"
        ),
    )
"#,
    );
    let s = server(
        home.path(),
        &[
            ("AWS_SECRET_ACCESS_KEY", "sekrit-value"),
            ("LEOFLOW_ADMIN_PASSWORD", "sekrit-admin"),
        ],
        &["--executor", "docker", dags.path().to_str().unwrap()],
    );
    let run_id = trigger_when_parsed(&s, "hardened", json!({}), WAIT);
    let (run, _) = run_result(&s, "hardened", &run_id, WAIT);
    let log = try_log(home.path(), "hardened", &run_id, "probe", 1);
    assert_eq!(run["state"], "success", "{log}\n{}", s.output());
    assert!(log.contains("uid=65534"), "{log}");
    for cap in ["CapEff", "CapPrm", "CapBnd"] {
        assert!(
            log.lines()
                .any(|l| l.starts_with(cap) && l.ends_with("0000000000000000")),
            "{cap} not empty: {log}"
        );
    }
    assert!(
        log.lines()
            .any(|l| l.starts_with("NoNewPrivs") && l.ends_with('1')),
        "{log}"
    );
    assert!(
        log.contains("nets=lo,"),
        "a network besides loopback: {log}"
    );
    assert!(!log.contains("ROOT-WRITABLE"), "{log}");
    assert!(log.contains("tmp-ok"), "{log}");
    // The last line counts the environment variables naming a secret or the server's settings.
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[lines.len() - 2], "0", "{log}");
    // Removed once done.
    wait_containers(&run_id, "after the run", |c| c.is_empty());
}

/// `execution_timeout` kills the container: the try fails saying so and the container is gone.
#[test]
fn a_container_task_past_its_timeout_is_killed_and_removed() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    project(
        dags.path(),
        "slow_box",
        SHELL_IMAGE,
        r#"
from datetime import timedelta
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("slow_box", schedule=None):
    BashOperator(task_id="nap", bash_command="echo started; sleep 300",
                 execution_timeout=timedelta(seconds=2))
"#,
    );
    let s = server(
        home.path(),
        &[],
        &["--executor", "docker", dags.path().to_str().unwrap()],
    );
    let run_id = trigger_when_parsed(&s, "slow_box", json!({}), WAIT);
    let (run, tis) = run_result(&s, "slow_box", &run_id, WAIT);
    let log = try_log(home.path(), "slow_box", &run_id, "nap", 1);
    assert_eq!(run["state"], "failed", "{tis:?}");
    assert_eq!(tis["nap"]["state"], "failed");
    assert!(log.contains("started"), "{log}");
    assert!(
        log.to_lowercase().contains("timeout") || log.contains("timed out"),
        "{log}"
    );
    wait_containers(&run_id, "after the timeout", |c| c.is_empty());
}

/// A server killed with SIGKILL mid-task leaves its container running; the next server on the
/// same home kills and removes it. The container has the limits of the settings and of the
/// project's `resources.limits`.
#[test]
fn a_restarted_server_removes_the_containers_a_killed_one_left() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    project_with(
        dags.path(),
        "orphan_box",
        SHELL_IMAGE,
        r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("orphan_box", schedule=None):
    BashOperator(task_id="nap", bash_command="sleep 300")
"#,
        "tasks:\n  nap:\n    resources:\n      limits:\n        memory: 128Mi\n        cpu: 250m\n",
    );
    let args = ["--executor", "docker", dags.path().to_str().unwrap()];
    let limits = [
        ("LEOFLOW_CONTAINER_MEMORY", "256m"),
        ("LEOFLOW_CONTAINER_CPUS", "0.5"),
        ("LEOFLOW_CONTAINER_PIDS", "64"),
    ];
    let s = server(home.path(), &limits, &args);
    let run_id = trigger_when_parsed(&s, "orphan_box", json!({}), WAIT);
    wait_containers(&run_id, "starting", |c| {
        c.iter()
            .any(|(_, state)| state.eq_ignore_ascii_case("running"))
    });
    // The engine holds the limits the settings asked for.
    let (id, _) = leftovers("io.leoflow.run_id", &run_id).remove(0);
    let c = inspect(&id);
    let host = c.host_config.unwrap();
    assert_eq!(host.privileged, Some(false));
    assert_eq!(host.readonly_rootfs, Some(true));
    // pids from the settings; memory and CPU from the project's limits, over the settings'.
    assert_eq!(host.pids_limit, Some(64), "{host:?}");
    assert_eq!(host.memory, Some(128 << 20), "{host:?}");
    assert_eq!(host.nano_cpus, Some(250_000_000), "{host:?}");
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    // Docker echoes `ALL`; Podman lists the capabilities it dropped.
    let dropped = host.cap_drop.unwrap_or_default();
    assert!(
        dropped.iter().any(|c| c.eq_ignore_ascii_case("all"))
            || ["CHOWN", "SETUID", "NET_RAW", "KILL"]
                .iter()
                .all(|c| dropped.iter().any(|d| d == c)),
        "capabilities kept: dropped only {dropped:?}"
    );
    assert!(host.cap_add.unwrap_or_default().is_empty());
    assert!(
        host.security_opt
            .unwrap_or_default()
            .iter()
            .any(|o| o.starts_with("no-new-privileges")),
        "no-new-privileges missing"
    );
    let labels = c.config.unwrap().labels.unwrap_or_default();
    assert_eq!(labels["io.leoflow.dag_id"], "orphan_box");
    assert_eq!(labels["io.leoflow.task_id"], "nap");
    s.stop(libc::SIGKILL);
    // Still there: nobody stopped it.
    assert!(!leftovers("io.leoflow.run_id", &run_id).is_empty());
    let s = server(home.path(), &[], &args);
    wait_containers(&run_id, "after the restart", |c| c.is_empty());
    // Its try failed (no retries left), as for a subprocess task.
    let (run, tis) = run_result(&s, "orphan_box", &run_id, WAIT);
    assert_eq!(run["state"], "failed", "{tis:?}");
    assert_eq!(tis["nap"]["state"], "failed");
}

/// The XCom value of `task_id` (its `return_value` unless `key`).
fn xcom(s: &Server, dag_id: &str, run_id: &str, task_id: &str, key: &str) -> serde_json::Value {
    let (status, x) = get_json(&s.url(&format!(
        "/api/v2/dags/{dag_id}/dagRuns/{}/taskInstances/{task_id}/xcomEntries/{key}",
        enc_run(run_id)
    )));
    assert_eq!(status, 200, "{task_id} {key}: {x}");
    x["value"].clone()
}

/// Airflow's `DockerOperator`, with the default subprocess executor: templated command and
/// environment, XCom from the last line or every line, `private_environment`, skip and failing
/// exit codes, read-only and writable bind mounts, `retrieve_output`.
#[test]
fn docker_operator_runs_with_airflows_arguments() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("in.txt"), "from the host").unwrap();
    let out = tempfile::tempdir().unwrap();
    // The container's user (65534) writes here.
    std::fs::set_permissions(
        out.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let dag = r#"
from airflow.sdk import DAG
from airflow.providers.docker.operators.docker import DockerOperator

IMAGE = "SHELL"
with DAG("docker_op", schedule=None, params={"word": "hello"}):
    DockerOperator(task_id="last", image=IMAGE,
                   command="sh -c 'echo first; echo {{ params.word }}-$WHO'",
                   environment={"WHO": "{{ dag.dag_id }}"})
    DockerOperator(task_id="every", image=IMAGE, command=["sh", "-c", "echo a; echo b"],
                   xcom_all=True)
    DockerOperator(task_id="private", image=IMAGE, command="sh -c 'echo token=$TOKEN'",
                   private_environment={"TOKEN": "tok-123"})
    DockerOperator(task_id="skips", image=IMAGE, command="sh -c 'exit 3'",
                   skip_on_exit_code=3)
    DockerOperator(task_id="fails", image=IMAGE, command="sh -c 'echo broken >&2; exit 4'")
    DockerOperator(task_id="mounts", image=IMAGE,
                   command="sh -c 'cat /data/in.txt; (echo x > /data/x) 2>/dev/null || echo data-read-only; echo written > /out/result.txt'",
                   mounts=[{"source": "DATA", "target": "/data", "type": "bind"},
                           {"source": "OUT", "target": "/out", "type": "bind", "read_only": False}])
    DockerOperator(task_id="retrieved", image=IMAGE,
                   command=["sh", "-c", "echo '{\"rows\": 3}' > /tmp/airflow/out.json"],
                   retrieve_output=True, retrieve_output_path="/tmp/airflow/out.json")
"#
    .replace("SHELL", SHELL_IMAGE)
    .replace("DATA", data.path().to_str().unwrap())
    .replace("OUT", out.path().to_str().unwrap());
    std::fs::write(dags.path().join("docker_op.py"), dag).unwrap();
    let s = server(home.path(), &[], &[dags.path().to_str().unwrap()]);
    let run_id = trigger_when_parsed(&s, "docker_op", json!({}), WAIT);
    let (run, tis) = run_result(&s, "docker_op", &run_id, WAIT);
    let log = |t: &str| try_log(home.path(), "docker_op", &run_id, t, 1);
    let state = |t: &str| tis[t]["state"].as_str().unwrap().to_string();
    assert_eq!(run["state"], "failed", "`fails` fails the run");
    for t in ["last", "every", "private", "mounts", "retrieved"] {
        assert_eq!(state(t), "success", "{t}: {}\n{}", log(t), s.output());
    }
    assert_eq!(
        xcom(&s, "docker_op", &run_id, "last", "return_value"),
        "hello-docker_op",
        "{}",
        log("last")
    );
    assert!(log("last").contains("first"), "{}", log("last"));
    assert_eq!(
        tis["last"]["rendered_fields"]["command"],
        "sh -c 'echo first; echo hello-$WHO'"
    );
    assert_eq!(
        xcom(&s, "docker_op", &run_id, "every", "return_value"),
        json!(["a", "b"])
    );
    assert_eq!(
        xcom(&s, "docker_op", &run_id, "private", "return_value"),
        "token=tok-123"
    );
    assert!(
        !tis["private"].to_string().contains("tok-123"),
        "a private value in the API: {}",
        tis["private"]
    );
    assert_eq!(state("skips"), "skipped", "{}", log("skips"));
    assert_eq!(state("fails"), "failed");
    assert!(log("fails").contains("broken"), "{}", log("fails"));
    assert!(log("fails").contains("exit code 4"), "{}", log("fails"));
    let m = log("mounts");
    assert!(
        m.contains("from the host") && m.contains("data-read-only"),
        "{m}"
    );
    assert!(!data.path().join("x").exists());
    assert_eq!(
        std::fs::read_to_string(out.path().join("result.txt")).unwrap(),
        "written\n"
    );
    assert_eq!(
        xcom(&s, "docker_op", &run_id, "retrieved", "return_value"),
        json!({"rows": 3})
    );
    // auto_remove defaults to "never", as in Airflow: the ended containers stay for
    // inspection, none running.
    wait_containers(&run_id, "after the run", |c| {
        c.len() == 7
            && c.iter()
                .all(|(_, state)| state.eq_ignore_ascii_case("exited"))
    });
    remove_containers(&run_id);
}

/// Removes the containers of `run_id` (those a test left by `auto_remove="never"`).
fn remove_containers(run_id: &str) {
    let ids: Vec<String> = leftovers("io.leoflow.run_id", run_id)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    with_engine(async |docker| {
        for id in ids {
            let opts = bollard::query_parameters::RemoveContainerOptionsBuilder::default()
                .force(true)
                .build();
            let _ = docker.remove_container(&id, Some(opts)).await;
        }
    });
}

/// Two map indexes of a mapped `DockerOperator` run at the same time, each in its container.
#[test]
fn mapped_container_tasks_run_in_parallel() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let dag = r#"
from airflow.sdk import DAG
from airflow.providers.docker.operators.docker import DockerOperator

with DAG("box_map", schedule=None):
    DockerOperator.partial(task_id="each", image="SHELL", auto_remove="force").expand(
        command=["sh -c 'sleep 1; echo one'", "sh -c 'sleep 1; echo two'"]
    )
"#
    .replace("SHELL", SHELL_IMAGE);
    std::fs::write(dags.path().join("box_map.py"), dag).unwrap();
    let s = server(home.path(), &[], &[dags.path().to_str().unwrap()]);
    let run_id = trigger_when_parsed(&s, "box_map", json!({}), WAIT);
    let (run, tis) = run_result(&s, "box_map", &run_id, WAIT);
    assert_eq!(run["state"], "success", "{tis:?}");
    let span = |k: &str| {
        let t = &tis[k];
        let at = |f: &str| {
            chrono::DateTime::parse_from_rfc3339(t[f].as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        };
        (at("start_date"), at("end_date"))
    };
    let (a, b) = (span("each[0]"), span("each[1]"));
    assert!(
        a.0 < b.1 && b.0 < a.1,
        "the two containers did not overlap: {a:?} {b:?}"
    );
    let (_, x) = get_json(&s.url(&format!(
        "/api/v2/dags/box_map/dagRuns/{}/taskInstances/each/xcomEntries/return_value?map_index=1",
        enc_run(&run_id)
    )));
    assert_eq!(x["value"], "two", "{x}");
    wait_containers(&run_id, "auto_remove=force", |c| c.is_empty());
}

/// `@task.docker`: the function runs in the image with its arguments, its dict result split
/// by `multiple_outputs`, as JSON through the exchange folder; a raising function fails the try
/// with its traceback in the log.
#[test]
fn task_docker_runs_the_function_in_its_image() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    let dag = r#"
from airflow.sdk import DAG, task

with DAG("py_box", schedule=None):
    @task
    def base():
        return 41

    @task.docker(image="PYTHON", multiple_outputs=True, auto_remove="force")
    def compute(x, values, scale=1):
        import os, sys
        return {"total": (x + sum(values)) * scale, "uid": os.getuid(),
                "python": sys.executable}

    @task.docker(image="PYTHON", auto_remove="force")
    def boom():
        raise ValueError("no good")

    @task
    def report(total):
        return "total=%s" % total

    r = compute(base(), [1, 2], scale=2)
    report(r["total"])
    boom()
"#
    .replace("PYTHON", PYTHON_IMAGE);
    std::fs::write(dags.path().join("py_box.py"), dag).unwrap();
    let s = server(home.path(), &[], &[dags.path().to_str().unwrap()]);
    let run_id = trigger_when_parsed(&s, "py_box", json!({}), WAIT);
    let (_, tis) = run_result(&s, "py_box", &run_id, WAIT);
    let log = |t: &str| try_log(home.path(), "py_box", &run_id, t, 1);
    assert_eq!(tis["compute"]["state"], "success", "{}", log("compute"));
    assert_eq!(tis["report"]["state"], "success", "{}", log("report"));
    assert_eq!(xcom(&s, "py_box", &run_id, "compute", "total"), 88);
    assert_eq!(xcom(&s, "py_box", &run_id, "compute", "uid"), 65534);
    assert_eq!(
        xcom(&s, "py_box", &run_id, "report", "return_value"),
        "total=88"
    );
    assert_eq!(tis["boom"]["state"], "failed");
    let b = log("boom");
    assert!(b.contains("ValueError: no good"), "{b}");
    assert!(b.contains("exit code 1"), "{b}");
}

/// What cannot run is said plainly: a parameter a hardened engine refuses is an import error
/// at the DAG's line; an image that cannot be pulled fails its task naming it; no engine at
/// all fails the task naming where it looked.
#[test]
fn container_problems_name_their_cause() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(
        dags.path().join("refused.py"),
        r#"from airflow.sdk import DAG
from airflow.providers.docker.operators.docker import DockerOperator

with DAG("refused", schedule=None):
    DockerOperator(task_id="root", image="busybox", privileged=True)
"#,
    )
    .unwrap();
    std::fs::write(
        dags.path().join("no_image.py"),
        r#"from airflow.sdk import DAG
from airflow.providers.docker.operators.docker import DockerOperator

with DAG("no_image", schedule=None):
    DockerOperator(task_id="pull", image="localhost:1/leoflow-test/absent:1", command="true")
"#,
    )
    .unwrap();
    let s = server(home.path(), &[], &[dags.path().to_str().unwrap()]);
    let run_id = trigger_when_parsed(&s, "no_image", json!({}), WAIT);
    let deadline = std::time::Instant::now() + WAIT;
    let e = loop {
        let (_, errors) = get_json(&s.url("/api/v2/importErrors"));
        let found = errors["import_errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["filename"].as_str().unwrap().ends_with("refused.py"))
            .cloned();
        if let Some(e) = found {
            break e;
        }
        assert!(std::time::Instant::now() < deadline, "{errors}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let trace = e["stack_trace"].as_str().unwrap();
    assert!(trace.contains("'privileged'"), "{trace}");
    assert!(trace.contains("refused.py\", line 5"), "{trace}");
    let (_, tis) = run_result(&s, "no_image", &run_id, WAIT);
    assert_eq!(tis["pull"]["state"], "failed");
    let log = try_log(home.path(), "no_image", &run_id, "pull", 1);
    assert!(
        log.contains("cannot pull image localhost:1/leoflow-test/absent:1"),
        "{log}"
    );
    drop(s);

    // No engine: the same DAG's task fails naming the socket it tried.
    let home = tempfile::tempdir().unwrap();
    let mut cmd = leoflow(home.path());
    cmd.env("DOCKER_HOST", "unix:///nonexistent/engine.sock");
    let s = Server::start_with(cmd, home.path(), &[dags.path().to_str().unwrap()]);
    let run_id = trigger_when_parsed(&s, "no_image", json!({}), WAIT);
    let (_, tis) = run_result(&s, "no_image", &run_id, WAIT);
    assert_eq!(tis["pull"]["state"], "failed");
    let log = try_log(home.path(), "no_image", &run_id, "pull", 1);
    assert!(log.contains("/nonexistent/engine.sock"), "{log}");
}
