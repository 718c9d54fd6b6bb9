#!/usr/bin/env python3
"""Dev tool: opens UI pages in headless Chromium (Playwright driving /usr/bin/chromium), prints
console errors, and saves screenshots. Usage: shots.py BASE_URL OUTDIR path[@WxH][#dark] ..."""
import sys
from playwright.sync_api import sync_playwright

base, out, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    for spec in paths:
        dark = spec.endswith("#dark")
        spec = spec.removesuffix("#dark")
        path, _, size = spec.partition("@")
        w, h = (int(x) for x in (size or "1280x800").split("x"))
        ctx = b.new_context(viewport={"width": w, "height": h}, color_scheme="dark" if dark else "light")
        page = ctx.new_page()
        errs = []
        page.on("console", lambda m: errs.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: errs.append(f"pageerror: {e}"))
        page.goto(base + path)
        page.wait_for_timeout(900)
        name = (path.strip("/").replace("/", "_").replace("?", "_").replace("=", "-").replace("&", "_") or "root")[:80]
        name += f"_{w}" + ("_dark" if dark else "")
        page.screenshot(path=f"{out}/{name}.png")
        ov = page.query_selector('[data-testid="error-overlay"]')
        print(f"{path} {w}x{h}{' dark' if dark else ''} -> {name}.png", "OVERLAY: " + ov.inner_text() if ov else "", *errs, sep="\n  ")
        ctx.close()
    b.close()
