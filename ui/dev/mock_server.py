#!/usr/bin/env python3
"""Throwaway mock of the Leoflow Lite HTTP surface for UI development (stdlib only, not shipped).

Serves ui/ at /static/ (ui/dev/ at /dev/), index.html for any other non-API path, plausible
Airflow 3.2 JSON for the endpoints the UI uses (shapes copied from the captured samples), an
SSE stream at /ui/events, and a small simulator: triggering a run walks its tasks through
queued → running → success/failed, emitting dag_run / task_instance / log events.

    python3 ui/dev/mock_server.py --port 8765 [--auth] [--dags 200] [--big-runs 50]
With --auth the API answers 401 without a token; sign in as admin / admin.
"""
import argparse
import datetime as dt
import json
import mimetypes
import os
import queue
import random
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs, unquote

UI = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = threading.RLock()
CLIENTS = []  # queues of SSE clients
TOKENS = set()
ARGS = None


def now():
    return dt.datetime.now(dt.timezone.utc)


def iso(t):
    return t.strftime('%Y-%m-%dT%H:%M:%S.%fZ') if t else None


def publish(kind, data):
    with LOCK:
        for q in list(CLIENTS):
            q.put((kind, data))


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
DAGS = {}       # dag_id -> dag dict (list shape + extras)
TASKS = {}      # dag_id -> [task dicts]
SOURCES = {}    # dag_id -> {version: source}
VERSIONS = {}   # dag_id -> [version dicts]
RUNS = {}       # dag_id -> [run dicts]
TIS = {}        # (dag_id, run_id) -> {(task_id, map_index): ti}
TRIES = {}      # (dag_id, run_id, task_id, map_index) -> [ti snapshots]
LOGS = {}       # (dag_id, run_id, task_id, map_index, try) -> [records]
XCOM = {}       # (dag_id, run_id, task_id, map_index) -> {key: value}
VARIABLES = {}
CONNECTIONS = {}
POOLS = {}
EVENT_LOGS = []
IMPORT_ERRORS = [{
    "import_error_id": 1, "timestamp": "2026-11-22T11:15:48.957397Z", "filename": "broken_dag.py", "bundle_name": "dags-folder",
    "stack_trace": "Traceback (most recent call last):\n  File \"<frozen importlib._bootstrap>\", line 241, in _call_with_frames_removed\n  File \"/home/airflow/dags/broken_dag.py\", line 2, in <module>\n    raise ValueError(\"intentional import error for compat testing\")\nValueError: intentional import error for compat testing\n",
}]


def version_obj(dag_id, n, created):
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{dag_id}/{n}")), "version_number": n, "dag_id": dag_id,
            "bundle_name": "dags-folder", "bundle_version": None, "created_at": created, "dag_display_name": dag_id, "bundle_url": None}


def task_obj(task_id, downstream, operator="BashOperator", mapped=False):
    return {
        "task_id": task_id, "task_display_name": task_id, "owner": "airflow", "start_date": "2025-01-01T00:00:00Z", "end_date": None,
        "trigger_rule": "all_success", "depends_on_past": False, "wait_for_downstream": False, "retries": 0.0, "queue": "default",
        "pool": "default_pool", "pool_slots": 1.0, "execution_timeout": None,
        "retry_delay": {"__type": "TimeDelta", "days": 0, "seconds": 300, "microseconds": 0}, "retry_exponential_backoff": 0.0,
        "priority_weight": 1.0, "weight_rule": "downstream", "ui_color": "#ffefeb", "ui_fgcolor": "#000",
        "template_fields": ["bash_command", "env", "cwd"] if operator == "BashOperator" else [], "downstream_task_ids": list(downstream),
        "doc_md": None, "operator_name": operator, "params": {}, "class_ref": {"module_path": "airflow.providers.standard.operators.bash", "class_name": operator},
        "is_mapped": mapped, "extra_links": [],
    }


def add_dag(dag_id, tasks, schedule=None, sched_desc="Never, external triggers only", tags=(), params=None, description=None,
            paused=False, source=None, versions=1, owners=("airflow",)):
    created = "2026-11-22T11:14:48.576999Z"
    DAGS[dag_id] = {
        "dag_id": dag_id, "dag_display_name": dag_id, "is_paused": paused, "is_stale": False,
        "last_parsed_time": iso(now()), "last_parse_duration": 0.19, "last_expired": None, "bundle_name": "dags-folder", "bundle_version": None,
        "relative_fileloc": f"{dag_id}.py", "fileloc": f"/home/me/dags/{dag_id}.py", "description": description,
        "timetable_summary": schedule, "timetable_description": sched_desc, "timetable_partitioned": False,
        "tags": [{"name": t, "dag_id": dag_id, "dag_display_name": dag_id} for t in tags],
        "max_active_tasks": 16, "max_active_runs": 16, "max_consecutive_failed_dag_runs": 0, "has_task_concurrency_limits": False,
        "has_import_errors": False,
        "next_dagrun_logical_date": "2026-11-23T00:00:00Z" if schedule else None,
        "next_dagrun_data_interval_start": "2026-11-23T00:00:00Z" if schedule else None,
        "next_dagrun_data_interval_end": "2026-11-23T00:00:00Z" if schedule else None,
        "next_dagrun_run_after": "2026-11-23T00:00:00Z" if schedule else None,
        "allowed_run_types": None, "owners": list(owners), "file_token": "x",
        "_params": params or {},
    }
    TASKS[dag_id] = tasks
    VERSIONS[dag_id] = [version_obj(dag_id, n, created) for n in range(1, versions + 1)]
    src = source or f"from airflow.sdk import DAG\n\nwith DAG(dag_id=\"{dag_id}\", schedule={schedule!r}) as dag:\n" + \
        "".join(f"    {t['task_id'].replace('.', '_')} = BashOperator(task_id=\"{t['task_id']}\", bash_command=\"echo hi\")\n" for t in tasks)
    SOURCES[dag_id] = {n: f"# {dag_id} v{n}\n" + src for n in range(1, versions + 1)}
    RUNS[dag_id] = []


