#!/usr/bin/env python3
"""Parse every DAG file of tests/corpus through ``boot.py parse`` and check it against
``NAME.expected.json``.

Expected file format::

    {"dags": {dag_id: {<subset of DAG fields>, "tasks": {task_id: {<subset of TASK fields>}}}},
     "import_errors": [{"lineno": N, "message_contains": "..."}]}

Rules: the set of dag ids is exact; each DAG/TASK object is a *subset* match (dicts recurse;
lists must have the same length and their items match by the same rule; scalars are equal); ``tasks`` must list every task of the DAG (the task-id
set is exact); ``upstream`` lists are compared sorted; ``import_errors`` is matched one to one
(same count, in order). Every DAG/TASK must also carry all the keys PROTOCOL.md promises.
Files under ``tests/corpus/helpers`` must parse to no DAGs and no import errors; every file
under ``examples/dags`` must parse to at least one DAG and no import error.

Usage: python3 python/tests/check_corpus.py [--python PY] [-k SUBSTRING] [-v]
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOOT = os.path.join(ROOT, "python", "boot.py")
CORPUS = os.path.join(ROOT, "tests", "corpus")
EXAMPLES = os.path.join(ROOT, "examples", "dags")

DAG_KEYS = {
    "dag_id": str, "fileloc": str, "lineno": (int, type(None)),
    "description": (str, type(None)), "doc_md": (str, type(None)), "owner": str, "tags": list,
    "schedule": (dict, type(None)), "timetable_summary": (str, type(None)),
    "start_date": (str, type(None)), "end_date": (str, type(None)), "timezone": str,
    "catchup": bool, "max_active_runs": int, "max_active_tasks": int,
    "max_consecutive_failed_dag_runs": int, "dagrun_timeout": (float, int, type(None)),
    "is_paused_upon_creation": (bool, type(None)), "render_template_as_native_obj": bool,
    "default_args": dict, "params": dict, "task_groups": list, "tasks": list,
}
TASK_KEYS = {
    "task_id": str, "operator": str, "kind": str, "task_group": (str, type(None)),
    "lineno": (int, type(None)), "upstream": list, "edge_labels": dict, "trigger_rule": str,
    "retries": int, "retry_delay": (float, int), "retry_exponential_backoff": bool,
    "max_retry_delay": (float, int, type(None)), "execution_timeout": (float, int, type(None)),
    "pool": str, "pool_slots": int, "priority_weight": int, "weight_rule": str, "queue": str,
    "owner": str, "do_xcom_push": bool, "multiple_outputs": bool, "depends_on_past": bool,
    "doc_md": (str, type(None)), "template_fields": list, "args": dict,
    "mapped": (dict, type(None)), "image": (str, type(None)),
}
KINDS = {"bash", "python", "empty", "branch", "short_circuit", "sensor", "http",
         "trigger_dagrun", "latest_only", "branch_datetime", "branch_weekday",
         "time_delta_sensor", "docker", "other"}
TRIGGER_RULES = {"all_success", "all_failed", "all_done", "all_done_setup_success",
                 "one_success", "one_failed", "one_done", "none_failed",
                 "none_failed_min_one_success", "none_skipped", "always", "all_skipped",
                 "all_done_min_one_success"}
IE_KEYS = {"filename": str, "lineno": (int, type(None)), "message": str, "traceback": str}


def subset_diff(expected, actual, path):
    """List of human-readable differences where ``expected`` is not a subset of ``actual``."""
    diffs = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return ["%s: expected an object, got %r" % (path, actual)]
        for k, v in expected.items():
            if k not in actual:
                diffs.append("%s.%s: missing (expected %r)" % (path, k, v))
            else:
                diffs.extend(subset_diff(v, actual[k], "%s.%s" % (path, k)))
        return diffs
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return ["%s: expected %s, got %s" % (path, json.dumps(expected), json.dumps(actual))]
        for i, (e, a) in enumerate(zip(expected, actual)):
            diffs.extend(subset_diff(e, a, "%s[%d]" % (path, i)))
        return diffs
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and \
                not isinstance(expected, bool) and not isinstance(actual, bool) and \
                abs(expected - actual) < 1e-9:
            return []
    if expected != actual or type(expected) is bool and type(actual) is not bool:
        diffs.append("%s: expected %s, got %s" % (path, json.dumps(expected),
                                                   json.dumps(actual)))
    return diffs


def schema_diff(obj, keys, path):
    diffs = []
    for k, t in keys.items():
        if k not in obj:
            diffs.append("%s: protocol key %r missing" % (path, k))
        elif not isinstance(obj[k], t) or (t is int and isinstance(obj[k], bool)):
            diffs.append("%s.%s: %r has the wrong type" % (path, k, obj[k]))
    return diffs


def check_protocol(result):
    diffs = []
    for k in ("file", "dags", "import_errors", "duration_ms"):
        if k not in result:
            diffs.append("result: key %r missing" % k)
    for i, ie in enumerate(result.get("import_errors", [])):
        diffs.extend(schema_diff(ie, IE_KEYS, "import_errors[%d]" % i))
        if "\n" in ie.get("message", ""):
            diffs.append("import_errors[%d].message is not one line" % i)
    for d in result.get("dags", []):
        p = "dags[%s]" % d.get("dag_id")
        diffs.extend(schema_diff(d, DAG_KEYS, p))
        sched = d.get("schedule")
        if sched is not None and sched.get("kind") not in (
                "cron", "delta", "once", "continuous", "assets"):
            diffs.append("%s.schedule: bad kind %r" % (p, sched.get("kind")))
        for t in d.get("tasks", []):
            tp = "%s.tasks[%s]" % (p, t.get("task_id"))
            diffs.extend(schema_diff(t, TASK_KEYS, tp))
            if t.get("kind") not in KINDS:
                diffs.append("%s.kind: %r is not a protocol kind" % (tp, t.get("kind")))
            if t.get("trigger_rule") not in TRIGGER_RULES:
                diffs.append("%s.trigger_rule: %r" % (tp, t.get("trigger_rule")))
            if t.get("upstream") != sorted(t.get("upstream", [])):
                diffs.append("%s.upstream is not sorted" % tp)
            ids = {x["task_id"] for x in d["tasks"]}
            for u in t.get("upstream", []):
                if u not in ids:
                    diffs.append("%s.upstream: unknown task %r" % (tp, u))
    return diffs


def compare(expected, result):
    diffs = check_protocol(result)
    dags = {d["dag_id"]: d for d in result.get("dags", [])}
    exp_dags = expected.get("dags", {})
    if set(dags) != set(exp_dags):
        diffs.append("dag ids: expected %s, got %s" % (sorted(exp_dags), sorted(dags)))
    for dag_id, exp in exp_dags.items():
        got = dags.get(dag_id)
        if got is None:
            continue
        exp = dict(exp)
        exp_tasks = exp.pop("tasks", None)
        diffs.extend(subset_diff(exp, got, dag_id))
        if exp_tasks is None:
            diffs.append("%s: expected file must list the tasks" % dag_id)
            continue
        tasks = {t["task_id"]: t for t in got["tasks"]}
        if set(tasks) != set(exp_tasks):
            diffs.append("%s: task ids: expected %s, got %s" % (dag_id, sorted(exp_tasks),
                                                               sorted(tasks)))
        for tid, et in exp_tasks.items():
            gt = tasks.get(tid)
            if gt is None:
                continue
            et = dict(et)
            if "upstream" in et:
                if sorted(et.pop("upstream")) != gt["upstream"]:
                    diffs.append("%s.%s.upstream: expected %s, got %s" % (
                        dag_id, tid, sorted(exp_tasks[tid]["upstream"]), gt["upstream"]))
            diffs.extend(subset_diff(et, gt, "%s.%s" % (dag_id, tid)))
    exp_errs = expected.get("import_errors", [])
    got_errs = result.get("import_errors", [])
    if len(exp_errs) != len(got_errs):
        diffs.append("import_errors: expected %d, got %d: %s" % (
            len(exp_errs), len(got_errs), json.dumps([e.get("message") for e in got_errs])))
    for i, (e, g) in enumerate(zip(exp_errs, got_errs)):
        if "lineno" in e and e["lineno"] != g.get("lineno"):
            diffs.append("import_errors[%d].lineno: expected %s, got %s (%s)" % (
                i, e["lineno"], g.get("lineno"), g.get("message")))
        mc = e.get("message_contains")
        if mc and mc not in g.get("message", ""):
            diffs.append("import_errors[%d].message: %r does not contain %r" % (
                i, g.get("message"), mc))
    return diffs


def parse(python, path, timeout, dags_folder):
    cmd = [python, "-B", BOOT, "parse", "--dags-folder", dags_folder, "--timeout", str(timeout),
           path]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 30)
    if p.returncode != 0:
        raise RuntimeError("boot.py exited %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
    lines = p.stdout.decode("utf-8").splitlines()
    if len(lines) != 1:
        raise RuntimeError("stdout must be exactly one JSON line, got %d lines: %r"
                           % (len(lines), p.stdout[:500]))
    return json.loads(lines[0])


def _drop_bytecode_markers():
    """The runtime compiles itself once per interpreter (``.compiled-<tag>``); after editing
    the shim in a checkout, drop the markers so that fresh bytecode is written again."""
    pydir = os.path.dirname(BOOT)
    for f in os.listdir(pydir):
        if f.startswith(".compiled-"):
            try:
                os.remove(os.path.join(pydir, f))
            except OSError:
                pass


def main(argv):
    _drop_bytecode_markers()
    python = sys.executable
    filt = None
    verbose = False
    i = 0
    while i < len(argv):
        if argv[i] == "--python":
            python = argv[i + 1]
            i += 1
        elif argv[i] == "-k":
            filt = argv[i + 1]
            i += 1
        elif argv[i] == "-v":
            verbose = True
        i += 1
    files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".py"))
    helpers = []
    for root, _dirs, fs in os.walk(os.path.join(CORPUS, "helpers")):
        helpers.extend(os.path.join(root, f) for f in sorted(fs) if f.endswith(".py"))
    examples = []
    for root, _dirs, fs in os.walk(EXAMPLES):
        examples.extend(os.path.join(root, f) for f in sorted(fs) if f.endswith(".py"))
    jobs = [os.path.join(CORPUS, f) for f in files] + helpers + sorted(examples)
    if filt:
        jobs = [j for j in jobs if filt in j]

    def run(path):
        is_example = path.startswith(EXAMPLES + os.sep)
        name = os.path.relpath(path, ROOT if is_example else CORPUS)
        timeout = 2 if os.path.basename(path) == "broken_hang.py" else 30
        try:
            result = parse(python, path, timeout, EXAMPLES if is_example else CORPUS)
        except Exception as e:  # noqa: BLE001
            return name, ["runner: %s" % e], None
        if is_example:
            diffs = check_protocol(result)
            if not result.get("dags") or result.get("import_errors"):
                diffs.append("examples must parse to at least one DAG and no import error: %s"
                             % json.dumps(result.get("import_errors")))
            return name, diffs, result
        if os.path.dirname(path) != CORPUS:
            expected = {"dags": {}, "import_errors": []}
        else:
            exp_path = path[:-3] + ".expected.json"
            if not os.path.exists(exp_path):
                return name, ["missing %s" % os.path.basename(exp_path)], result
            with open(exp_path) as fh:
                text = fh.read().replace("@CORPUS@", json.dumps(CORPUS)[1:-1])
            expected = json.loads(text)
        return name, compare(expected, result), result

    passed = failed = 0
    with ThreadPoolExecutor(max_workers=4) as ex:
        for name, diffs, result in ex.map(run, jobs):
            if diffs:
                failed += 1
                print("FAIL %s" % name)
                for d in diffs:
                    print("    " + d)
                if verbose and result is not None:
                    print(json.dumps(result, indent=1)[:6000])
            else:
                passed += 1
                if verbose:
                    print("ok   %s (%.1f ms)" % (name, result.get("duration_ms", 0)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
