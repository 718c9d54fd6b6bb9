#!/usr/bin/env python3
"""Dev tool: end-to-end checks of the UI against ui/dev/mock_server.py in headless Chromium
(Playwright driving /usr/bin/chromium). Starts its own mock servers (auth off and on).
Prints one line per check and 'N passed, N failed'.   python3 ui/dev/e2e.py [--shots DIR]"""
import os
import subprocess
import sys
import time
import traceback
import urllib.request
from playwright.sync_api import sync_playwright, expect

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = sys.argv[sys.argv.index("--shots") + 1] if "--shots" in sys.argv else None
results = []


def start(port, *extra):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "mock_server.py"), "--port", str(port), "--step", "0.15", *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/version", timeout=0.2)
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mock did not start")


def check(name):
    def deco(fn):
        def run(browser, base):
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            try:
                fn(page, base)
                ov = page.query_selector('[data-testid="error-overlay"]')
                if ov:
                    raise AssertionError("error overlay: " + ov.inner_text())
                if errors:
                    raise AssertionError("page errors: " + "; ".join(errors))
                results.append((name, None))
                print(f"PASS {name}", flush=True)
            except Exception as e:  # noqa: BLE001
                results.append((name, e))
                print(f"FAIL {name}: {e}", flush=True)
                if os.environ.get("E2E_TRACE"):
                    traceback.print_exc()
                if SHOTS:
                    page.screenshot(path=os.path.join(SHOTS, f"fail_{name.replace(' ', '_')}.png"))
            finally:
                ctx.close()
        run.check_name = name
        CHECKS.append(run)
        return run
    return deco


CHECKS = []
T = 5000


@check("SSE events: bursts of dag_updated cost one list refetch, import_errors refreshes banner")
def _(page, base):
    page.goto(base + "/dags")
    expect(page.get_by_test_id("live-indicator")).to_have_attribute("data-state", "live", timeout=T)
    reqs = []
    page.on("request", lambda r: reqs.append(r.url))
    page.evaluate("import('/static/events.js').then(m => { for (let i = 0; i < 20; i++) m.emit('dag_updated', {dag_id: 'x'}); m.emit('import_errors', {filename: 'a.py'}); })")
    page.wait_for_timeout(700)
    lists = [u for u in reqs if "/api/v2/dags?" in u]
    errs = [u for u in reqs if "/api/v2/importErrors" in u]
    assert len(lists) == 1, f"expected one debounced refetch, got {len(lists)}"
    assert len(errs) == 1, errs


@check("dag list renders rows, toggles pause, filters")
def _(page, base):
    page.goto(base + "/dags")
    expect(page.get_by_test_id("dag-row-compat_linear")).to_be_visible(timeout=T)
    expect(page.get_by_test_id("import-errors")).to_be_visible()
    expect(page.get_by_test_id("import-error-broken_dag.py")).to_be_visible()
    page.get_by_test_id("import-error-broken_dag.py").locator("summary").click()
    expect(page.get_by_test_id("import-error-broken_dag.py").locator("pre")).to_contain_text("ValueError")
    expect(page.get_by_test_id("env-badge")).to_have_text("DEV / Lite")
    t = page.get_by_test_id("pause-toggle-compat_linear")
    before = t.get_attribute("data-paused")
    t.click()
    expect(t).not_to_have_attribute("data-paused", before)
    t.click()
    expect(t).to_have_attribute("data-paused", before)
    expect(page.get_by_test_id("dag-runs-compat_linear").locator("a")).to_have_count(14, timeout=T)
    page.keyboard.press("/")
    expect(page.get_by_test_id("dag-search")).to_be_focused()
    page.keyboard.type("taskflow")
    expect(page.get_by_test_id("dag-row-compat_linear")).to_have_count(0, timeout=T)
    expect(page.get_by_test_id("dag-row-compat_taskflow")).to_be_visible()
    assert "search=taskflow" in page.url
    page.reload()
    expect(page.get_by_test_id("dag-search")).to_have_value("taskflow", timeout=T)
    expect(page.get_by_test_id("dag-row-compat_linear")).to_have_count(0)
    page.goto(base + "/dags")
    page.get_by_test_id("tag-filter").select_option("linear")
    expect(page.get_by_test_id("dag-row-compat_taskflow")).to_have_count(0, timeout=T)
    expect(page.get_by_test_id("dag-row-compat_linear")).to_be_visible()
    page.get_by_test_id("filter-paused").click()
    expect(page.get_by_test_id("dags-empty")).to_be_visible(timeout=T)