def details(dag_id):
    d = {k: v for k, v in DAGS[dag_id].items() if not k.startswith('_')}
    d.update({"catchup": False, "dag_run_timeout": None, "asset_expression": None, "doc_md": "Example DAG for UI development.",
              "start_date": "2025-01-01T00:00:00Z", "end_date": None, "is_paused_upon_creation": None, "params": DAGS[dag_id]["_params"],
              "render_template_as_native_obj": False, "template_search_path": None, "timezone": "UTC", "last_parsed": d["last_parsed_time"],
              "default_args": {"retries": 0}, "owner_links": {}, "is_favorite": False,
              "active_runs_count": sum(1 for r in RUNS[dag_id] if r["state"] in ("queued", "running")), "concurrency": 16,
              "latest_dag_version": VERSIONS[dag_id][-1]})
    return d


def topo(dag_id):
    tasks = TASKS[dag_id]
    indeg = {t["task_id"]: 0 for t in tasks}
    for t in tasks:
        for d in t["downstream_task_ids"]:
            indeg[d] += 1
    order, ready = [], sorted(k for k, v in indeg.items() if not v)
    byid = {t["task_id"]: t for t in tasks}
    while ready:
        k = ready.pop(0)
        order.append(k)
        for d in byid[k]["downstream_task_ids"]:
            indeg[d] -= 1
            if not indeg[d]:
                ready.append(d)
    return order


def ti_obj(dag_id, run, task, map_index=-1, state=None, try_number=0, start=None, end=None):
    op = task["operator_name"]
    return {
        "id": str(uuid.uuid4()), "task_id": task["task_id"], "dag_id": dag_id, "dag_run_id": run["dag_run_id"], "map_index": map_index,
        "logical_date": run["logical_date"], "run_after": run["run_after"], "start_date": iso(start), "end_date": iso(end),
        "duration": (end - start).total_seconds() if start and end else None, "state": state, "try_number": try_number, "max_tries": 1,
        "task_display_name": task["task_id"], "dag_display_name": dag_id, "hostname": "laptop" if start else "", "unixname": "me",
        "pool": "default_pool", "pool_slots": 1, "queue": "default", "priority_weight": 1, "operator": op, "operator_name": op,
        "queued_when": iso(start), "scheduled_when": iso(start), "pid": 4242 if start else None, "executor": None, "executor_config": "{}",
        "note": None, "rendered_map_index": str(map_index) if map_index >= 0 else None,
        "rendered_fields": {"bash_command": f"echo running {task['task_id']}", "env": None, "cwd": None} if op == "BashOperator" else {},
        "trigger": None, "triggerer_job": None, "dag_version": VERSIONS[dag_id][-1],
    }


def log_records(dag_id, run_id, task_id, try_number, failed=False, n=6):
    ts = now()
    base = {"try_number": try_number, "map_index": -1, "dag_id": dag_id, "run_id": run_id, "task_id": task_id, "logger": "task"}
    recs = [{"timestamp": None, "event": "::group::Log message source details"},
            {"timestamp": None, "event": f"/home/me/logs/dag_id={dag_id}/run_id={run_id}/task_id={task_id}/attempt={try_number}.log"},
            {"timestamp": None, "event": "::endgroup::"}]
    def r(i, ev, level="info"):
        return dict(base, timestamp=iso(ts + dt.timedelta(milliseconds=37 * i)), event=ev, level=level)
    recs += [r(0, "::group::Pre Execute"), r(1, "DAG bundles loaded: dags-folder"), r(2, "::endgroup::"),
             r(3, f"Running command: ['/usr/bin/bash', '-c', 'echo running {task_id}']"), r(4, "Output:")]
    for i in range(n):
        recs.append(r(5 + i, f"processing batch {i + 1}/{n} of {task_id}: ok"))
    recs.append(r(20, "WARNING - slow disk detected, continuing", "warning"))
    if failed:
        recs += [r(30, "Task failed with exception", "error"),
                 dict(r(31, "Traceback (most recent call last):\n  File \"/home/me/dags/x.py\", line 3, in run\n    raise RuntimeError('boom')\nRuntimeError: boom", "error"))]
    else:
        recs.append(r(40, "Command exited with return code 0"))
    return recs


