//! Container tries at the task level: what a container's end means for the try.
//!
//! - [`run_request`]: `DockerOperator` and `@task.docker`, prepared by the Python runtime
//!   (a `container` request, `python/PROTOCOL.md`): exit 0 succeeds with XCom from the output
//!   (the last line, or every line with `xcom_all`), from `retrieve_output_path`, or, for
//!   `@task.docker`, from `output.json` in the exchange folder (split by `multiple_outputs`);
//!   an exit code in `skip_on_exit_code` skips; anything else fails with the code.
//! - [`run_in_image`]: with `--executor docker`, a task whose DAG or task names an image: a
//!   bash task runs `bash -c` there, any other the Python runtime (mounted read-only, with the
//!   DAG folder) through `boot.py run-ti`, its log and result in the exchange folder.
//!
//! **Invariant:** a container's environment is the task's alone (its `environment`, or the
//! scrubbed task environment), never the server's; the exchange folder is removed after the
//! try.
//!
//! Called by `subprocess` (tasks in their image) and `python` (a `container` result).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::container::{Bind, EXCHANGE, Ended, Spec, exchange_dir, make_exchange};
use super::log::{LogWriter, Tail};
use super::process::{task_env, timed_out};
use super::python::{TiPaths, apply_result, take_result, ti_object};
use super::subprocess::{Ctx, failed};
use super::template::Renderer;
use super::{Outcome, TaskOutcome};
use crate::dag::project::{cpu_quantity, memory_quantity};
use crate::dag::registered::ENTRYPOINT;

/// The `PATH` a task gets inside an image (the server's own means nothing there).
const IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Where the runtime and the DAG folder are mounted (read-only) for a task run in its image.
const RUNTIME: &str = "/leoflow/runtime";
const DAGS: &str = "/leoflow/dags";

/// Runs the runtime's `container` request `result` (its exchange folder: `exchange`).
pub(super) async fn run_request(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    result: &Value,
    exchange: Option<&Path>,
) -> (Outcome, BTreeMap<String, Value>) {
    let mut rendered = BTreeMap::new();
    if let Value::Object(fields) = &result["rendered_fields"] {
        rendered.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let mut spec: Spec = match serde_json::from_value(result["container"].clone()) {
        Ok(s) => s,
        Err(e) => {
            let e = format!("the task runtime's container request does not parse: {e}");
            log.line("leoflow", Some("error"), &e).await;
            return (failed(e), rendered);
        }
    };
    let mut binds = Vec::new();
    if let Some(dir) = exchange {
        binds.push(Bind {
            source: dir.display().to_string(),
            target: EXCHANGE.into(),
            read_only: false,
        });
        if spec.mount_tmp_dir {
            // Airflow's mount_tmp_dir: a host folder for big temporary files, at
            // AIRFLOW_TMP_DIR (the container's own /tmp is a small tmpfs).
            let tmp = dir.join("tmp");
            if make_exchange(&tmp).await.is_ok() {
                binds.push(Bind {
                    source: tmp.display().to_string(),
                    target: "/tmp/airflow".into(),
                    read_only: false,
                });
                spec.environment
                    .insert("AIRFLOW_TMP_DIR".into(), "/tmp/airflow".into());
            }
        }
    }
    let ended = match ctx
        .containers
        .run(ctx.req, log, &spec, &binds, false, None)
        .await
    {
        Ok(e) => e,
        Err(e) => {
            log.line("leoflow", Some("error"), &e).await;
            return (failed(e), rendered);
        }
    };
    if ended.timed_out {
        let e = timed_out(ctx.req.timeout, "its container");
        log.line("leoflow", Some("error"), &e).await;
        return (failed(e), rendered);
    }
    match ended.exit_code {
        0 => {
            let value = match container_value(ctx, &spec, &ended, exchange).await {
                Ok(v) => v,
                Err(e) => {
                    log.line("leoflow", Some("error"), &e).await;
                    return (failed(e), rendered);
                }
            };
            (ctx.succeed(log, value).await, rendered)
        }
        code if spec.skip_on_exit_code.contains(&code) => {
            log.line(
                "leoflow",
                Some("info"),
                &format!("Exit code {code} is in skip_on_exit_code: task skipped"),
            )
            .await;
            (Outcome::Skipped, rendered)
        }
        code => {
            let e = format!("Docker container failed: exit code {code}");
            log.line("leoflow", Some("error"), &e).await;
            (failed(e), rendered)
        }
    }
}

/// The return value of a successful container: `@task.docker`'s `output.json` (its other
/// `multiple_outputs` keys pushed here), the retrieved file, or the output lines.
async fn container_value(
    ctx: &Ctx<'_>,
    spec: &Spec,
    ended: &Ended,
    exchange: Option<&Path>,
) -> Result<Option<Value>, String> {
    if let Some(py) = &spec.python {
        let path = exchange
            .map(|d| d.join("output.json"))
            .ok_or("@task.docker ran without its exchange folder")?;
        let out: Value = tokio::fs::read(&path)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                "@task.docker: the function wrote no output.json (did the image's python3 run the script?)"
                    .to_string()
            })?;
        let value = out["return_value"].clone();
        if py.multiple_outputs {
            let Value::Object(m) = &value else {
                return Err(format!(
                    "multiple_outputs needs the function to return a dict, not {value}"
                ));
            };
            for (k, v) in m {
                ctx.push(k, v)?;
            }
        }
        return Ok((!value.is_null()).then_some(value));
    }
    if spec.retrieve_output {
        return Ok(ended.output.clone());
    }
    if !spec.do_xcom_push {
        return Ok(None);
    }
    Ok(if spec.xcom_all {
        Some(json!(ended.lines))
    } else {
        ended.lines.last().map(|l| json!(l))
    })
}