@check("grid renders cells with states; click opens task instance; groups collapse")
def _(page, base):
    page.goto(base + "/dags/compat_taskflow")
    cells = page.locator('[data-testid^="grid-cell-"]')
    expect(cells.first).to_be_visible(timeout=T)
    first = page.locator('[data-testid^="grid-cell-"][data-testid$="-produce"]').first
    assert first.get_attribute("data-state") in ("success", "failed", "skipped", "running", "queued", "none", "scheduled", "upstream_failed")
    expect(page.locator('[data-testid^="grid-cell-"][data-testid$="-grp.inner1"]').first).to_be_visible()
    page.get_by_test_id("grid-group-grp").click()
    expect(page.locator('[data-testid^="grid-cell-"][data-testid$="-grp.inner1"]')).to_have_count(0)
    page.get_by_test_id("grid-group-grp").click()
    expect(page.locator('[data-testid^="grid-cell-"][data-testid$="-grp.inner1"]').first).to_be_visible()
    first.click()
    expect(page.get_by_test_id("ti-state")).to_be_visible(timeout=T)
    assert "/tasks/produce" in page.url
    page.go_back()
    expect(page.locator('[data-testid^="grid-cell-"]').first).to_be_visible(timeout=T)


@check("grid keyboard navigation with arrows")
def _(page, base):
    page.goto(base + "/dags/compat_linear")
    c = page.locator('a.c[tabindex="0"]')
    expect(c).to_have_count(1, timeout=T)
    c.focus()
    a = page.evaluate("document.activeElement.dataset.testid")
    page.keyboard.press("ArrowRight")
    b = page.evaluate("document.activeElement.dataset.testid")
    page.keyboard.press("ArrowDown")
    d = page.evaluate("document.activeElement.dataset.testid")
    assert a != b != d and d.endswith("-transform"), (a, b, d)