def make_run(dag_id, i, state, when, run_type="scheduled", conf=None):
    prefix = "scheduled" if run_type == "scheduled" else "manual"
    run_id = f"{prefix}__{when.strftime('%Y-%m-%dT%H:%M:%S')}+00:00"
    start = when + dt.timedelta(seconds=2) if state != "queued" else None
    dur = 8 + (i * 7) % 40
    end = start + dt.timedelta(seconds=dur) if state in ("success", "failed") else None
    return {
        "dag_run_id": run_id, "dag_id": dag_id, "logical_date": iso(when) if run_type == "scheduled" else None, "queued_at": iso(when),
        "start_date": iso(start), "end_date": iso(end), "duration": dur if end else None,
        "data_interval_start": iso(when), "data_interval_end": iso(when), "run_after": iso(when), "last_scheduling_decision": iso(end),
        "run_type": run_type, "state": state, "triggered_by": "timetable" if run_type == "scheduled" else "rest_api",
        "triggering_user_name": None if run_type == "scheduled" else "admin", "conf": conf or {}, "note": None,
        "dag_versions": [VERSIONS[dag_id][-1]], "bundle_version": None, "dag_display_name": dag_id, "partition_key": None,
    }


def seed_run_tis(dag_id, run, rng):
    order = topo(dag_id)
    byid = {t["task_id"]: t for t in TASKS[dag_id]}
    key = (dag_id, run["dag_run_id"])
    TIS[key] = {}
    start = dt.datetime.fromisoformat(run["start_date"].replace("Z", "+00:00")) if run["start_date"] else None
    fail_at = rng.randrange(len(order)) if run["state"] == "failed" else None
    running_at = rng.randrange(len(order)) if run["state"] == "running" else None
    failed_seen = False
    for k, tid in enumerate(order):
        t = byid[tid]
        if run["state"] == "success":
            st = "skipped" if rng.random() < 0.04 else "success"
        elif run["state"] == "failed":
            st = "failed" if k == fail_at else ("upstream_failed" if failed_seen else "success")
            failed_seen = failed_seen or k == fail_at
        elif run["state"] == "running":
            st = "success" if k < running_at else "running" if k == running_at else "queued" if k == running_at + 1 else "scheduled" if k == running_at + 2 else None
        else:
            st = None
        tstart = start + dt.timedelta(seconds=k) if start and st in ("success", "failed", "running", "skipped") else None
        tend = tstart + dt.timedelta(seconds=1 + k % 5) if tstart and st != "running" else None
        tryn = 1 if tstart else 0
        if t["is_mapped"] and st not in (None, "upstream_failed"):
            for m in range(3):
                mst = st if not (st == "running" and m == 2) else "queued"
                TIS[key][(tid, m)] = ti_obj(dag_id, run, t, m, mst, tryn, tstart, tend)
        else:
            TIS[key][(tid, -1)] = ti_obj(dag_id, run, t, -1, st, tryn, tstart, tend)
    for (tid, m), ti in TIS[key].items():
        if ti["try_number"]:
            LOGS[(dag_id, run["dag_run_id"], tid, m, 1)] = log_records(dag_id, run["dag_run_id"], tid, 1, ti["state"] == "failed")
            XCOM[(dag_id, run["dag_run_id"], tid, m)] = {"return_value": {"x": 1, "y": [1, 2, 3]}} if tid == "produce" else {}


