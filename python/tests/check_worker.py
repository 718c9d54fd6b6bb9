#!/usr/bin/env python3
"""Exercise ``boot.py worker``: ping, good and broken parses (hang with and without SIGALRM
handling, os._exit, segfault, exception, stdin reader, stdout printer, background child),
pipelined requests, bad requests, and a re-parse of a modified file. Prints warm timings.

Usage: python3 python/tests/check_worker.py [--python PY]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOOT = os.path.join(ROOT, "python", "boot.py")
CORPUS = os.path.join(ROOT, "tests", "corpus")
EXAMPLES = os.path.join(ROOT, "examples", "dags")

FILES = {
    "good.py": '''
from airflow.sdk import DAG, task
with DAG("worker_good", schedule=None):
    @task
    def a():
        return 1
    a()
''',
    "hang_ignoring_alarm.py": '''
import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
from airflow.sdk import DAG
with DAG("worker_hang_hard", schedule=None):
    while True:
        pass
''',
    "hang.py": '''
import time
from airflow.sdk import DAG
with DAG("worker_hang", schedule=None):
    time.sleep(3600)
''',
    "exit3.py": '''
import os
os._exit(3)
''',
    "segv.py": '''
import ctypes
ctypes.string_at(0)
''',
    "kill_self.py": '''
import os, signal
os.kill(os.getpid(), signal.SIGKILL)
''',
    "raises.py": '''
from airflow.sdk import DAG
raise RuntimeError("boom at import")
''',
    "reads_stdin.py": '''
import sys
data = sys.stdin.read()
from airflow.sdk import DAG
with DAG("worker_stdin_" + str(len(data)), schedule=None):
    pass
''',
    "prints.py": '''
import os, sys
print("hello on stdout")
os.write(1, b"raw fd 1 write\\n")
from airflow.sdk import DAG
with DAG("worker_prints", schedule=None):
    pass
''',
    "spawns.py": '''
import os, subprocess
p = subprocess.Popen(["sleep", "60"])
with open(os.environ["LEOFLOW_TEST_PIDFILE"], "w") as fh:
    fh.write(str(p.pid))
from airflow.sdk import DAG
with DAG("worker_spawns", schedule=None):
    pass
''',
}


class Worker:
    def __init__(self, python, env):
        self.p = subprocess.Popen([python, "-B", BOOT, "worker"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.next_id = 0

    def send(self, obj):
        line = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
        if isinstance(line, str):
            line = line.encode()
        self.p.stdin.write(line + b"\n")
        self.p.stdin.flush()

    def recv(self):
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("worker closed stdout; stderr: %s"
                               % self.p.stderr.read().decode()[-3000:])
        return json.loads(line)

    def call(self, **req):
        self.next_id += 1
        req["id"] = self.next_id
        self.send(req)
        resp = self.recv()
        if resp.get("id") != self.next_id:
            raise AssertionError("id mismatch: sent %s got %r" % (self.next_id, resp))
        return resp

    def parse(self, path, timeout=30, dags_folder=None):
        return self.call(op="parse", path=path, timeout=timeout,
                         dags_folder=dags_folder or os.path.dirname(path))

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=10)
        return rc


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
    if "--python" in argv:
        python = argv[argv.index("--python") + 1]
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    tmp = tempfile.mkdtemp(prefix="leoflow-worker-test-")
    for name, text in FILES.items():
        with open(os.path.join(tmp, name), "w") as fh:
            fh.write(text)
    pidfile = os.path.join(tmp, "child.pid")
    env = dict(os.environ, LEOFLOW_TEST_PIDFILE=pidfile)
    t_start = time.monotonic()
    w = Worker(python, env)
    try:
        r = w.call(op="ping")
        check(r == {"id": 1, "ok": True}, "ping answers {id, ok} (%.0f ms to warm up)"
              % ((time.monotonic() - t_start) * 1000))

        r = w.parse(os.path.join(tmp, "good.py"))
        check([d["dag_id"] for d in r["dags"]] == ["worker_good"] and not r["import_errors"]
              and "duration_ms" in r and r["file"] == os.path.join(tmp, "good.py"),
              "parse of a good file")

        t0 = time.monotonic()
        r = w.parse(os.path.join(tmp, "hang_ignoring_alarm.py"), timeout=1)
        el = time.monotonic() - t0
        ie = r["import_errors"]
        check(len(ie) == 1 and "timed out after 1s" in ie[0]["message"] and el < 5 and
              not r["dags"], "hang ignoring SIGALRM -> hard kill + timeout error (%.2fs, line %s)"
              % (el, ie[0]["lineno"] if ie else None))
        check(bool(ie) and ie[0]["lineno"] in (6, 7), "hard-killed hang still reports the line (%s)" % (ie[0]["lineno"] if ie else None))

        t0 = time.monotonic()
        r = w.parse(os.path.join(tmp, "hang.py"), timeout=1)
        el = time.monotonic() - t0
        ie = r["import_errors"]
        check(len(ie) == 1 and "timed out after 1s" in ie[0]["message"]
              and ie[0]["lineno"] == 5 and el < 3,
              "sleeping hang -> AirflowTaskTimeout at the right line (%.2fs)" % el)

        r = w.parse(os.path.join(tmp, "exit3.py"))
        ie = r["import_errors"]
        check(len(ie) == 1 and "os._exit(3)" in ie[0]["message"] and ie[0]["lineno"] == 3,
              "os._exit(3) -> import error naming the call")

        r = w.parse(os.path.join(tmp, "segv.py"))
        ie = r["import_errors"]
        check(len(ie) == 1 and "SIGSEGV" in ie[0]["message"] and ie[0]["lineno"] == 3,
              "segfault -> import error with line from faulthandler")

        r = w.parse(os.path.join(tmp, "kill_self.py"))
        ie = r["import_errors"]
        check(len(ie) == 1 and "SIGKILL" in ie[0]["message"], "SIGKILL -> import error")

        r = w.parse(os.path.join(tmp, "raises.py"))
        ie = r["import_errors"]
        check(len(ie) == 1 and ie[0]["message"] == "RuntimeError: boom at import"
              and ie[0]["lineno"] == 3 and "Traceback" in ie[0]["traceback"],
              "exception -> import error with traceback")

        r = w.call(op="ping")
        check(r.get("ok") is True, "still serving after crashes")

        r = w.parse(os.path.join(tmp, "reads_stdin.py"))
        check([d["dag_id"] for d in r["dags"]] == ["worker_stdin_0"],
              "a DAG file reading stdin gets EOF, not the worker's requests")

        r = w.parse(os.path.join(tmp, "prints.py"))
        check([d["dag_id"] for d in r["dags"]] == ["worker_prints"],
              "prints (sys.stdout and raw fd 1) do not corrupt the protocol")

        r = w.parse(os.path.join(tmp, "spawns.py"))
        time.sleep(0.2)
        gone = True
        try:
            with open(pidfile) as fh:
                pid = int(fh.read())
            try:
                os.kill(pid, 0)
                with open("/proc/%d/stat" % pid) as fh:
                    gone = fh.read().split()[2] == "Z"
            except (ProcessLookupError, FileNotFoundError):
                gone = True
        except OSError:
            gone = False
        check(bool(r["dags"]) and gone, "background processes of the parse are killed")

        # Pipelining: several requests written at once are answered in order.
        base = w.next_id
        reqs = [{"id": base + 1, "op": "ping"},
                {"id": base + 2, "op": "parse", "path": os.path.join(tmp, "good.py")},
                {"id": base + 3, "op": "parse", "path": os.path.join(tmp, "raises.py")},
                {"id": base + 4, "op": "ping"}]
        w.send("\n".join(json.dumps(x) for x in reqs))
        got = [w.recv() for _ in reqs]
        w.next_id = base + 4
        check([g.get("id") for g in got] == [base + 1, base + 2, base + 3, base + 4],
              "pipelined requests answered in order")

        w.send("this is not json")
        r = w.recv()
        check(r.get("id") is None and "invalid request" in r.get("error", ""),
              "invalid JSON -> error answer")
        r = w.call(op="frobnicate")
        check("unknown op" in r.get("error", ""), "unknown op -> error answer")
        r = w.call(op="parse", path=os.path.join(tmp, "does_not_exist.py"))
        check(len(r["import_errors"]) == 1 and "no such DAG file" in r["import_errors"][0]["message"],
              "missing file -> import error")

        # A modified file is re-read (no stale module/bytecode): same size, same second.
        mod = os.path.join(tmp, "modified.py")
        v1 = 'from airflow.sdk import DAG\nwith DAG("mod_aaaa", schedule=None):\n    pass\n'
        v2 = v1.replace("mod_aaaa", "mod_bbbb")
        with open(mod, "w") as fh:
            fh.write(v1)
        r1 = w.parse(mod)
        with open(mod, "w") as fh:
            fh.write(v2)
        r2 = w.parse(mod)
        check([d["dag_id"] for d in r1["dags"]] == ["mod_aaaa"] and
              [d["dag_id"] for d in r2["dags"]] == ["mod_bbbb"],
              "second parse of a modified file sees the new content")

        # Warm timings.
        for label, path in (("hello_taskflow", os.path.join(EXAMPLES, "hello_taskflow.py")),
                            ("corpus taskflow_basic", os.path.join(CORPUS, "taskflow_basic.py"))):
            if not os.path.exists(path):
                continue
            w.parse(path)
            times, inner = [], []
            for _ in range(30):
                t0 = time.monotonic()
                r = w.parse(path)
                times.append((time.monotonic() - t0) * 1000)
                inner.append(r["duration_ms"])
            times.sort()
            inner.sort()
            check(not r["import_errors"], "warm parse of %s: median %.1f ms round trip "
                  "(%.1f ms in worker), min %.1f ms" % (label, times[len(times) // 2],
                                                        inner[len(inner) // 2], times[0]))
        rc = w.close()
        check(rc == 0, "worker exits 0 on stdin EOF")
    except Exception as e:  # noqa: BLE001
        failures.append("exception: %r" % (e,))
        print("FAIL exception: %r" % (e,))
        try:
            w.p.kill()
        except OSError:
            pass
    print("%d failed" % len(failures) if failures else "all worker checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