@check("trigger with conf, grid and graph update live")
def _(page, base):
    page.goto(base + "/dags/compat_linear")
    expect(page.locator('a[data-testid^="grid-run-"]').first).to_be_visible(timeout=T)
    n = page.locator('a[data-testid^="grid-run-"]').count()
    page.get_by_test_id("trigger-button").click()
    expect(page.get_by_test_id("trigger-dialog")).to_be_visible()
    page.get_by_test_id("trigger-conf").fill("{not json")
    page.get_by_test_id("trigger-submit").click()
    expect(page.get_by_test_id("trigger-conf")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("trigger-conf").fill('{"k": "v"}')
    page.get_by_test_id("trigger-submit").click()
    expect(page.get_by_test_id("trigger-dialog")).to_have_count(0, timeout=T)
    expect(page.get_by_test_id("toast")).to_contain_text("Triggered")
    expect(page.locator('a[data-testid^="grid-run-"]')).to_have_count(min(n + 1, 25), timeout=T)
    last = page.locator('[data-testid^="grid-cell-manual__"][data-testid$="-extract"]').last
    expect(last).to_have_attribute("data-state", "success", timeout=15000)
    expect(page.locator('[data-testid^="grid-cell-manual__"][data-testid$="-load"]').last).to_have_attribute("data-state", "success", timeout=15000)
    page.get_by_test_id("tab-graph").click()
    expect(page.get_by_test_id("graph-node-extract")).to_have_attribute("data-state", "success", timeout=T)
    expect(page.get_by_test_id("graph-node-load")).to_be_visible()


@check("trigger form from params validates and shows server 4xx detail")
def _(page, base):
    page.goto(base + "/dags/example_params")
    page.get_by_test_id("trigger-button").click()
    expect(page.get_by_test_id("param-flavour")).to_be_visible()
    assert page.get_by_test_id("param-flavour").evaluate("e => e.tagName") == "SELECT"
    assert page.get_by_test_id("param-dry_run").get_attribute("type") == "checkbox"
    assert page.get_by_test_id("param-count").get_attribute("type") == "number"
    assert page.get_by_test_id("param-options").evaluate("e => e.tagName") == "TEXTAREA"
    page.get_by_test_id("param-count").fill("99")
    page.get_by_test_id("trigger-submit").click()
    expect(page.get_by_test_id("param-count")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("param-required_text")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("param-count").fill("4")
    page.get_by_test_id("param-required_text").fill("x")
    page.get_by_test_id("param-options").fill("[1]")
    page.get_by_test_id("trigger-submit").click()
    expect(page.get_by_test_id("param-options")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("param-options").fill('{"a": 1}')
    page.get_by_test_id("param-required_text").fill("")
    page.get_by_test_id("param-required_text").press("Tab")
    # Clearing a required field is caught client-side; then the server rejects a run id clash.
    page.get_by_test_id("param-required_text").fill("hello")
    page.get_by_test_id("trigger-submit").click()
    expect(page.get_by_test_id("trigger-dialog")).to_have_count(0, timeout=T)
    page.get_by_test_id("trigger-button").click()
    page.get_by_test_id("param-required_text").fill("hello")
    page.locator("details.sec summary").click()
    rid = page.evaluate("(async () => (await (await fetch('/api/v2/dags/example_params/dagRuns?limit=1&order_by=-run_after')).json()).dag_runs[0].dag_run_id)()")
    page.get_by_test_id("trigger-run-id").fill(rid)
    page.get_by_test_id("trigger-submit").click()
    expect(page.get_by_test_id("trigger-error")).to_contain_text("409", timeout=T)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("trigger-dialog")).to_have_count(0)


@check("dialog traps focus and closes on Escape")
def _(page, base):
    page.goto(base + "/dags/compat_linear")
    page.get_by_test_id("trigger-button").click()
    expect(page.get_by_test_id("trigger-dialog")).to_be_visible()
    for _ in range(12):
        page.keyboard.press("Tab")
        inside = page.evaluate("!!document.activeElement.closest('dialog')")
        assert inside, "focus left the dialog"
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("trigger-dialog")).to_have_count(0)
    expect(page.get_by_test_id("trigger-button")).to_be_focused()


@check("task instance log streams live, search, wrap, follow, download")
def _(page, base):
    page.goto(base + "/dags/compat_failing")
    expect(page.get_by_test_id("trigger-button")).to_be_enabled(timeout=T)
    page.get_by_test_id("trigger-button").click()
    page.get_by_test_id("trigger-submit").click()
    link = page.get_by_test_id("toast").locator("a")
    expect(link).to_be_visible(timeout=T)
    link.click()
    expect(page.get_by_test_id("run-state")).to_be_visible(timeout=T)
    page.locator('[data-testid="run-ti-boom"] a').click()
    expect(page.get_by_test_id("log-view").locator(".ll").first).to_be_visible(timeout=T)
    expect(page.get_by_test_id("log-view")).to_contain_text("ERROR: something broke", timeout=15000)
    expect(page.get_by_test_id("ti-state")).to_have_attribute("data-state", "failed", timeout=T)
    expect(page.get_by_test_id("log-view").locator('.ll[data-level="error"]').first).to_be_visible()
    page.get_by_test_id("log-search").fill("step")
    expect(page.get_by_test_id("log-search-count")).to_contain_text("/", timeout=T)
    page.get_by_test_id("log-search-next").click()
    expect(page.get_by_test_id("log-view").locator("mark").first).to_be_visible()
    page.get_by_test_id("log-wrap").click()
    expect(page.get_by_test_id("log-wrap")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("log-view")).to_have_class("log-view wrap")
    with page.expect_download() as dl:
        page.get_by_test_id("log-download").click()
    path = dl.value.path()
    assert "ERROR: something broke" in open(path).read()


@check("clear task with confirmation runs it again")
def _(page, base):
    page.goto(base + "/dags/compat_linear")
    cell = page.locator('[data-testid^="grid-cell-"][data-testid$="-transform"]').last
    expect(cell).to_be_visible(timeout=T)
    cell.click()
    expect(page.get_by_test_id("ti-clear")).to_be_enabled(timeout=T)
    page.get_by_test_id("ti-clear").click()
    expect(page.get_by_test_id("confirm-preview")).to_contain_text("will be cleared", timeout=T)
    expect(page.get_by_test_id("confirm-preview")).to_contain_text("load")
    page.get_by_test_id("clear-downstream").uncheck()
    expect(page.get_by_test_id("confirm-preview")).not_to_contain_text("load", timeout=T)
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("ti-state")).to_have_attribute("data-state", "success", timeout=15000)
    expect(page.locator('[data-testid^="try-tab-"]')).to_have_count(2, timeout=T)