def seed():
    rng = random.Random(7)
    add_dag("compat_failing", [task_obj("boom", ["after"]), task_obj("after", [], "EmptyOperator")], tags=())
    add_dag("compat_linear", [task_obj("extract", ["transform"]), task_obj("transform", ["load"]), task_obj("load", [], "EmptyOperator")],
            tags=("compat", "linear"), description="Linear bash pipeline",
            source=open(os.path.join(UI, "dev", "sample_dag.py")).read() if os.path.exists(os.path.join(UI, "dev", "sample_dag.py")) else None, versions=3)
    add_dag("compat_taskflow", [
        task_obj("consume", ["grp.inner1"], "@task"), task_obj("fanout", ["square"], "@task"), task_obj("grp.inner1", ["grp.inner2"], "@task"),
        task_obj("grp.inner2", [], "@task"), task_obj("produce", ["consume"], "@task"), task_obj("square", [], "@task", mapped=True)],
        schedule="0 0 * * *", sched_desc="At 00:00", tags=("compat",))
    add_dag("example_params", [task_obj("print_params", [], "PythonOperator")], tags=("params",), description="Every kind of param input",
            params={
                "name": {"value": "world", "schema": {"type": "string", "minLength": 2, "maxLength": 20}, "description": "Who to greet"},
                "count": {"value": 3, "schema": {"type": "integer", "minimum": 1, "maximum": 10}, "description": "How many times"},
                "ratio": {"value": 0.5, "schema": {"type": "number"}, "description": None},
                "flavour": {"value": "vanilla", "schema": {"type": "string", "enum": ["vanilla", "chocolate", "mint"]}, "description": "Pick one"},
                "dry_run": {"value": False, "schema": {"type": "boolean"}, "description": "Only pretend"},
                "targets": {"value": ["a", "b"], "schema": {"type": "array"}, "description": "List of targets"},
                "options": {"value": {"retries": 2}, "schema": {"type": "object"}, "description": None},
                "run_date": {"value": "2026-01-01", "schema": {"type": "string", "format": "date"}, "description": None},
                "required_text": {"value": None, "schema": {"type": "string"}, "description": "No default: must be filled"},
                "optional_note": {"value": None, "schema": {"type": ["null", "string"]}, "description": None},
            })
    # A big DAG: 100 tasks in groups, for the grid and graph.
    big = []
    prev = None
    for g, n in (("extract", 20), ("transform", 30), ("transform.clean", 10), ("load", 20)):
        for i in range(n):
            tid = f"{g}.t{i:02d}"
            big.append([tid, []])
    big += [[f"report_{i}", []] for i in range(20)]
    ids = [t[0] for t in big]
    for i, (tid, ds) in enumerate(big):
        if tid.startswith("extract"):
            ds.append(f"transform.t{int(tid[-2:]) % 30:02d}")
        elif tid.startswith("transform.clean"):
            ds.append(f"load.t{int(tid[-2:]) * 2:02d}")
        elif tid.startswith("transform"):
            k = int(tid[-2:])
            ds.append(f"transform.clean.t{k % 10:02d}" if k % 3 == 0 else f"load.t{k % 20:02d}")
        elif tid.startswith("load"):
            ds.append(f"report_{int(tid[-2:])}")
    add_dag("big_dag", [task_obj(t, ds, "BashOperator", mapped=(t == "load.t05")) for t, ds in big], schedule="@hourly",
            sched_desc="Every hour", tags=("big", "demo"), description="100 tasks in nested groups")
    del ids, prev
    for i in range(ARGS.dags):
        add_dag(f"generated_{i:03d}", [task_obj("a", ["b"]), task_obj("b", ["c"]), task_obj("c", [])],
                schedule="*/15 * * * *" if i % 2 else None, sched_desc="Every 15 minutes" if i % 2 else "Never", tags=(f"team{i % 5}",),
                paused=i % 7 == 0)
    base = now() - dt.timedelta(days=1)
    for dag_id in DAGS:
        n = ARGS.big_runs if dag_id == "big_dag" else (14 if not dag_id.startswith("generated") else rng.randrange(0, 16))
        for i in range(n):
            st = "running" if i == n - 1 and dag_id in ("big_dag", "compat_taskflow") else rng.choice(["success"] * 6 + ["failed"])
            when = base + dt.timedelta(minutes=37 * i)
            run = make_run(dag_id, i, st, when, "scheduled" if i % 3 else "manual", {"k": "v"} if i % 3 == 0 else None)
            RUNS[dag_id].append(run)
            seed_run_tis(dag_id, run, rng)
    VARIABLES["compat_var"] = {"key": "compat_var", "value": "42", "description": "d", "is_encrypted": True, "team_name": None}
    VARIABLES["config_json"] = {"key": "config_json", "value": json.dumps({"env": "dev", "retries": 3}), "description": None, "is_encrypted": True, "team_name": None}
    CONNECTIONS["compat_conn"] = {"connection_id": "compat_conn", "conn_type": "http", "description": None, "host": "example.org", "login": None,
                                  "schema": None, "port": None, "password": "secret", "extra": None, "team_name": None}
    POOLS["default_pool"] = {"name": "default_pool", "slots": 128, "description": "Default pool", "include_deferred": False, "team_name": None}
    for i in range(60):
        EVENT_LOGS.append({"event_log_id": i + 1, "when": iso(base + dt.timedelta(minutes=i)), "dag_id": "compat_linear" if i % 2 else None,
                           "task_id": None, "run_id": None, "map_index": None, "try_number": None, "event": ["cli_scheduler", "trigger", "paused"][i % 3],
                           "logical_date": None, "owner": "admin", "extra": json.dumps({"host_name": "laptop"}), "dag_display_name": None, "task_display_name": None})


def pool_view(p):
    running = sum(1 for tis in TIS.values() for ti in tis.values() if ti["state"] == "running")
    queued = sum(1 for tis in TIS.values() for ti in tis.values() if ti["state"] == "queued")
    return dict(p, occupied_slots=running + queued, running_slots=running, queued_slots=queued, scheduled_slots=0,
                open_slots=max(0, p["slots"] - running - queued), deferred_slots=0)


def conn_view(c):
    return dict(c, password="***" if c.get("password") else None)


