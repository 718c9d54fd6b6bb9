//! Bash tasks (`BashOperator`, `@task.bash` with a literal command): the Jinja-rendered
//! `bash_command` runs as `bash -c` in its own process group with the rendered `env`; every
//! output line goes to the try's log; the last stdout line is the XCom when `do_xcom_push`;
//! exit code `skip_on_exit_code` (default 99) skips; `execution_timeout` kills the group.
//!
//! **Invariant:** the command never inherits the server's environment (`env_clear`, then
//! [`task_env`]); whatever it leaves running in its group is killed when it exits.
//!
//! Called by `subprocess` for a try whose task kind is `bash`.

use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::log::LogWriter;
use super::process::{task_env, timed_out, until};
use super::subprocess::{Ctx, failed};
use super::template::Renderer;
use super::{Outcome, TaskRequest};

/// Whether `args` hold a command this module can run (a literal string `bash_command`).
pub(super) fn is_native(args: &serde_json::Map<String, Value>) -> bool {
    args.get("bash_command").is_some_and(|c| c.is_string())
}

/// Runs a bash task's try; its outcome and rendered template fields.
pub(super) async fn run(ctx: &Ctx<'_>, log: &mut LogWriter) -> (Outcome, BTreeMap<String, Value>) {
    let (req, t) = (ctx.req, &ctx.req.task);
    let mut rendered = BTreeMap::new();
    let renderer = Renderer::new(&req.context, ctx.xcom, &t.task_id);
    let cmd = match renderer.render(
        "bash_command",
        t.args
            .get("bash_command")
            .and_then(|v| v.as_str())
            .unwrap_or_default(),
    ) {
        Ok(c) => c,
        Err(e) => {
            log.line("leoflow", Some("error"), &e).await;
            return (failed(e), rendered);
        }
    };
    rendered.insert("bash_command".into(), json!(cmd));
    let env_value = match t.args.get("env") {
        Some(v @ Value::Object(_)) => match renderer.render_value("env", v) {
            Ok(v) => Some(v),
            Err(e) => return (failed(e), rendered),
        },
        _ => None,
    };
    if let Some(v) = &env_value {
        rendered.insert("env".into(), v.clone());
    }
    let mut env = task_env(req, env_value.as_ref());
    if t.args.get("append_env").and_then(|v| v.as_bool()) == Some(true) {
        // Airflow's append_env adds the task env to the worker's; Lite's worker env is the
        // scrubbed base above, never the server's own.
        env.extend(task_env(req, None));
    }
    let cwd = t
        .args
        .get("cwd")
        .and_then(|v| v.as_str())
        .map(std::path::PathBuf::from);
    let skip_code = t
        .args
        .get("skip_on_exit_code")
        .and_then(|v| v.as_i64())
        .unwrap_or(99);
    let outcome = run_process(
        ctx,
        std::path::Path::new("bash"),
        &["-c".into(), cmd.clone().into()],
        env,
        cwd,
        log,
    )
    .await;
    match outcome {
        Ok((0, last)) => (ctx.succeed(log, last.map(|l| json!(l))).await, rendered),
        Ok((code, _)) if code == skip_code => {
            log.line(
                "leoflow",
                Some("info"),
                &format!("Exit code {code}: task skipped"),
            )
            .await;
            (Outcome::Skipped, rendered)
        }
        Ok((code, _)) => {
            let e =
                format!("Bash command failed. The command returned a non-zero exit code {code}.");
            log.line("leoflow", Some("error"), &e).await;
            (failed(e), rendered)
        }
        Err(e) => {
            log.line("leoflow", Some("error"), &e).await;
            (failed(e), rendered)
        }
    }
}

/// Runs `program args` in its own process group with exactly `env`, streaming its output
/// to the log; `(exit code, last stdout line)`.
async fn run_process(
    ctx: &Ctx<'_>,
    program: &std::path::Path,
    args: &[std::ffi::OsString],
    env: BTreeMap<String, String>,
    cwd: Option<std::path::PathBuf>,
    log: &mut LogWriter,
) -> Result<(i64, Option<String>), String> {
    let req: &TaskRequest = ctx.req;
    let mut c = tokio::process::Command::new(program);
    c.args(args)
        .env_clear()
        .envs(&env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let dir = cwd.unwrap_or_else(std::env::temp_dir);
    c.current_dir(&dir);
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    // Never 0 (which `kill` would read as the server's own group): not yet waited for.
    let pid = child
        .id()
        .ok_or_else(|| format!("{} exited before its pid was known", program.display()))?;
    ctx.started(pid);
    let mut out = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut err = BufReader::new(child.stderr.take().expect("piped")).lines();
    let mut last = None;
    let deadline = req.timeout.map(|t| tokio::time::Instant::now() + t);
    let (mut out_open, mut err_open) = (true, true);
    let timed_out_now = loop {
        if !out_open && !err_open {
            break false;
        }
        tokio::select! {
            l = out.next_line(), if out_open => match l {
                Ok(Some(l)) => { log.line("stdout", None, &l).await; last = Some(l); }
                _ => out_open = false,
            },
            l = err.next_line(), if err_open => match l {
                Ok(Some(l)) => log.line("stderr", None, &l).await,
                _ => err_open = false,
            },
            _ = until(deadline) => break true,
        }
    };
    if timed_out_now {
        ctx.kill(pid);
        let _ = child.wait().await;
        return Err(timed_out(req.timeout, "its process group"));
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    // Anything the command left running in its group goes with it.
    ctx.kill(pid);
    match status.code() {
        Some(c) => Ok((c as i64, last)),
        None => Err("the task's process was killed by a signal".into()),
    }
}