@check("mark task failed and run actions")
def _(page, base):
    page.goto(base + "/dags/compat_linear/runs")
    row = page.locator('[data-testid^="run-row-"]').nth(2)
    expect(row).to_be_visible(timeout=T)
    row.locator("a").click()
    expect(page.get_by_test_id("run-state")).to_be_visible(timeout=T)
    page.locator('[data-testid="run-ti-extract"] a').click()
    page.get_by_test_id("ti-mark-failed").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("ti-state")).to_have_attribute("data-state", "failed", timeout=T)
    page.get_by_test_id("ti-run-link").click()
    page.get_by_test_id("run-mark-failed").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("run-state")).to_have_attribute("data-state", "failed", timeout=T)
    page.get_by_test_id("run-mark-success").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("run-state")).to_have_attribute("data-state", "success", timeout=T)
    page.get_by_test_id("run-delete").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("tab-grid")).to_be_visible(timeout=T)


@check("code tab versions, runs filter, details, deep links survive reload")
def _(page, base):
    page.goto(base + "/dags/compat_linear/code")
    expect(page.get_by_test_id("code-view")).to_contain_text("compat_linear", timeout=T)
    page.get_by_test_id("code-version-select").select_option("1")
    expect(page.get_by_test_id("code-view")).to_contain_text("v1", timeout=T)
    assert "version=1" in page.url
    page.reload()
    expect(page.get_by_test_id("code-version-select")).to_have_value("1", timeout=T)
    page.get_by_test_id("tab-runs").click()
    page.get_by_test_id("runs-state-filter").select_option("failed")
    expect(page.locator('[data-testid="runs-table"] tbody')).not_to_contain_text("Success", timeout=T)
    page.get_by_test_id("tab-versions").click()
    expect(page.get_by_test_id("version-row-3")).to_be_visible(timeout=T)
    page.get_by_test_id("tab-details").click()
    expect(page.get_by_test_id("dag-details")).to_contain_text("Linear bash pipeline", timeout=T)
    page.goto(base + "/dags/does_not_exist")
    expect(page.get_by_test_id("dag-error")).to_be_visible(timeout=T)
    page.goto(base + "/nowhere/at/all")
    expect(page.get_by_test_id("not-found")).to_be_visible(timeout=T)