# ---------------------------------------------------------------------------------------------
# Simulator
# ---------------------------------------------------------------------------------------------
def simulate(dag_id, run_id, fail_task=None, only=None):
    """Walks the run's task instances through their states, one at a time in topological order."""
    time.sleep(0.4)
    key = (dag_id, run_id)
    run = next(r for r in RUNS[dag_id] if r["dag_run_id"] == run_id)
    with LOCK:
        run["state"] = "running"
        run["start_date"] = run["start_date"] or iso(now())
    publish("dag_run", {"dag_id": dag_id, "run_id": run_id, "state": "running"})
    failed = False
    for tid in topo(dag_id):
        items = sorted(k for k in TIS[key] if k[0] == tid)
        for (t, m) in items:
            ti = TIS[key][(t, m)]
            if only is not None and (t, m) not in only:
                continue
            if ti["state"] in ("success", "skipped"):
                continue
            if failed:
                with LOCK:
                    ti["state"] = "upstream_failed"
                publish("task_instance", {"dag_id": dag_id, "run_id": run_id, "task_id": t, "map_index": m, "state": "upstream_failed", "try_number": ti["try_number"]})
                continue
            for st in ("scheduled", "queued"):
                with LOCK:
                    ti["state"] = st
                publish("task_instance", {"dag_id": dag_id, "run_id": run_id, "task_id": t, "map_index": m, "state": st, "try_number": ti["try_number"]})
                time.sleep(0.15)
            with LOCK:
                ti["try_number"] += 1
                ti["state"] = "running"
                ti["start_date"] = iso(now())
                ti["end_date"] = None
                ti["hostname"] = "laptop"
                tries = ti["try_number"]
                LOGS[(dag_id, run_id, t, m, tries)] = []
            publish("task_instance", {"dag_id": dag_id, "run_id": run_id, "task_id": t, "map_index": m, "state": "running", "try_number": tries})
            will_fail = t == fail_task
            for i in range(ARGS.log_lines):
                line = f"step {i + 1}: working on {t}" if not (will_fail and i == ARGS.log_lines - 1) else "ERROR: something broke"
                rec = {"timestamp": iso(now()), "event": line, "level": "error" if line.startswith("ERROR") else "info"}
                with LOCK:
                    LOGS[(dag_id, run_id, t, m, tries)].append(rec)
                publish("log", {"dag_id": dag_id, "run_id": run_id, "task_id": t, "map_index": m, "try_number": tries,
                                "lines": [{"timestamp": rec["timestamp"], "stream": "stderr" if will_fail and i == ARGS.log_lines - 1 else "stdout", "line": line}]})
                time.sleep(ARGS.step)
            st = "failed" if will_fail else "success"
            with LOCK:
                ti["state"] = st
                ti["end_date"] = iso(now())
                ti["duration"] = ARGS.log_lines * ARGS.step
                TRIES.setdefault((dag_id, run_id, t, m), [])
                XCOM[(dag_id, run_id, t, m)] = {"return_value": {"task": t, "ok": not will_fail}}
            publish("task_instance", {"dag_id": dag_id, "run_id": run_id, "task_id": t, "map_index": m, "state": st, "try_number": tries})
            failed = failed or will_fail
    with LOCK:
        run["state"] = "failed" if failed else "success"
        run["end_date"] = iso(now())
        s = dt.datetime.fromisoformat(run["start_date"].replace("Z", "+00:00"))
        run["duration"] = (now() - s).total_seconds()
    publish("dag_run", {"dag_id": dag_id, "run_id": run_id, "state": run["state"]})


def trigger(dag_id, body):
    t = now()
    run = make_run(dag_id, 0, "queued", t, "manual", body.get("conf") or {})
    run["dag_run_id"] = body.get("dag_run_id") or f"manual__{t.isoformat()}"
    run["note"] = body.get("note")
    run["start_date"] = None
    if any(r["dag_run_id"] == run["dag_run_id"] for r in RUNS[dag_id]):
        return 409, {"detail": {"reason": "Unique constraint violation", "message": f"Run {run['dag_run_id']} already exists"}}
    if dag_id == "example_params":
        conf = body.get("conf") or {}
        if not conf.get("required_text"):
            return 400, {"detail": "Invalid input for param required_text: None is not of type 'string'"}
    RUNS[dag_id].append(run)
    key = (dag_id, run["dag_run_id"])
    TIS[key] = {}
    for task in TASKS[dag_id]:
        for m in ((0, 1, 2) if task["is_mapped"] else (-1,)):
            TIS[key][(task["task_id"], m)] = ti_obj(dag_id, run, task, m, None, 0)
    publish("dag_run", {"dag_id": dag_id, "run_id": run["dag_run_id"], "state": "queued"})
    fail_task = "boom" if dag_id == "compat_failing" else None
    threading.Thread(target=simulate, args=(dag_id, run["dag_run_id"], fail_task), daemon=True).start()
    return 200, run


def dev_ticker():
    """Emits a few events now and then so the live paths get exercised even without triggers."""
    while True:
        time.sleep(ARGS.tick)
        publish("dag_updated", {"dag_id": "compat_linear", "version_number": VERSIONS["compat_linear"][-1]["version_number"]})


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------
def page(items, q, key, default_limit=50):
    limit = int(q.get("limit", [default_limit])[0])
    offset = int(q.get("offset", [0])[0])
    return {key: items[offset:offset + limit], "total_entries": len(items)}


