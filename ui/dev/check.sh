#!/usr/bin/env bash
# Dev checks for the UI (not shipped, not part of CI): unit tests (node), end-to-end checks and
# the render benchmark (headless Chromium via Playwright against ui/dev/mock_server.py), and the
# gzipped size of what the binary embeds (ui/ minus ui/dev/ and README.md).
# Needs: node, /usr/bin/chromium (apt-get install -y chromium), pip install playwright.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== unit"
node --experimental-detect-module --no-warnings --test dev/unit.test.mjs 2>&1 | grep -E '^# (pass|fail)'
echo "== size (gzip -9 per file, summed)"
total=0
for f in $(find . -path ./dev -prune -o -type f ! -name README.md -print); do total=$((total + $(gzip -9c "$f" | wc -c))); done
echo "embedded UI: $((total / 1024)) KB gzipped ($(find . -path ./dev -prune -o -type f ! -name README.md -print0 | xargs -0 cat | wc -c) bytes raw)"
echo "== e2e"
python3 dev/e2e.py
echo "== bench"
python3 dev/mock_server.py --port 8799 --dags 200 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid' EXIT
sleep 1.5
python3 dev/bench.py http://127.0.0.1:8799 http://127.0.0.1:8799