@check("graph zoom, pan and node link")
def _(page, base):
    page.goto(base + "/dags/compat_taskflow/graph")
    node = page.get_by_test_id("graph-node-consume")
    expect(node).to_be_visible(timeout=T)
    vp = page.locator(".viewport")
    t0 = vp.get_attribute("transform")
    page.get_by_test_id("graph-zoom-in").click()
    t1 = vp.get_attribute("transform")
    assert t0 != t1
    box = page.get_by_test_id("graph").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 120, steps=5)
    page.mouse.up()
    assert vp.get_attribute("transform") != t1
    page.mouse.move(box["x"] + 300, box["y"] + 200)
    page.mouse.wheel(0, -300)
    node.click()
    expect(page.get_by_test_id("ti-title")).to_contain_text("consume", timeout=T)


@check("admin variables/connections/pools CRUD, audit log")
def _(page, base):
    page.goto(base + "/admin/variables")
    expect(page.get_by_test_id("variable-row-compat_var")).to_be_visible(timeout=T)
    page.get_by_test_id("add-button").click()
    page.get_by_test_id("form-submit").click()
    expect(page.get_by_test_id("field-key")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("field-key").fill("new_var")
    page.get_by_test_id("field-value").fill("hello")
    page.get_by_test_id("form-submit").click()
    expect(page.get_by_test_id("variable-row-new_var")).to_be_visible(timeout=T)
    page.get_by_test_id("edit-new_var").click()
    page.get_by_test_id("field-value").fill("changed")
    page.get_by_test_id("form-submit").click()
    expect(page.get_by_test_id("variable-row-new_var")).to_contain_text("changed", timeout=T)
    page.get_by_test_id("delete-new_var").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("variable-row-new_var")).to_have_count(0, timeout=T)
    page.goto(base + "/admin/connections")
    expect(page.get_by_test_id("connection-row-compat_conn")).to_be_visible(timeout=T)
    assert "secret" not in page.content()
    page.get_by_test_id("edit-compat_conn").click()
    assert page.get_by_test_id("field-password").input_value() == ""
    page.get_by_test_id("field-host").fill("changed.example")
    page.get_by_test_id("form-submit").click()
    expect(page.get_by_test_id("connection-row-compat_conn")).to_contain_text("changed.example", timeout=T)
    pw = page.evaluate("(async () => (await (await fetch('/api/v2/connections/compat_conn')).json()).password)()")
    assert pw == "***", pw  # the stored password was kept (mock masks it)
    page.get_by_test_id("add-button").click()
    page.get_by_test_id("field-connection_id").fill("c2")
    page.get_by_test_id("field-conn_type").fill("postgres")
    page.get_by_test_id("field-extra").fill("{bad")
    page.get_by_test_id("form-submit").click()
    expect(page.get_by_test_id("field-extra")).to_have_attribute("aria-invalid", "true")
    page.keyboard.press("Escape")
    page.goto(base + "/admin/pools")
    expect(page.get_by_test_id("pool-row-default_pool")).to_be_visible(timeout=T)
    expect(page.get_by_test_id("delete-default_pool")).to_be_disabled()
    page.get_by_test_id("add-button").click()
    page.get_by_test_id("field-name").fill("p1")
    page.get_by_test_id("field-slots").fill("4")
    page.get_by_test_id("form-submit").click()
    expect(page.get_by_test_id("pool-row-p1")).to_be_visible(timeout=T)
    page.get_by_test_id("add-button").click()
    page.get_by_test_id("field-name").fill("p1")
    page.get_by_test_id("field-slots").fill("4")
    page.get_by_test_id("form-submit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("409", timeout=T)
    page.keyboard.press("Escape")
    page.goto(base + "/admin/audit")
    expect(page.locator('[data-testid^="audit-row-"]').first).to_be_visible(timeout=T)


@check("theme toggle persists; narrow layout has no horizontal overflow")
def _(page, base):
    page.goto(base + "/dags")
    expect(page.get_by_test_id("dag-row-compat_linear")).to_be_visible(timeout=T)
    t0 = page.evaluate("document.documentElement.dataset.theme")
    page.get_by_test_id("theme-toggle").click()
    t1 = page.evaluate("document.documentElement.dataset.theme")
    assert t0 != t1
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == t1
    page.set_viewport_size({"width": 400, "height": 800})
    for path in ("/dags", "/dags/big_dag", "/dags/compat_linear/code", "/admin/connections"):
        page.goto(base + path)
        page.wait_for_timeout(400)
        sw = page.evaluate("document.documentElement.scrollWidth")
        assert sw <= 402, f"{path}: page is {sw}px wide at 400px"


def login_checks(browser, base):
    ctx = browser.new_context()
    page = ctx.new_page()
    name = "auth: 401 redirects to /login?next=, sign-in returns, cookie + bearer set"
    try:
        page.goto(base + "/dags/compat_linear/code")
        expect(page.get_by_test_id("login-username")).to_be_visible(timeout=T)
        assert "/login?next=" in page.url and "code" in page.url, page.url
        page.get_by_test_id("login-username").fill("admin")
        page.get_by_test_id("login-password").fill("wrong")
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("login-error")).to_be_visible(timeout=T)
        page.get_by_test_id("login-password").fill("admin")
        auth = []
        page.on("request", lambda r: auth.append(r.headers.get("authorization")) if "/api/v2/dags/" in r.url else None)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("code-view")).to_contain_text("compat_linear", timeout=T)
        assert any(a and a.startswith("Bearer ") for a in auth), auth
        assert any(c["name"] == "_token" for c in ctx.cookies())
        expect(page.get_by_test_id("live-indicator")).to_have_attribute("data-state", "live", timeout=T)
        page.get_by_test_id("logout").click()
        expect(page.get_by_test_id("login-username")).to_be_visible(timeout=T)
        assert not any(c["name"] == "_token" and c["value"] for c in ctx.cookies())
        results.append((name, None))
        print(f"PASS {name}")
    except Exception as e:  # noqa: BLE001
        results.append((name, e))
        print(f"FAIL {name}: {e}")
    ctx.close()


