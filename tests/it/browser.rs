//! The web UI in a real headless Chromium over WebDriver (`webdriver.rs`), against a real
//! `leoflow lite` on a temp home: sign in, the DAG list, trigger with a param, the grid and
//! the log turning live, import errors appearing and vanishing, a new DAG version in an open
//! page, the admin pages and the audit log, deep links, a narrow window, the dark theme.
//!
//! Screenshots of every page land in `target/ui-screenshots/` (test artifacts).
//! "Live" is checked by a marker set on `window` before the change: a reload would drop it.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;
use crate::webdriver::{Browser, WAIT};

const PASSWORD: &str = "browser-test-pass-1";

/// A DAG whose second task prints, sleeps, prints: its log streams while it runs.
const LIVE_DAG: &str = r#"
import pendulum
from airflow.sdk import DAG, Param
from airflow.providers.standard.operators.bash import BashOperator

with DAG(
    dag_id="ui_live",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={"who": Param("world", type="string", description="Who to greet")},
    tags=["ui"],
) as dag:
    hello = BashOperator(task_id="hello", bash_command="echo 'hello {{ params.who }}'")
    slow = BashOperator(
        task_id="slow",
        bash_command="echo 'step one'; sleep 2; echo 'WARNING step two'; echo done",
    )
    hello >> slow
"#;

/// Copies the bundled example DAGs into `dir`.
fn copy_examples(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dags");
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "py") {
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
    }
}

/// A secure server (auth on, admin's password known) on a DAG folder.
fn secure_server(home: &Path, dags: &Path) -> Server {
    let mut cmd = leoflow(home);
    cmd.env("LEOFLOW_ADMIN_PASSWORD", PASSWORD)
        // Airflow's default, which the tests' unpause-then-trigger steps rely on.
        .env("LEOFLOW_DAGS_PAUSED_AT_CREATION", "true");
    Server::start_secure_with(cmd, home, &[dags.to_str().unwrap()])
}