/// The environment of a task inside its image: the scrubbed task environment, with the
/// image's own `PATH` and a `HOME` it can write.
fn image_env(ctx: &Ctx<'_>, extra: Option<&Value>) -> BTreeMap<String, String> {
    let mut env = task_env(ctx.req, extra);
    env.insert("PATH".into(), IMAGE_PATH.into());
    env.insert("HOME".into(), "/tmp".into());
    env
}

/// The container of a task run in its image: the image, and the limits its project's
/// `resources.limits` set (`leoflow.yaml`, checked when the project loaded) over the settings'.
fn in_image(image: &str, task: &crate::dag::model::Task) -> Spec {
    let limits = &task.extra.get("resources").map(|r| &r["limits"]);
    let text = |key: &str| {
        limits
            .and_then(|l| l.get(key))
            .map(|v| v.as_str().map(String::from).unwrap_or(v.to_string()))
    };
    Spec {
        image: image.into(),
        mem_limit: text("memory").and_then(|v| memory_quantity(&v).ok()),
        cpus: text("cpu").and_then(|v| cpu_quantity(&v).ok()),
        ..Default::default()
    }
}

/// Runs a task in the image it names (`--executor docker`).
pub(super) async fn run_in_image(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    out: &mut TaskOutcome,
    image: &str,
) -> (Outcome, BTreeMap<String, Value>) {
    let t = &ctx.req.task;
    if t.kind == "bash" && t.mapped.is_none() && super::bash::is_native(&t.args) {
        bash_in_image(ctx, log, image).await
    } else {
        python_in_image(ctx, log, out, image).await
    }
}

/// A bash task as `bash -c` in its image.
async fn bash_in_image(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    image: &str,
) -> (Outcome, BTreeMap<String, Value>) {
    let (req, t) = (ctx.req, &ctx.req.task);
    let mut rendered = BTreeMap::new();
    let renderer = Renderer::new(&req.context, ctx.xcom, &t.task_id);
    let rendered_cmd = renderer.render(
        "bash_command",
        t.args
            .get("bash_command")
            .and_then(|v| v.as_str())
            .unwrap_or_default(),
    );
    let env_value = match t.args.get("env") {
        Some(v @ Value::Object(_)) => renderer.render_value("env", v).map(Some),
        _ => Ok(None),
    };
    let (cmd, env_value) = match (rendered_cmd, env_value) {
        (Ok(c), Ok(e)) => (c, e),
        (Err(e), _) | (_, Err(e)) => {
            log.line("leoflow", Some("error"), &e).await;
            return (failed(e), rendered);
        }
    };
    rendered.insert("bash_command".into(), json!(cmd));
    let skip = t
        .args
        .get("skip_on_exit_code")
        .and_then(|v| v.as_i64())
        .unwrap_or(99);
    let spec = Spec {
        command: Some(vec!["bash".into(), "-c".into(), cmd]),
        environment: image_env(ctx, env_value.as_ref()),
        skip_on_exit_code: vec![skip],
        do_xcom_push: true,
        ..in_image(image, &ctx.req.task)
    };
    match ctx.containers.run(req, log, &spec, &[], true, None).await {
        Ok(e) if e.timed_out => {
            let e = timed_out(req.timeout, "its container");
            log.line("leoflow", Some("error"), &e).await;
            (failed(e), rendered)
        }
        Ok(e) if e.exit_code == 0 => (
            ctx.succeed(log, e.last_stdout.map(|l| json!(l))).await,
            rendered,
        ),
        Ok(e) if e.exit_code == skip => (Outcome::Skipped, rendered),
        Ok(e) => {
            let e = format!(
                "Bash command failed. The command returned a non-zero exit code {}.",
                e.exit_code
            );
            log.line("leoflow", Some("error"), &e).await;
            (failed(e), rendered)
        }
        Err(e) => {
            log.line("leoflow", Some("error"), &e).await;
            (failed(e), rendered)
        }
    }
}