def sort_by(items, q, default=None):
    ob = q.get("order_by", [default])[0]
    if not ob:
        return items
    rev = ob.startswith("-")
    f = ob.lstrip("-")
    return sorted(items, key=lambda x: (x.get(f) is None, x.get(f) or ""), reverse=rev)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if ARGS.verbose:
            super().log_message(fmt, *a)

    def send_json(self, status, obj, ctype="application/json"):
        data = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def send_file(self, path):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return self.send_json(404, {"detail": "Not Found"})
        ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if path.endswith(".js"):
            ctype = "text/javascript"
        self.send_response(200)
        self.send_header("Content-Type", ctype + ("; charset=utf-8" if ctype.startswith("text") else ""))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(data)

    def authed(self):
        if not ARGS.auth:
            return True
        h = self.headers.get("Authorization", "")
        tok = h[7:] if h.startswith("Bearer ") else None
        if not tok:
            m = re.search(r"(?:^|;\s*)_token=([^;]+)", self.headers.get("Cookie", ""))
            tok = unquote(m.group(1)) if m else None
        return tok in TOKENS

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if not n:
            return {}
        try:
            return json.loads(self.rfile.read(n))
        except ValueError:
            return {}

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PATCH(self):
        self.route("PATCH")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        u = urlsplit(self.path)
        path, q = u.path, parse_qs(u.query)
        if ARGS.latency:
            time.sleep(ARGS.latency)
        if path.startswith("/static/"):
            return self.send_file(os.path.join(UI, os.path.normpath(unquote(path[8:])).lstrip("/")))
        if path.startswith("/dev/"):
            return self.send_file(os.path.join(UI, "dev", os.path.normpath(unquote(path[5:])).lstrip("/")))
        if path == "/auth/token" and method == "POST":
            b = self.body()
            if b.get("username") == "admin" and b.get("password") == "admin":
                tok = uuid.uuid4().hex
                TOKENS.add(tok)
                return self.send_json(201, {"access_token": tok})
            return self.send_json(401, {"detail": "Invalid credentials"})
        if path == "/ui/events":
            if not self.authed():
                return self.send_json(401, {"detail": "Not authenticated"})
            return self.sse()
        if not path.startswith("/api/"):
            return self.send_file(os.path.join(UI, "index.html"))
        if path == "/api/v2/version":
            return self.send_json(200, {"version": "3.2.2", "git_version": "leoflow-mock"})
        if not self.authed():
            return self.send_json(401, {"detail": "Not authenticated"})
        segs = [unquote(s) for s in path.split("/")[3:]]
        try:
            with LOCK:
                res = self.api(method, segs, q)
        except KeyError as e:
            res = (404, {"detail": f"Not found: {e}"})
        except StopIteration:
            res = (404, {"detail": "Not found"})
        if isinstance(res, tuple) and len(res) == 3:
            return self.send_json(res[0], res[1], res[2])
        self.send_json(*res)

    def sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        q = queue.Queue()
        with LOCK:
            CLIENTS.append(q)
        try:
            self.wfile.write(b": hello\n\n")
            self.wfile.flush()
            while True:
                try:
                    kind, data = q.get(timeout=15)
                    self.wfile.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
                except queue.Empty:
                    self.wfile.write(b": ping\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            with LOCK:
                CLIENTS.remove(q)
            self.close_connection = True

    # ---- /api/v2 ----
    def api(self, method, s, q):
        n = len(s)
        if s == ["monitor", "health"]:
            return 200, {"metadatabase": {"status": "healthy"}, "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": iso(now())},
                         "triggerer": {"status": "healthy", "latest_triggerer_heartbeat": iso(now())},
                         "dag_processor": {"status": "healthy", "latest_dag_processor_heartbeat": iso(now())}}
        if s == ["auth", "logout"]:
            return 200, {}
        if s == ["importErrors"]:
            return 200, page(IMPORT_ERRORS, q, "import_errors")
        if s == ["dagTags"]:
            tags = sorted({t["name"] for d in DAGS.values() for t in d["tags"]})
            return 200, {"tags": tags, "total_entries": len(tags)}
        if s == ["eventLogs"]:
            items = EVENT_LOGS
            if q.get("dag_id_pattern"):
                items = [e for e in items if e["dag_id"] and q["dag_id_pattern"][0] in e["dag_id"]]
            if q.get("event_pattern"):
                items = [e for e in items if q["event_pattern"][0] in e["event"]]
            return 200, page(sort_by(items, q, "-when"), q, "event_logs")
        for coll, store, idf, view in (("variables", VARIABLES, "key", dict), ("connections", CONNECTIONS, "connection_id", conn_view), ("pools", POOLS, "name", pool_view)):
            if s[0] != coll:
                continue
            if n == 1 and method == "GET":
                items = [view(v) for v in store.values()]
                pat = next((v[0] for k, v in q.items() if k.endswith("_pattern")), None)
                if pat:
                    items = [i for i in items if pat.lower() in i[idf].lower()]
                return 200, page(sorted(items, key=lambda x: x[idf]), q, coll)
            if n == 1 and method == "POST":
                b = self.body()
                if not b.get(idf):
                    return 422, {"detail": [{"type": "missing", "loc": ["body", idf], "msg": "Field required"}]}
                if b[idf] in store:
                    return 409, {"detail": f"The {coll[:-1]} with {idf} `{b[idf]}` already exists"}
                store[b[idf]] = dict(b)
                return 201, view(store[b[idf]])
            item = store[s[1]]
            if method == "GET":
                return 200, view(item)
            if method == "PATCH":
                b = self.body()
                mask = q.get("update_mask")
                for k, v in b.items():
                    if mask is None or k in mask:
                        item[k] = v
                return 200, view(item)
            if method == "DELETE":
                if coll == "pools" and s[1] == "default_pool":
                    return 400, {"detail": "Default Pool can't be deleted"}
                del store[s[1]]
                return 204, ""
        if s[0] == "dagSources":
            dag_id = s[1]
            v = int(q.get("version_number", [VERSIONS[dag_id][-1]["version_number"]])[0])
            return 200, {"content": SOURCES[dag_id][v], "dag_id": dag_id, "version_number": v, "dag_display_name": dag_id}
        if s[0] != "dags":
            return 404, {"detail": "Not Found"}
        if n == 1:
            items = [{k: v for k, v in d.items() if not k.startswith("_")} for d in DAGS.values()]
            if q.get("dag_id_pattern"):
                p = q["dag_id_pattern"][0].replace("%", "").lower()
                items = [d for d in items if p in d["dag_id"].lower()]
            if q.get("tags"):
                items = [d for d in items if {t["name"] for t in d["tags"]} & set(q["tags"])]
            if q.get("paused"):
                want = q["paused"][0] == "true"
                items = [d for d in items if d["is_paused"] == want]
            return 200, page(sort_by(items, q, "dag_id"), q, "dags", 100)
        dag_id = s[1]
        if dag_id != "~" and dag_id not in DAGS:
            return 404, {"detail": f"The Dag with ID: `{dag_id}` was not found"}
        if n == 2:
            if method == "PATCH":
                b = self.body()
                DAGS[dag_id]["is_paused"] = bool(b.get("is_paused"))
                return 200, {k: v for k, v in DAGS[dag_id].items() if not k.startswith("_")}
            return 200, {k: v for k, v in DAGS[dag_id].items() if not k.startswith("_")}
        if s[2] == "details":
            return 200, details(dag_id)
        if s[2] == "tasks":
            return 200, {"tasks": sorted(TASKS[dag_id], key=lambda t: t["task_id"]), "total_entries": len(TASKS[dag_id])}
        if s[2] == "dagVersions":
            return 200, {"dag_versions": VERSIONS[dag_id], "total_entries": len(VERSIONS[dag_id])}
        if s[2] == "clearTaskInstances":
            b = self.body()
            run_id = b.get("dag_run_id")
            ids = b.get("task_ids") or []
            sel = set()
            for x in ids:
                sel |= {k for k in TIS[(dag_id, run_id)] if (k[0] == x if isinstance(x, str) else k == tuple(x))}
            if b.get("include_downstream"):
                byid = {t["task_id"]: t for t in TASKS[dag_id]}
                stack = [k[0] for k in sel]
                while stack:
                    for d in byid[stack.pop()]["downstream_task_ids"]:
                        new = {k for k in TIS[(dag_id, run_id)] if k[0] == d}
                        if not new <= sel:
                            sel |= new
                            stack.append(d)
            if b.get("only_failed"):
                sel = {k for k in sel if TIS[(dag_id, run_id)][k]["state"] in ("failed", "upstream_failed")}
            tis = [TIS[(dag_id, run_id)][k] for k in sorted(sel)]
            if not b.get("dry_run", True):
                self.clear(dag_id, run_id, sel)
            return 200, {"task_instances": tis, "total_entries": len(tis)}
        if s[2] != "dagRuns":
            return 404, {"detail": "Not Found"}
        if n == 3:
            if method == "POST":
                return trigger(dag_id, self.body())
            runs = RUNS[dag_id] if dag_id != "~" else [r for rs in RUNS.values() for r in rs]
            if q.get("state"):
                runs = [r for r in runs if r["state"] in q["state"]]
            return 200, page(sort_by(runs, q, "run_after"), q, "dag_runs", 100)
        run_id = s[3]
        if n == 4 or (n == 5 and s[4] == "clear"):
            if run_id != "~":
                run = next(r for r in RUNS[dag_id] if r["dag_run_id"] == run_id)
            if n == 5:
                b = self.body()
                sel = {k for k, ti in TIS[(dag_id, run_id)].items() if not b.get("only_failed") or ti["state"] in ("failed", "upstream_failed")}
                tis = [TIS[(dag_id, run_id)][k] for k in sorted(sel)]
                if not b.get("dry_run", True):
                    self.clear(dag_id, run_id, sel)
                return 200, {"task_instances": tis, "total_entries": len(tis)}
            if method == "PATCH":
                b = self.body()
                if "state" in b:
                    run["state"] = b["state"]
                    for ti in TIS[(dag_id, run_id)].values():
                        if ti["state"] not in ("success", "failed", "skipped", "upstream_failed"):
                            ti["state"] = b["state"] if b["state"] == "success" else "skipped"
                    publish("dag_run", {"dag_id": dag_id, "run_id": run_id, "state": b["state"]})
                if "note" in b:
                    run["note"] = b["note"]
                return 200, run
            if method == "DELETE":
                RUNS[dag_id].remove(run)
                TIS.pop((dag_id, run_id), None)
                publish("dag_run", {"dag_id": dag_id, "run_id": run_id, "state": "deleted"})
                return 204, ""
            return 200, run
        if s[4] != "taskInstances":
            return 404, {"detail": "Not Found"}
        if n == 5:
            if run_id == "~":
                keys = [k for k in TIS if dag_id == "~" or k[0] == dag_id]
            else:
                keys = [(dag_id, run_id)]
            items = [ti for k in keys for ti in TIS.get(k, {}).values()]
            if q.get("run_after_gte"):
                items = [ti for ti in items if ti["run_after"] >= q["run_after_gte"][0]]
            if q.get("task_id"):
                items = [ti for ti in items if ti["task_id"] == q["task_id"][0]]
            return 200, page(items, q, "task_instances", 100)
        task_id = s[5]
        rest = s[6:]
        mi = -1
        if rest and re.fullmatch(r"-?\d+", rest[0]):
            mi = int(rest[0])
            rest = rest[1:]
        elif q.get("map_index"):
            mi = int(q["map_index"][0])
        tis = TIS[(dag_id, run_id)]
        if (task_id, mi) not in tis:
            if mi == -1 and any(k[0] == task_id for k in tis):
                return 404, {"detail": "Task instance is mapped, add the map_index value to the URL"}
            return 404, {"detail": f"The Task Instance with dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: `{task_id}` and map_index: `{mi}` was not found"}
        ti = tis[(task_id, mi)]
        if not rest:
            if method == "PATCH":
                b = self.body()
                ti["state"] = b.get("new_state", ti["state"])
                publish("task_instance", {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": mi, "state": ti["state"], "try_number": ti["try_number"]})
                return 200, {"task_instances": [ti], "total_entries": 1}
            return 200, ti
        if rest[0] == "tries":
            hist = TRIES.get((dag_id, run_id, task_id, mi), [])
            items = hist + ([ti] if ti["try_number"] else [])
            return 200, {"task_instances": items, "total_entries": len(items)}
        if rest[0] == "logs":
            tn = int(rest[1])
            recs = LOGS.get((dag_id, run_id, task_id, mi, tn))
            if recs is None:
                return 404, {"detail": "Log not found"}
            if "ndjson" in self.headers.get("Accept", ""):
                return 200, "\n".join(json.dumps(r) for r in recs) + "\n", "application/x-ndjson"
            return 200, {"content": recs, "continuation_token": None}
        if rest[0] == "xcomEntries":
            xs = XCOM.get((dag_id, run_id, task_id, mi), {})
            if len(rest) == 1:
                items = [{"key": k, "timestamp": ti["end_date"], "logical_date": None, "map_index": mi, "task_id": task_id, "dag_id": dag_id,
                          "run_id": run_id, "dag_display_name": dag_id, "task_display_name": task_id, "run_after": ti["run_after"]} for k in xs]
                return 200, {"xcom_entries": items, "total_entries": len(items)}
            return 200, {"key": rest[1], "value": xs[rest[1]], "map_index": mi, "task_id": task_id, "dag_id": dag_id, "run_id": run_id}
        return 404, {"detail": "Not Found"}

    def clear(self, dag_id, run_id, sel):
        run = next(r for r in RUNS[dag_id] if r["dag_run_id"] == run_id)
        for k in sel:
            ti = TIS[(dag_id, run_id)][k]
            if ti["try_number"]:
                TRIES.setdefault((dag_id, run_id, k[0], k[1]), []).append(dict(ti))
            ti["state"] = None
            publish("task_instance", {"dag_id": dag_id, "run_id": run_id, "task_id": k[0], "map_index": k[1], "state": None, "try_number": ti["try_number"]})
        run["state"] = "queued"
        run["end_date"] = None
        publish("dag_run", {"dag_id": dag_id, "run_id": run_id, "state": "queued"})
        threading.Thread(target=simulate, args=(dag_id, run_id, None, set(sel)), daemon=True).start()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--auth", action="store_true")
    p.add_argument("--dags", type=int, default=20, help="extra generated DAGs")
    p.add_argument("--big-runs", type=int, default=30)
    p.add_argument("--step", type=float, default=0.25, help="seconds between simulated log lines")
    p.add_argument("--log-lines", type=int, default=6)
    p.add_argument("--tick", type=float, default=3600)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--verbose", action="store_true")
    ARGS = p.parse_args()
    seed()
    threading.Thread(target=dev_ticker, daemon=True).start()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), H)
    srv.daemon_threads = True
    print(f"mock on http://127.0.0.1:{ARGS.port} (auth={'on' if ARGS.auth else 'off'})", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