/// Waits (API) until these DAGs are parsed.
fn wait_dags(s: &Server, token: Option<&str>, ids: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in ids {
        loop {
            let mut req = http().get(s.url(&format!("/api/v2/dags/{id}")));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if req.send().unwrap().status() == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "DAG {id} not parsed in 30 s; server output:\n{}",
                s.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A `--no-auth` server on a fresh home and DAG folder holding `files`, once `ids` are parsed.
/// The temp dirs live as long as the server.
fn open_server(
    files: &[(&str, &str)],
    examples: bool,
    ids: &[&str],
) -> (Server, [tempfile::TempDir; 2]) {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    if examples {
        copy_examples(dags.path());
    }
    for (name, text) in files {
        std::fs::write(dags.path().join(name), text).unwrap();
    }
    let s = Server::start(home.path(), &[dags.path().to_str().unwrap()]);
    wait_dags(&s, None, ids);
    (s, [home, dags])
}

/// A run id as a URL path segment.
fn enc(run_id: &str) -> String {
    run_id.replace(':', "%3A").replace('+', "%2B")
}

/// Triggers `dag_id` over the API (`--no-auth` server), unpausing it first when asked;
/// returns the run id.
fn trigger(s: &Server, dag_id: &str, unpause: bool) -> String {
    if unpause {
        let r = http()
            .patch(s.url(&format!("/api/v2/dags/{dag_id}")))
            .json(&json!({"is_paused": false}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let r = http()
        .post(s.url(&format!("/api/v2/dags/{dag_id}/dagRuns")))
        .json(&json!({"logical_date": null}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let run: serde_json::Value = r.json().unwrap();
    run["dag_run_id"].as_str().unwrap().to_string()
}

/// Signs in through the login form.
fn sign_in(b: &Browser) {
    b.wait_testid("login-form");
    b.fill("login-username", "admin");
    b.fill("login-password", PASSWORD);
    b.click("login-submit");
}

/// Adds a variable/connection/pool through its admin page's dialog.
fn add_item(b: &Browser, noun: &str, fields: &[(&str, &str)]) {
    b.click("add-button");
    b.wait_testid(&format!("{noun}-dialog"));
    for (name, value) in fields {
        b.fill(&format!("field-{name}"), value);
    }
    b.click("form-submit");
    b.wait_gone(&format!("{noun}-dialog"));
}

/// Marks the page so a full reload is detectable.
fn mark_page(b: &Browser) {
    b.js("window.__noReload = 1", vec![]);
}
fn assert_not_reloaded(b: &Browser, what: &str) {
    assert_eq!(
        b.js("return window.__noReload || 0", vec![]),
        json!(1),
        "{what}: the page was reloaded"
    );
}

#[test]
fn browser_sign_in_trigger_and_watch_grid_and_log_live() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    copy_examples(dags.path());
    std::fs::write(dags.path().join("ui_live.py"), LIVE_DAG).unwrap();
    let s = secure_server(home.path(), dags.path());
    let token = s.token("admin", PASSWORD);
    wait_dags(&s, Some(&token), &["ui_live", "hello_taskflow", "etl_xcom"]);

    let b = Browser::open(&s.base, "live", 1280, 800);
    // Signed out: any page sends us to the login form, which sends us back.
    b.goto("/dags");
    b.wait_for("the sign-in redirect", WAIT, |b| {
        b.location().starts_with("/login").then_some(())
    });
    b.shot("01-login");
    sign_in(&b);
    b.wait_testid("dag-row-hello_taskflow");
    assert_eq!(b.location(), "/dags");
    b.wait_testid("dag-row-ui_live");
    b.wait_testid("dag-row-etl_xcom");
    assert_eq!(b.text_of("env-badge").as_deref(), Some("DEV / Lite"));
    b.wait_text("dag-count", "DAGs");
    b.shot("02-dag-list");
    b.assert_no_error_overlay();

    // The DAG page: header facts, unpause, then trigger with a param through the dialog.
    b.click("dag-link-ui_live");
    b.wait_testid("grid");
    assert_eq!(b.location(), "/dags/ui_live");
    b.wait_text("dag-version", "v1");
    b.wait_text("dag-tags", "ui");
    b.wait_testid("grid-empty");
    mark_page(&b);
    b.wait_attr("pause-toggle-ui_live", "aria-checked", "false");
    // A paused DAG's trigger dialog offers to unpause it (its runs would wait otherwise).
    b.click("trigger-button");
    b.wait_testid("trigger-unpause");
    assert_eq!(
        b.js(
            "return document.querySelector('[data-testid=\"trigger-unpause\"]').checked",
            vec![]
        ),
        json!(true)
    );
    b.keys("\u{E00C}");
    b.wait_gone("trigger-dialog");
    b.click("pause-toggle-ui_live");
    b.wait_attr("pause-toggle-ui_live", "aria-checked", "true");
    b.click("trigger-button");
    b.wait_testid("trigger-dialog");
    b.wait_testid("param-who");
    b.fill("param-who", "browser");
    b.shot("03-trigger-dialog");
    b.click("trigger-submit");
    b.wait_gone("trigger-dialog");

    // The run's cells appear and turn green without a reload.
    let run_id = b
        .wait_js(
            "a run column in the grid",
            "const e = document.querySelector('a.rb[data-testid^=\"grid-run-\"]');
             return e ? e.dataset.testid.slice('grid-run-'.length) : null;",
            vec![],
        )
        .as_str()
        .unwrap()
        .to_string();
    b.wait_attr(
        &format!("grid-cell-{run_id}-hello"),
        "data-state",
        "success",
    );
    b.wait_attr(&format!("grid-cell-{run_id}-slow"), "data-state", "running");
    assert_not_reloaded(&b, "grid");
    b.shot("04-grid-running");

    // The running task's log streams: the first line while it runs, the second one later.
    b.click(&format!("grid-cell-{run_id}-slow"));
    b.wait_testid("log-view");
    assert!(b.location().ends_with("/tasks/slow"), "{}", b.location());
    mark_page(&b);
    b.wait_text("log-view", "step one");
    let during = b.text_of("log-view").unwrap();
    assert!(
        !during.contains("step two"),
        "the log was complete too early: {during}"
    );
    b.wait_attr("ti-state", "data-state", "running");
    b.shot("05-task-log-running");
    b.wait_text("log-view", "step two");
    b.wait_attr("ti-state", "data-state", "success");
    assert_not_reloaded(&b, "log");
    assert_eq!(
        b.js(
            "return document.querySelector('[data-testid=\"log-view\"] .ll[data-level=\"warning\"]')?.innerText.includes('step two') || false",
            vec![]
        ),
        json!(true),
        "the WARNING line is coloured as a warning"
    );
    b.wait_text("rendered-field-bash_command", "sleep 2");
    b.shot("06-task-log-done");

    // Back on the grid (the app's own navigation), every cell is green; the run page too.
    b.click("ti-run-link");
    b.wait_attr("run-state", "data-state", "success");
    b.wait_testid("run-ti-hello");
    b.shot("07-run");
    b.goto("/dags/ui_live");
    b.wait_attr(&format!("grid-cell-{run_id}-slow"), "data-state", "success");
    b.wait_attr(
        &format!("grid-cell-{run_id}-hello"),
        "data-state",
        "success",
    );
    b.wait_attr(&format!("grid-run-{run_id}"), "data-state", "success");
    b.shot("08-grid-done");

    // Every tab of the DAG page renders real data.
    b.click("tab-graph");
    b.wait_attr("graph-node-slow", "data-state", "success");
    b.wait_attr("graph-node-hello", "data-state", "success");
    b.shot("09-graph");
    b.click("graph-zoom-in");
    b.click("graph-node-hello");
    b.wait_for("the node's task page", WAIT, |b| {
        b.location().ends_with("/tasks/hello").then_some(())
    });
    b.wait_text("log-view", "hello browser");
    b.js("history.back()", vec![]);
    b.wait_testid("graph-node-slow");
    b.click("tab-code");
    b.wait_text("code-view", "WARNING step two");
    b.shot("10-code");
    b.click("tab-runs");
    b.wait_testid(&format!("run-row-{run_id}"));
    b.shot("11-runs");
    b.click("tab-versions");
    b.wait_testid("version-row-1");
    b.shot("12-versions");
    b.click("tab-details");
    b.wait_text("dag-params", "who");
    b.shot("13-details");
    assert_eq!(b.location(), "/dags/ui_live/details");

    // Back to the list through the app (a second mount of the page): one click on a pause
    // switch is one change.
    b.click("nav-dags");
    b.wait_testid("dag-row-hello_taskflow");
    b.click("pause-toggle-hello_taskflow");
    b.wait_attr("pause-toggle-hello_taskflow", "aria-checked", "true");
    let deadline = Instant::now() + WAIT;
    loop {
        let d: serde_json::Value = http()
            .get(s.url("/api/v2/dags/hello_taskflow"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if d["is_paused"] == json!(false) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "hello_taskflow was not unpaused: {d}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        b.attr_of("pause-toggle-hello_taskflow", "aria-checked")
            .as_deref(),
        Some("true")
    );
    // The run's conf carries the param typed in the dialog.
    let (status, run) = {
        let r = http()
            .get(s.url(&format!("/api/v2/dags/ui_live/dagRuns/{run_id}")))
            .bearer_auth(&token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<serde_json::Value>().unwrap())
    };
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["conf"]["who"], "browser", "{run}");
    b.assert_no_error_overlay();
}

const BROKEN_DAG: &str = r#"
import pendulum
from airflow.sdk import DAG

raise RuntimeError("ui test: broken on purpose")
"#;

const FIXED_DAG: &str = r#"
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG(dag_id="ui_fixed", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    BashOperator(task_id="only", bash_command="echo fixed")
"#;

#[test]
fn browser_import_errors_come_and_go_and_new_versions_show_live() {
    // 120 more DAGs: more than the server's page cap of 100, all on one screen.
    let many = "from airflow.sdk import DAG\nfor i in range(120):\n    globals()[f\"d{i}\"] = DAG(f\"bulk_{i:03d}\", schedule=None)\n";
    let (s, [_home, dags]) = open_server(
        &[("ui_live.py", LIVE_DAG), ("many.py", many)],
        false,
        &["ui_live", "bulk_119"],
    );
    // A run pins version 1, so the next edit makes version 2.
    trigger(&s, "ui_live", false);

    let b = Browser::open(&s.base, "imports", 1280, 800);
    b.goto("/dags");
    b.wait_testid("dag-row-ui_live");
    b.wait_testid("dag-row-bulk_119");
    assert_eq!(b.text_of("dag-count").as_deref(), Some("121 DAGs"));
    assert_eq!(b.text_of("import-errors"), None);
    mark_page(&b);

    // A broken file: the banner names it and shows its traceback.
    std::fs::write(dags.path().join("ui_broken.py"), BROKEN_DAG).unwrap();
    b.wait_testid("import-errors");
    let id = b
        .wait_js(
            "the broken file's entry",
            "const e = [...document.querySelectorAll('[data-testid^=\"import-error-\"]')].find(e => e.tagName === 'DETAILS');
             return e ? e.dataset.testid : null;",
            vec![],
        )
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.ends_with("ui_broken.py"), "{id}");
    b.click(&id);
    b.wait_text(&id, "ui test: broken on purpose");
    assert!(b.text_of(&id).unwrap().contains("RuntimeError"));
    assert_not_reloaded(&b, "import error banner");
    b.shot("01-import-error");

    // Fixed on disk: the banner goes and the DAG appears, without a reload.
    std::fs::write(dags.path().join("ui_broken.py"), FIXED_DAG).unwrap();
    b.wait_gone("import-errors");
    b.wait_testid("dag-row-ui_fixed");
    assert_not_reloaded(&b, "import error fixed");
    b.shot("02-import-error-fixed");

    // An open DAG page (code tab) shows a saved file's new version and source.
    b.goto("/dags/ui_live/code");
    b.wait_text("code-view", "step one");
    b.wait_text("dag-version", "v1");
    mark_page(&b);
    let saved = Instant::now();
    std::fs::write(
        dags.path().join("ui_live.py"),
        LIVE_DAG.replace("step one", "step ONE (edited)"),
    )
    .unwrap();
    b.wait_text("dag-version", "v2");
    let version_shown = saved.elapsed();
    b.wait_text("code-view", "step ONE (edited)");
    assert_not_reloaded(&b, "new version");
    eprintln!(
        "browser: a saved DAG file showed v2 in the open page {} ms after the write",
        version_shown.as_millis()
    );
    b.wait_for("the version picker to list v2", WAIT, |b| {
        b.js(
            "return [...document.querySelectorAll('[data-testid=\"code-version-select\"] option')].map(o => o.textContent).join('|')",
            vec![],
        )
        .as_str()
        .filter(|t| t.contains("v2") && t.contains("v1"))
        .map(str::to_string)
    });
    b.shot("03-new-version");

    // Breaking the file of an open DAG: the page says so and keeps the last good version.
    std::fs::write(dags.path().join("ui_live.py"), BROKEN_DAG).unwrap();
    b.wait_testid("dag-import-error");
    assert!(b.text_of("dag-version").unwrap().contains("v2"));
    b.shot("04-dag-import-error");
    b.assert_no_error_overlay();
}

#[test]
fn browser_admin_pages_audit_deep_links_narrow_window_and_dark_theme() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("ui_live.py"), LIVE_DAG).unwrap();
    let s = secure_server(home.path(), dags.path());
    let b = Browser::open(&s.base, "admin", 1280, 800);

    // A deep link survives the sign-in.
    b.goto("/admin/variables");
    b.wait_for("the sign-in redirect", WAIT, |b| {
        b.location().starts_with("/login").then_some(())
    });
    sign_in(&b);
    b.wait_testid("variables-table");
    assert_eq!(b.location(), "/admin/variables");

    // A variable.
    add_item(
        &b,
        "variable",
        &[
            ("key", "ui_var"),
            ("value", "{\"answer\": 42}"),
            ("description", "made in the browser"),
        ],
    );
    b.wait_text("variable-row-ui_var", "answer");
    b.shot("01-variables");

    // A connection: the password is stored but never shown back.
    b.click("nav-connections");
    b.wait_testid("connections-table");
    add_item(
        &b,
        "connection",
        &[
            ("connection_id", "ui_conn"),
            ("conn_type", "postgres"),
            ("host", "db.example"),
            ("login", "leo"),
            ("password", "s3cret-pw-in-browser"),
            ("port", "5432"),
        ],
    );
    b.wait_text("connection-row-ui_conn", "db.example");
    b.click("edit-ui_conn");
    b.wait_testid("connection-dialog");
    assert_eq!(
        b.js(
            "return document.querySelector('[data-testid=\"field-password\"]').value",
            vec![]
        ),
        json!("")
    );
    b.shot("02-connection-edit");
    b.keys("\u{E00C}"); // Escape closes the dialog
    b.wait_gone("connection-dialog");
    let html = b.js("return document.documentElement.outerHTML", vec![]);
    assert!(!html.as_str().unwrap().contains("s3cret-pw-in-browser"));
    let token = s.token("admin", PASSWORD);
    let conn: serde_json::Value = http()
        .get(s.url("/api/v2/connections/ui_conn"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(conn["login"], "leo", "{conn}");
    assert_ne!(conn["password"], "s3cret-pw-in-browser", "{conn}");

    // Deep link + reload keeps the page.
    b.reload();
    b.wait_testid("connection-row-ui_conn");
    assert_eq!(b.location(), "/admin/connections");
    b.shot("03-connections");

    // Both show up in the audit log, by the signed-in user.
    b.click("nav-audit");
    b.wait_testid("audit-table");
    let audit = b.wait_text("audit-table", "ui_conn");
    assert!(audit.contains("admin"), "{audit}");
    b.wait_for("the variable's audit row", WAIT, |b| {
        b.text_of("audit-table").filter(|t| t.contains("ui_var"))
    });
    let html = b.js("return document.documentElement.outerHTML", vec![]);
    assert!(!html.as_str().unwrap().contains("s3cret-pw-in-browser"));
    b.shot("04-audit");
    b.click("nav-pools");
    b.wait_testid("pool-row-default_pool");
    b.shot("05-pools");

    // Deep links into a DAG tab and a task page survive reloads.
    wait_dags(&s, Some(&token), &["ui_live"]);
    b.goto("/dags/ui_live/graph");
    b.wait_testid("graph-node-slow");
    b.reload();
    b.wait_testid("graph-node-slow");
    assert_eq!(b.location(), "/dags/ui_live/graph");

    // Keyboard: "/" focuses the search box of the DAG list.
    b.goto("/dags");
    b.wait_testid("dag-row-ui_live");
    b.keys("/");
    b.wait_js(
        "the search box to have focus",
        "return document.activeElement?.dataset.testid === 'dag-search'",
        vec![],
    );
    b.keys("live\u{E007}");
    b.wait_for("the search in the URL", WAIT, |b| {
        (b.location() == "/dags?search=live").then_some(())
    });
    b.reload();
    b.wait_testid("dag-row-ui_live");
    assert_eq!(
        b.js(
            "return document.querySelector('[data-testid=\"dag-search\"]').value",
            vec![]
        ),
        json!("live")
    );

    // Dark theme: toggled, kept across a reload.
    b.click("theme-toggle");
    b.wait_js(
        "the dark theme",
        "return document.documentElement.dataset.theme === 'dark'",
        vec![],
    );
    b.shot("06-dark-dag-list");
    b.goto("/dags/ui_live");
    b.wait_testid("grid");
    assert_eq!(
        b.js("return document.documentElement.dataset.theme", vec![]),
        json!("dark")
    );
    b.shot("07-dark-dag");

    // A narrow window: no horizontal scrolling of the page, the controls still reachable.
    b.resize(420, 800);
    b.goto("/dags");
    b.wait_testid("dag-row-ui_live");
    let overflow = b.js(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        vec![],
    );
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "page wider than the window by {overflow} px"
    );
    b.click("pause-toggle-ui_live");
    b.wait_attr("pause-toggle-ui_live", "aria-checked", "true");
    b.shot("08-narrow-dag-list");
    b.goto("/dags/ui_live");
    b.wait_testid("trigger-button");
    b.click("trigger-button");
    b.wait_testid("trigger-dialog");
    b.shot("09-narrow-trigger");
    b.keys("\u{E00C}");
    b.wait_gone("trigger-dialog");
    b.assert_no_error_overlay();

    // Sign out: back to the form, and the token no longer opens pages.
    b.resize(1280, 800);
    b.click("logout");
    b.wait_testid("login-form");
    b.goto("/dags/ui_live");
    b.wait_testid("login-form");
    assert!(b.location().starts_with("/login?next="), "{}", b.location());
}

/// What a browser sends (`Accept-Encoding: gzip`) for a running try's NDJSON log: the stream
/// follows the try and ends cleanly, gzip trailer included (the server once panicked there).
#[test]
fn gzipped_ndjson_log_of_a_running_try_streams_to_the_end() {
    use std::io::Read;
    let (s, _dirs) = open_server(&[("ui_live.py", LIVE_DAG)], false, &["ui_live"]);
    let run_id = trigger(&s, "ui_live", true);
    let ti = format!(
        "/api/v2/dags/ui_live/dagRuns/{}/taskInstances/slow",
        enc(&run_id)
    );
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, t) = get_json(&s.url(&ti));
        if t["state"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "slow never ran: {t}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = http()
        .get(s.url(&format!("{ti}/logs/1?full_content=true")))
        .header("Accept", "application/x-ndjson")
        .header("Accept-Encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let body = r.bytes().expect("the stream ends cleanly");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .expect("a complete gzip stream");
    assert!(text.contains("step one"), "{text}");
    assert!(text.contains("WARNING step two"), "{text}");
    assert!(text.contains("Task finished: success"), "{text}");
    assert!(!s.output().contains("panicked"), "{}", s.output());
}

/// Triggers `dag_id` (unpaused first) and waits until the run succeeded.
fn run_to_success(s: &Server, dag_id: &str) -> String {
    let run_id = trigger(s, dag_id, true);
    let url = s.url(&format!("/api/v2/dags/{dag_id}/dagRuns/{}", enc(&run_id)));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, r) = get_json(&url);
        if r["state"] == "success" {
            return run_id;
        }
        assert!(
            Instant::now() < deadline && r["state"] != "failed",
            "{dag_id}: {r}\n{}",
            s.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn browser_task_actions_xcom_and_mapped_tasks() {
    let (s, _dirs) = open_server(&[], true, &["hello_taskflow", "dynamic_mapping"]);
    let hello = run_to_success(&s, "hello_taskflow");
    let mapped = run_to_success(&s, "dynamic_mapping");
    let b = Browser::open(&s.base, "actions", 1280, 800);

    // XCom and rendered fields of a finished Python task.
    b.goto(&format!(
        "/dags/hello_taskflow/runs/{}/tasks/say_hello",
        enc(&hello)
    ));
    b.wait_attr("ti-state", "data-state", "success");
    b.wait_text("xcom-return_value", "Hello, Leoflow!");
    b.wait_text("log-view", "Built the greeting");
    b.shot("01-task-xcom");

    // Clear it with its downstream: the preview lists both, then the task runs a second try.
    mark_page(&b);
    b.click("ti-clear");
    b.wait_testid("clear-ti-dialog");
    b.wait_text("confirm-preview", "2 task instances will be cleared");
    assert!(b.text_of("confirm-preview").unwrap().contains("shout"));
    b.shot("02-clear-preview");
    b.click("confirm-ok");
    b.wait_gone("clear-ti-dialog");
    b.wait_testid("try-tab-2");
    b.wait_attr("ti-state", "data-state", "success");
    b.wait_attr("try-tab-2", "aria-selected", "true");
    assert_not_reloaded(&b, "clear");
    b.click("try-tab-1");
    b.wait_attr("try-tab-1", "aria-selected", "true");
    assert!(b.location().ends_with("try=1"), "{}", b.location());
    b.wait_text("log-view", "Built the greeting");

    // The run page: mark failed, then delete it.
    b.click("ti-run-link");
    b.wait_attr("run-state", "data-state", "success");
    b.click("run-mark-failed");
    b.wait_testid("mark-run-dialog");
    b.click("confirm-ok");
    b.wait_gone("mark-run-dialog");
    b.wait_attr("run-state", "data-state", "failed");
    b.shot("03-run-failed");
    b.click("run-delete");
    b.wait_testid("delete-run-dialog");
    b.click("confirm-ok");
    b.wait_for("the DAG page after the delete", WAIT, |b| {
        (b.location() == "/dags/hello_taskflow").then_some(())
    });
    b.wait_testid("grid-empty");
    let (status, _) = get_json(&s.url(&format!(
        "/api/v2/dags/hello_taskflow/dagRuns/{}",
        enc(&hello)
    )));
    assert_eq!(status, 404);

    // A mapped task: one summarised cell in the grid, the list of its instances on its page.
    b.goto("/dags/dynamic_mapping");
    b.wait_attr(&format!("grid-cell-{mapped}-process"), "data-count", "4");
    b.wait_attr(
        &format!("grid-cell-{mapped}-process"),
        "data-state",
        "success",
    );
    b.shot("04-mapped-grid");
    b.click(&format!("grid-cell-{mapped}-process"));
    b.wait_testid("mapped-tis");
    b.wait_testid("mapped-ti-3");
    b.click_css("[data-testid=\"mapped-ti-3\"] a");
    b.wait_text("log-view", "part-003.csv: 12 rows");
    b.wait_text("xcom-return_value", "12");
    b.shot("05-mapped-task");
    b.assert_no_error_overlay();
}

/// A paused DAG's trigger dialog unpauses it before triggering (issue #11: a run of a paused
/// DAG would otherwise wait, queued), and the run goes through.
#[test]
fn browser_trigger_dialog_unpauses_a_paused_dag() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    copy_examples(dags.path());
    let mut cmd = leoflow(home.path());
    cmd.env("LEOFLOW_DAGS_PAUSED_AT_CREATION", "true");
    let s = Server::start_with(cmd, home.path(), &[dags.path().to_str().unwrap()]);
    wait_dags(&s, None, &["hello_taskflow"]);
    let b = Browser::open(&s.base, "unpause", 1280, 800);
    b.goto("/dags/hello_taskflow");
    b.wait_attr("pause-toggle-hello_taskflow", "aria-checked", "false");
    b.click("trigger-button");
    b.wait_testid("trigger-unpause");
    b.click("trigger-submit");
    b.wait_gone("trigger-dialog");
    b.wait_attr("pause-toggle-hello_taskflow", "aria-checked", "true");
    let (_, dag) = get_json(&s.url("/api/v2/dags/hello_taskflow"));
    assert_eq!(dag["is_paused"], false, "{dag}");
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, runs) = get_json(&s.url("/api/v2/dags/hello_taskflow/dagRuns"));
        if runs["dag_runs"][0]["state"] == "success" {
            break;
        }
        assert!(Instant::now() < deadline, "{runs}\n{}", s.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    b.assert_no_error_overlay();
}

/// A DAG registered as a dag.json (issue #13) shows its bundle and image in its details.
#[test]
fn browser_a_registered_dag_shows_its_image() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    let doc = serde_json::json!({
        "schema_version": "1.0", "dag_id": "shipped", "dag_version": "sha-0123456789ab",
        "image": "127.0.0.1:5000/shipped@sha256:00ff", "tasks": [
            {"task_id": "t", "type": "bash", "entrypoint": "true", "execution_mode": "pod"}
        ]
    });
    let r = http()
        .post(s.url("/api/v2/dags/shipped/versions"))
        .json(&doc)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let b = Browser::open(&s.base, "registered", 1280, 800);
    b.goto("/dags/shipped/details");
    b.wait_text("dag-image", "127.0.0.1:5000/shipped@sha256:00ff");
    b.wait_text("dag-bundle", "sha-0123456789ab");
    b.assert_no_error_overlay();
}