/// Any other task through the Python runtime inside its image (`boot.py run-ti`): the runtime
/// and the DAG folder mounted read-only, the TI, its log and its result in the exchange
/// folder; the log is copied into the try's log as it grows.
async fn python_in_image(
    ctx: &Ctx<'_>,
    log: &mut LogWriter,
    out: &mut TaskOutcome,
    image: &str,
) -> (Outcome, BTreeMap<String, Value>) {
    let req = ctx.req;
    let (_, runtime) = match ctx.python.get().await {
        Ok(x) => x,
        Err(e) => return (failed(e), BTreeMap::new()),
    };
    let dir = exchange_dir(ctx.python.root(), req);
    if let Err(e) = make_exchange(&dir).await {
        return (failed(e), BTreeMap::new());
    }
    let relative = req
        .dag_file
        .strip_prefix(&req.dags_folder)
        .unwrap_or(Path::new(req.dag_file.file_name().unwrap_or_default()));
    let paths = TiPaths {
        dag_file: Path::new(DAGS).join(relative),
        dags_folder: DAGS.into(),
        log_path: Path::new(EXCHANGE).join("log.ndjson"),
        result_path: Path::new(EXCHANGE).join("result.json"),
        exchange_dir: Some(EXCHANGE.into()),
    };
    let mut env = image_env(ctx, req.task.args.get("env"));
    env.insert("PYTHONUNBUFFERED".into(), "1".into());
    let ti = match ti_object(ctx, &paths, env.clone()) {
        Ok(ti) => ti,
        Err(e) => return (failed(e), BTreeMap::new()),
    };
    let written = serde_json::to_vec(&ti)
        .map_err(|e| e.to_string())
        .map(|b| std::fs::write(dir.join("ti.json"), b).map_err(|e| e.to_string()));
    if let Err(e) | Ok(Err(e)) = written {
        return (failed(e), BTreeMap::new());
    }
    let spec = Spec {
        command: Some(vec![
            "python3".into(),
            "-B".into(),
            format!("{RUNTIME}/boot.py"),
            "run-ti".into(),
            format!("{EXCHANGE}/ti.json"),
        ]),
        environment: env,
        ..in_image(image, &ctx.req.task)
    };
    let mut binds = vec![
        Bind {
            source: runtime.display().to_string(),
            target: RUNTIME.into(),
            read_only: true,
        },
        Bind {
            source: dir.display().to_string(),
            target: EXCHANGE.into(),
            read_only: false,
        },
    ];
    // A registered DAG's code is in its image; only a parsed DAG needs the folder.
    if req.task.kind != ENTRYPOINT {
        binds.push(Bind {
            source: req.dags_folder.display().to_string(),
            target: DAGS.into(),
            read_only: true,
        });
    }
    let mut tail = Tail::new(&dir.join("log.ndjson")).await;
    let ended = ctx
        .containers
        .run(req, log, &spec, &binds, true, Some(&mut tail))
        .await;
    let result = take_result(&dir.join("result.json")).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    let status = match ended {
        Ok(e) if e.timed_out => Err(timed_out(req.timeout, "its container")),
        Ok(e) => Ok(e.exit_code),
        Err(e) => Err(e),
    };
    if let Err(e) = &status
        && result.is_none()
    {
        log.line("leoflow", Some("error"), e).await;
    }
    apply_result(ctx, log, out, result, status).await
}