def reconnect_check(browser):
    name = "SSE reconnects with backoff after the server restarts and refetches what is on screen"
    srv = start(8793)
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        page.goto("http://127.0.0.1:8793/dags/compat_linear")
        expect(page.locator('a[data-testid^="grid-run-"]').first).to_be_visible(timeout=T)
        live = page.get_by_test_id("live-indicator")
        expect(live).to_have_attribute("data-state", "live", timeout=T)
        srv.terminate()
        srv.wait()
        expect(live).to_have_attribute("data-state", "reconnecting", timeout=T)
        reqs = []
        page.on("request", lambda r: reqs.append(r.url))
        srv = start(8793)
        expect(live).to_have_attribute("data-state", "live", timeout=15000)
        page.wait_for_timeout(600)
        assert any("/dagRuns" in u for u in reqs), reqs
        assert not any(u.endswith("/dags/compat_linear") and "api" not in u for u in reqs), "page reloaded"
        results.append((name, None))
        print(f"PASS {name}")
    except Exception as e:  # noqa: BLE001
        results.append((name, e))
        print(f"FAIL {name}: {e}")
    finally:
        srv.terminate()
        ctx.close()


def main():
    a = start(8791)
    b = start(8792, "--auth")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            only = os.environ.get("E2E_ONLY", "")
            for c in CHECKS:
                if only in c.check_name:
                    c(browser, "http://127.0.0.1:8791")
            if not only or only in "auth":
                login_checks(browser, "http://127.0.0.1:8792")
            if not only or only in "reconnect":
                reconnect_check(browser)
            browser.close()
    finally:
        a.terminate()
        b.terminate()
    failed = sum(1 for _, e in results if e)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
