#!/usr/bin/env python3
"""Dev tool: opens /dev/bench.html (served by mock_server.py) in headless Chromium and prints the
figures it measured.   python3 ui/dev/bench.py [BASE_URL]"""
import sys
from playwright.sync_api import sync_playwright

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    page = b.new_page(viewport={"width": 1280, "height": 800})
    page.on("pageerror", lambda e: print("pageerror", e))
    page.goto(base + "/dev/bench.html")
    page.wait_for_selector("body[data-done]", timeout=60000)
    print(page.inner_text('[data-testid="bench-result"]'))
    b.close()

# DAG list: time from navigation start until every row is in the DOM and a pause toggle
# answers clicks (run against a mock started with --dags 200).
if len(sys.argv) > 2:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for _ in range(3):
            page = b.new_page(viewport={"width": 1280, "height": 800})
            page.goto(sys.argv[2] + "/dags", wait_until="commit")
            page.wait_for_function("document.querySelectorAll('[data-testid^=\"dag-row-\"]').length >= 200", timeout=20000)
            t = page.evaluate("performance.now()")
            n = page.evaluate("document.querySelectorAll('[data-testid^=\"dag-row-\"]').length")
            print(f"dag list: {n} rows interactive at {t:.0f} ms after navigation start")
            page.close()
        b.close()
