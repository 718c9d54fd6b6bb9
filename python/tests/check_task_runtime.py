#!/usr/bin/env python3
"""Exercise ``boot.py zygote`` (the task runtime) with real DAG files and real tasks.

Starts a zygote, runs task instances the way the server does (TI requests on stdin, pid
answer, unsolicited exit events, result files, NDJSON logs) and checks: TaskFlow XCom
passing, multiple_outputs, nested XComArgs, get_current_context / ti.xcom_pull,
Variable.get / connections (and secret masking), templates, branch / short-circuit /
latest-only, skip / fail / exception / non-JSON return / sys.exit / os._exit / signals,
dynamic task mapping (TI.map_kwargs and local expansion, expand_kwargs, .map, .zip),
@task.bash and BashOperator, sensors, callbacks, container tasks (DockerOperator and
@task.docker: the exact ``container`` object, the exchange files, the harness run with the
host's python3, the fallback ``docker.types``), ``boot.py run-ti`` (one TI in-process),
killing a task's process group (no orphans, no zombies), EOF shutdown, env isolation, and the
fork-to-exit time of 100 tiny tasks.

Usage: python3 python/tests/check_task_runtime.py [--python PY] [-k SUBSTRING] [--keep]
(the zygote runs under --python, default: this interpreter; the work folder is removed after a
fully passing run unless --keep)
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT = os.path.join(os.path.dirname(HERE), "boot.py")

DAGS = {
    "basic.py": r'''
import os
import pendulum
from airflow.sdk import DAG, Variable, task, get_current_context
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.hooks.base import BaseHook

with DAG("rt_basic", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         params={"p": 5}):
    @task
    def make_int():
        print("making an int")
        return 41

    @task
    def make_dict():
        return {"a": 1, "b": [1, 2]}

    @task
    def add(x, d):
        return x + d["a"]

    @task(multiple_outputs=True)
    def multi():
        return {"left": 1, "right": "r"}

    @task
    def use_multi(left, right):
        return "%s-%s" % (left, right)

    @task
    def fan_in(values, nested):
        return {"sum": sum(values), "nested": nested}

    @task
    def ctx_task(ds=None, ti=None, **context):
        c = get_current_context()
        return {
            "ds": ds, "run_id": c["run_id"], "ts": c["ts"],
            "logical_year": c["logical_date"].year,
            "pulled": ti.xcom_pull(task_ids="make_int"),
            "pulled_list": ti.xcom_pull(task_ids=["make_int", "make_dict"]),
            "multi_key": ti.xcom_pull(task_ids="multi", key="left"),
            "missing": ti.xcom_pull(task_ids="nope", default="dflt", map_indexes=None),
            "task_id": c["task"].task_id, "dag_id": c["dag"].dag_id,
            "param": c["params"]["p"], "same_ti": c["ti"] is ti,
            "try_number": ti.try_number, "conf": c["dag_run"].conf,
            "run_type": str(c["dag_run"].run_type),
            "kwargs_has_dag_run": "dag_run" in context,
        }

    @task
    def var_task():
        return {"v": Variable.get("greeting"), "j": Variable.get("cfg", deserialize_json=True),
                "d": Variable.get("missing", default="dflt")}

    @task
    def conn_task():
        c = BaseHook.get_connection("my_db")
        print("password is %s" % c.password)
        return {"host": c.host, "port": c.port, "login": c.login, "extra": c.extra_dejson}

    @task
    def push_task(ti=None):
        ti.xcom_push(key="extra", value=[1, 2, 3])
        return "done"

    @task
    def skip_me():
        raise AirflowSkipException("not today")

    @task
    def fail_hard():
        raise AirflowFailException("no retry please")

    @task
    def boom():
        print("about to fail")
        raise ValueError("boom value")

    @task
    def bad_return():
        return {"ok": [1, {2, 3}]}

    @task
    def templated(day, when, pulled, nested):
        return {"day": day, "when": when, "pulled": pulled, "nested": nested}

    @task
    def exits():
        import sys
        sys.exit(4)

    @task
    def hard_exit():
        os._exit(3)

    @task
    def segv():
        import signal
        os.kill(os.getpid(), signal.SIGSEGV)

    def on_fail(context):
        with open(os.path.join(os.getcwd(), "callback.txt"), "w") as fh:
            fh.write("%s %s" % (context["ti"].task_id, type(context["exception"]).__name__))

    @task(on_failure_callback=on_fail)
    def with_callback():
        raise RuntimeError("callback please")

    @task
    def env_task():
        import subprocess
        return {"leak": os.environ.get("LEOFLOW_ZYGOTE_ONLY"),
                "mine": os.environ.get("TASK_VAR"),
                "sub": subprocess.run(["sh", "-c", "echo ${LEOFLOW_ZYGOTE_ONLY:-none}"],
                                      capture_output=True, text=True).stdout.strip(),
                "cwd": os.getcwd(), "ctx_dag": os.environ.get("AIRFLOW_CTX_DAG_ID")}

    @task
    def fd_output():
        import subprocess
        os.write(1, b"raw fd one\n")
        subprocess.run(["sh", "-c", "echo from-sub; echo sub-err >&2"])
        print("py print")
        import logging
        logging.getLogger("airflow.task").warning("a warning")
        return 1

    @task
    def tiny():
        return 1

    @task
    def mp_task():
        import multiprocessing as mp

        def child():
            print("from mp child", flush=True)

        procs = [mp.get_context("fork").Process(target=child) for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(20)
        return [p.exitcode for p in procs]

    from airflow.sdk import Asset

    @task(outlets=[Asset("s3://bucket/key")])
    def produce(*, outlet_events):
        outlet_events[Asset("s3://bucket/key")].extra["rows"] = 3
        return 1

    i = make_int()
    d = make_dict()
    s = add(i, d)
    m = multi()
    use_multi(m["left"], m["right"])
    fan_in([i, s], {"inner": [d, 3]})
    templated("{{ ds }}", when="{{ ds_nodash }}-{{ params.p }}",
              pulled="{{ ti.xcom_pull(task_ids='make_int') }}",
              nested=["{{ macros.ds_add(ds, 1) }}", {"k": "{{ var.value.greeting | upper }}"}])
    ctx_task()
    var_task()
    conn_task()
    push_task()
    skip_me()
    fail_hard()
    boom()
    bad_return()
    exits()
    hard_exit()
    segv()
    with_callback()
    env_task()
    fd_output()
    tiny()
    mp_task()
    produce()
''',
    "branching.py": r'''
import pendulum
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.latest_only import LatestOnlyOperator

with DAG("rt_branch", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
    @task.branch
    def pick():
        return "left"

    @task
    def left():
        return 1

    @task
    def right():
        return 2

    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    p = pick()
    lt, rt = left(), right()
    p >> [lt, rt]
    [lt, rt] >> join

    @task.short_circuit
    def gate():
        return 0

    @task
    def after():
        return 3

    @task
    def after2():
        return 4

    g = gate()
    a = after()
    g >> a >> after2()

    @task.short_circuit
    def gate_open():
        return "yes"

    gate_open() >> EmptyOperator(task_id="opened")

    from airflow.sdk import TaskGroup

    @task.branch
    def pick_group():
        return "grp"

    with TaskGroup("grp") as grp:
        g1 = EmptyOperator(task_id="g1")
        g2 = EmptyOperator(task_id="g2")
        g1 >> g2
    other = EmptyOperator(task_id="other")
    pick_group() >> [grp, other]

    latest = LatestOnlyOperator(task_id="latest")
    latest >> EmptyOperator(task_id="after_latest")
''',
    "mapped.py": r'''
import pendulum
from airflow.sdk import DAG, task

with DAG("rt_mapped", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
    @task
    def nums():
        return [1, 2, 3]

    @task
    def double(x, factor):
        return x * factor

    @task
    def pair(a, b):
        return "%s%s" % (a, b)

    @task
    def kw(a, b):
        return a - b

    @task
    def total(values):
        return sum(values)

    @task
    def show(v):
        return v

    @task
    def nothing():
        return None

    @task(map_index_template="{{ label }}")
    def labelled(x):
        from airflow.sdk import get_current_context
        get_current_context()["label"] = "item-%s" % x
        return x

    labelled.expand(x=[5, 6])
    n = nums()
    dbl = double.partial(factor=10).expand(x=n)
    total(dbl)
    pair.expand(a=["x", "y"], b=[1, 2])
    kw.expand_kwargs([{"a": 5, "b": 1}, {"a": 9, "b": 4}])
    show.expand(v=n.map(lambda x: x * 100))
    nothing_out = nothing()
    show.override(task_id="show_none").expand(v=nothing_out)
''',
    "bash.py": r'''
import pendulum
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG("rt_bash", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         params={"p": "pv"}):
    @task.bash
    def hello(name):
        return "echo hello {{ ds }} $MYVAR " + name + " && echo last-line"

    @task.bash
    def exit_skip():
        return "echo skipping; exit 99"

    @task.bash
    def exit_fail():
        return "echo bad >&2; exit 3"

    @task.bash
    def sleeper():
        return "sleep 300 & sleep 300; wait"

    @task
    def py_sleeper():
        import subprocess
        import time
        subprocess.Popen(["sleep", "300"])
        print("spawned", flush=True)
        time.sleep(300)

    BashOperator(task_id="classic", bash_command="echo classic {{ params.p }} $AIRFLOW_CTX_TASK_ID")
    hello("bob")
    exit_skip()
    exit_fail()
    sleeper()
    py_sleeper()
''',
    "sensors.py": r'''
import pendulum
from airflow.sdk import DAG, task

with DAG("rt_sensors", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
    calls = []

    @task.sensor(poke_interval=0.05, timeout=10)
    def eventually():
        calls.append(1)
        from airflow.sdk import PokeReturnValue
        return PokeReturnValue(is_done=len(calls) >= 3, xcom_value={"pokes": len(calls)})

    @task.sensor(poke_interval=0.05, timeout=0.2)
    def never():
        return False

    @task.sensor(poke_interval=0.05, timeout=0.2, soft_fail=True)
    def never_soft():
        return False

    eventually()
    never()
    never_soft()
''',
    "misc.py": r'''
import pendulum
from airflow.sdk import DAG
from airflow.providers.http.operators.http import HttpOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

with DAG("rt_misc", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
    HttpOperator(task_id="http_get", http_conn_id="web", endpoint="api/{{ ds }}", method="GET",
                 data={"q": "x"}, response_filter=lambda r: r.json())
    HttpOperator(task_id="http_404", http_conn_id="web", endpoint="missing", method="GET")
    TriggerDagRunOperator(task_id="trigger", trigger_dag_id="other", conf={"a": "{{ ds }}"},
                          trigger_run_id="custom_run")
    EmptyOperator(task_id="nothing")

    import datetime
    from airflow.providers.standard.operators.datetime import BranchDateTimeOperator
    from airflow.providers.standard.operators.weekday import BranchDayOfWeekOperator
    from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor

    TimeDeltaSensor(task_id="td", delta=datetime.timedelta(days=1), poke_interval=0.05)
    dow = BranchDayOfWeekOperator(task_id="dow", follow_task_ids_if_true="yes",
                                  follow_task_ids_if_false="no", week_day="Monday",
                                  use_task_logical_date=True)
    dow >> [EmptyOperator(task_id="yes"), EmptyOperator(task_id="no")]
    dt = BranchDateTimeOperator(task_id="dt", follow_task_ids_if_true="in_window",
                                follow_task_ids_if_false="out_window",
                                target_lower=datetime.datetime(2023, 1, 1),
                                target_upper=datetime.datetime(2023, 1, 2),
                                use_task_logical_date=True)
    dt >> [EmptyOperator(task_id="in_window"), EmptyOperator(task_id="out_window")]
''',
    "containers.py": r'''
import pendulum
from airflow.sdk import DAG, task
from airflow.providers.docker.operators.docker import DockerOperator
from docker.types import Mount

with DAG("rt_docker", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         params={"tag": "3.19"}):
    DockerOperator(
        task_id="classic", image="alpine:{{ params.tag }}",
        command="sh -c 'echo {{ ds }} && ls /data'",
        environment={"DAY": "{{ ds }}", "B": "from-environment"},
        env_file="A=from-file\nB=from-file\n# a comment\nexport C='quoted ${A}'\n",
        private_environment={"TOKEN": "s3cr3t-token"},
        mounts=[Mount(target="/data", source="/srv/data", type="bind"),
                {"target": "/out", "source": "/srv/out", "type": "bind", "read_only": False}],
        mem_limit="512m", auto_remove=True, user="1000:1000", working_dir="/work",
        network_mode="none", cpus=0.5, shm_size="64m", skip_on_exit_code=42,
        container_name="c-{{ ds_nodash }}", labels=["team"], xcom_all=True)
    DockerOperator(task_id="literal", image="alpine:3", entrypoint="/bin/sh -c",
                   command='["echo", "{{ ds }}", "two words"]', env_file="docker_vars.env")
    DockerOperator.partial(task_id="mapped", image="alpine:3").expand(
        command=["echo {{ ds }} one", "echo two"])
    DockerOperator(task_id="bad_mount", image="alpine:3", mounts=[Mount(target="/v", source="vol")])
    DockerOperator(task_id="bad_network", image="alpine:3", network_mode="host")
    DockerOperator(task_id="bad_mem", image="alpine:3", mem_limit="lots")

    @task
    def base():
        return 41

    @task.docker(image="python:3.12-slim", environment={"MODE": "{{ ds }}"},
                 multiple_outputs=True)
    def compute(x, items, scale=1, label=None):
        print("computing", x, label)
        return {"total": (x + sum(items)) * scale}

    @task.docker(image="python:3.12-slim")
    def explode(x):
        raise ValueError("exploded with %s" % x)

    @task.docker(image="python:3.12-slim")
    def returns_set():
        return {1, 2}

    @task.docker(image="python:3.12-slim")
    def takes_set(values):
        return len(values)

    compute(base(), [1, 2], scale=2, label="{{ ds }}")
    explode(5)
    returns_set()
    takes_set({1, 2})
''',
    "docker_vars.env": "FROM_FILE={{ ds }}\n",
    "tiny.py": r'''
from airflow.sdk import DAG, task

with DAG("rt_tiny", schedule=None):
    @task
    def tiny():
        return 1

    tiny()
''',
    "broken.py": r'''
from airflow.sdk import DAG
raise RuntimeError("broken at import")
''',
}


class Zygote:
    """A zygote process plus a reader thread that sorts its stdout lines."""

    def __init__(self, python, env=None, stderr_path=None):
        self.stderr = open(stderr_path or os.devnull, "ab")
        self.proc = subprocess.Popen([python, "-B", BOOT, "zygote"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, env=env)
        self.cond = threading.Condition()
        self.msgs = []
        self.bad_lines = []
        self.eof = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.next_id = 0

    def _read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                msg = None
            with self.cond:
                if msg is None or not isinstance(msg, dict):
                    self.bad_lines.append(line)
                else:
                    msg["_t"] = time.perf_counter()
                    self.msgs.append(msg)
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def send(self, obj):
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def wait_for(self, pred, timeout=30.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, m in enumerate(self.msgs):
                    if pred(m):
                        return self.msgs.pop(i)
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return None
                self.cond.wait(left)

    def request(self, obj, timeout=30.0):
        self.send(obj)
        rid = obj.get("id")
        return self.wait_for(lambda m: m.get("id") == rid and "event" not in m, timeout)

    def start(self, ti):
        self.next_id += 1
        rid = self.next_id
        t0 = time.perf_counter()
        ans = self.request({"id": rid, "op": "run", "ti": ti})
        return rid, ans, t0

    def wait_exit(self, rid, timeout=60.0):
        return self.wait_for(lambda m: m.get("event") == "exit" and m.get("id") == rid, timeout)

    def run(self, ti, timeout=60.0):
        rid, ans, t0 = self.start(ti)
        if not ans or "pid" not in ans:
            return ans, None, None
        ev = self.wait_exit(rid, timeout)
        result = None
        if os.path.exists(ti["result_path"]):
            with open(ti["result_path"]) as fh:
                result = json.load(fh)
        if ev is not None:
            ev["_roundtrip_ms"] = (ev["_t"] - t0) * 1000.0
        return ans, ev, result

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.stderr.close()


class Checker:
    def __init__(self, only=None):
        self.passed = 0
        self.failed = 0
        self.only = only

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok    %s" % name)
        else:
            self.failed += 1
            print("FAIL  %s%s" % (name, (": " + str(detail)[:2000]) if detail else ""))
        return cond


def group_members(pgid):
    """pids (not zombies) whose process group is ``pgid``."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as fh:
                stat = fh.read()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        if int(rest[2]) == pgid and rest[0] != "Z":
            out.append(int(d))
    return out


def zombie_children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as fh:
                rest = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[1]) == ppid and rest[0] == "Z":
            out.append(int(d))
    return out


def read_log(path):
    recs, bad = [], []
    if not os.path.exists(path):
        return recs, bad
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                recs.append(json.loads(line))
            except ValueError:
                bad.append(line)
    return recs, bad


#: The container object every docker check starts from: DockerOperator's defaults.
CONTAINER_DEFAULTS = {
    "image": None, "command": None, "entrypoint": None, "environment": {},
    "private_environment": {}, "user": None, "working_dir": None, "mounts": [],
    "network_mode": None, "mem_limit": None, "cpus": 1.0, "shm_size": None,
    "auto_remove": "never", "skip_on_exit_code": [], "do_xcom_push": True, "xcom_all": False,
    "retrieve_output": False, "retrieve_output_path": None, "mount_tmp_dir": True,
    "force_pull": False, "container_name": None, "labels": {}, "python": None,
}
#: The exact container of rt_docker.classic (every parameter differs from its default).
CLASSIC_CONTAINER = dict(
    CONTAINER_DEFAULTS, image="alpine:3.19", command=["sh", "-c", "echo 2024-01-01 && ls /data"],
    environment={"A": "from-file", "B": "from-environment", "C": "quoted from-file",
                 "DAY": "2024-01-01"},
    private_environment={"TOKEN": "s3cr3t-token"}, user="1000:1000", working_dir="/work",
    mounts=[{"source": "/srv/data", "target": "/data", "read_only": True},
            {"source": "/srv/out", "target": "/out", "read_only": False}],
    network_mode="none", mem_limit=512 * 1024 * 1024, cpus=0.5, shm_size=64 * 1024 * 1024,
    auto_remove="success", skip_on_exit_code=[42], xcom_all=True, container_name="c-20240101",
    labels={"team": ""})
#: The exact container of rt_docker.compute (@task.docker).
COMPUTE_CONTAINER = dict(
    CONTAINER_DEFAULTS, image="python:3.12-slim",
    command=["python3", "/leoflow/exchange/script.py"], environment={"MODE": "2024-01-01"},
    python={"multiple_outputs": True})


def check_docker(c, z, ti, xc, tmp):
    """DockerOperator / @task.docker: the child writes ``state: container`` + ``container``
    (and the exchange files), exits 0; the harness runs with the host's python3."""
    def exchange_dir():
        d = tempfile.mkdtemp(prefix="exchange-", dir=tmp)
        return d

    t = ti("containers.py", "classic")
    _a, ev, res = z.run(t)
    c.check("docker: DockerOperator -> state container, exit 0, no XCom", res and
            res["state"] == "container" and ev["returncode"] == 0 and res["xcom"] == [] and
            res["error"] is None and res["skip"] == [], (ev, res))
    c.check("docker: the exact container object (templated command/env, env_file under "
            "environment, read-only mounts by default, 512m, legacy auto_remove=True)",
            res and res.get("container") == CLASSIC_CONTAINER, res and res.get("container"))
    c.check("docker: rendered_fields are DockerOperator's template fields", res and
            res["rendered_fields"].get("command") == "sh -c 'echo 2024-01-01 && ls /data'" and
            res["rendered_fields"].get("image") == "alpine:3.19" and
            "private_environment" not in res["rendered_fields"], res and res["rendered_fields"])
    recs, _bad = read_log(t["log_path"])
    c.check("docker: the log says the container was prepared (secret not logged)", any(
        "Container prepared" in r["line"] for r in recs) and
        not any("s3cr3t-token" in r["line"] for r in recs), recs)
    _a, ev, res = z.run(ti("containers.py", "literal"))
    c.check("docker: list-literal command, split entrypoint, .env template file",
            res and res.get("container") == dict(
                CONTAINER_DEFAULTS, image="alpine:3",
                command=["echo", "2024-01-01", "two words"], entrypoint=["/bin/sh", "-c"],
                environment={"FROM_FILE": "2024-01-01"}), res and res.get("container"))
    for index, given, want_cmd in ((0, None, ["echo", "2024-01-01", "one"]),
                                   (1, None, ["echo", "two"]),
                                   (1, {"command": "echo two"}, ["echo", "two"])):
        _a, ev, res = z.run(ti("containers.py", "mapped", map_index=index, map_kwargs=given))
        c.check("docker: mapped DockerOperator, map index %d (map_kwargs %s)" % (
            index, "given" if given else "null"), res and res["state"] == "container" and
            res["container"] == dict(CONTAINER_DEFAULTS, image="alpine:3", command=want_cmd),
            res)
    for task_id, words in (("bad_mount", ("mounts[0]", "'volume'", "'bind'")),
                           ("bad_network", ("network_mode 'host'", "'bridge', 'none'")),
                           ("bad_mem", ("mem_limit 'lots'", "'512m'"))):
        _a, ev, res = z.run(ti("containers.py", task_id))
        c.check("docker: %s fails the task, naming it and what is accepted" % task_id,
                res and ev["returncode"] == 1 and res["state"] == "failed" and
                "container" not in res and res["retryable"] is False and
                all(w in res["error"]["message"] for w in words), res)

    ex = exchange_dir()
    _a, ev, res = z.run(ti("containers.py", "compute", xcom=[xc("base", 41)], exchange_dir=ex))
    c.check("@task.docker: state container with the exact container object", res and
            res["state"] == "container" and ev["returncode"] == 0 and
            res.get("container") == COMPUTE_CONTAINER, res)
    try:
        with open(os.path.join(ex, "script.py")) as fh:
            script = fh.read()
        with open(os.path.join(ex, "input.json")) as fh:
            call = json.load(fh)
    except OSError as e:
        script, call = "", e
    c.check("@task.docker: input.json holds the resolved call (XCom, rendered kwargs)",
            call == {"args": [41, [1, 2]], "kwargs": {"scale": 2, "label": "2024-01-01"}}, call)
    c.check("@task.docker: script.py is the function without its decorator + the harness",
            "def compute(x, items, scale=1, label=None):" in script and
            not any(line.lstrip().startswith("@") for line in script.splitlines()) and
            script.rstrip().endswith("_leoflow_sys.exit(_leoflow_main(compute))"), script)
    host_python = shutil.which("python3") or sys.executable
    p = subprocess.run([host_python, os.path.join(ex, "script.py")], capture_output=True,
                       text=True, cwd=tmp, timeout=60)
    try:
        with open(os.path.join(ex, "output.json")) as fh:
            output = json.load(fh)
    except (OSError, ValueError) as e:
        output = e
    c.check("@task.docker harness (host python3): output.json, exit 0, only the function's "
            "prints on stdout", p.returncode == 0 and output == {"return_value": {"total": 88}}
            and p.stdout == "computing 41 2024-01-01\n", (p.returncode, p.stdout, p.stderr,
                                                           output))
    for task_id, want_err in (("explode", "ValueError: exploded with 5"),
                              ("returns_set", "not JSON-serialisable")):
        ex = exchange_dir()
        _a, ev, res = z.run(ti("containers.py", task_id, exchange_dir=ex))
        p = subprocess.run([host_python, os.path.join(ex, "script.py")], capture_output=True,
                           text=True, cwd=tmp, timeout=60)
        out_path = os.path.join(ex, "output.json")
        output = None
        if os.path.exists(out_path):
            with open(out_path) as fh:
                output = json.load(fh)
        if task_id == "explode":  # the traceback on stderr, no output.json
            expected = "Traceback (most recent call last)" in p.stderr and output is None
        else:  # the reason in output.json too
            expected = "error" in (output or {}) and want_err in output["error"]
        c.check("@task.docker harness: %s exits 1 with the reason on stderr" % task_id,
                res and res["state"] == "container" and p.returncode == 1 and
                want_err in p.stderr and p.stdout == "" and expected,
                (res, p.returncode, p.stdout, p.stderr, output))
    _a, ev, res = z.run(ti("containers.py", "takes_set", exchange_dir=exchange_dir()))
    c.check("@task.docker: a non-JSON argument fails the task, naming the argument", res and
            res["state"] == "failed" and ev["returncode"] == 1 and res["retryable"] is False and
            res["error"]["message"] ==
            "@task.docker passes arguments as JSON; argument 'values' is a set", res)
    _a, ev, res = z.run(ti("containers.py", "compute", xcom=[xc("base", 41)]))
    c.check("@task.docker: without TI.exchange_dir the task fails", res and
            res["state"] == "failed" and "exchange_dir" in res["error"]["message"], res)


def check_docker_fallback(c, python):
    """The fallback ``docker.types`` (forced first on sys.path: this machine may have a real
    docker-py) and how ``mount_spec`` reads each form of mount."""
    code = r'''
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import docker
import docker.types as types
from airflow.providers.docker.operators.docker import mount_spec

class DockerPyMount(dict):  # docker-py's Mount: a dict that always records ReadOnly
    pass

try:
    docker.from_env
    client = "available"
except AttributeError as e:
    client = str(e)
print(json.dumps({"fallback": getattr(types.Mount, "_lf_fallback", False), "client": client,
                  "specs": [mount_spec(m) for m in (
    types.Mount("/t", "/s", type="bind"), types.Mount("/t", "/s", "bind", read_only=False),
    DockerPyMount(Target="/t", Source="/s", Type="bind", ReadOnly=False),
    {"target": "/t", "source": "/s", "type": "bind", "read_only": False},
    {"target": "/t", "source": "vol"})]}))
'''
    root = os.path.dirname(BOOT)
    p = subprocess.run([python, "-B", "-c", code, os.path.join(root, "fallback"),
                        os.path.join(root, "shim")], capture_output=True, text=True, timeout=60)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = {"stdout": p.stdout, "stderr": p.stderr}

    def spec(source, typ, read_only):
        return {"source": source, "target": "/t", "type": typ, "read_only": read_only}

    c.check("docker fallback: Mount read-only unless read_only=False; a docker-py Mount "
            "cannot say so (stays read-only); dict mounts say it", out.get("fallback") is True
            and out.get("specs") == [spec("/s", "bind", True), spec("/s", "bind", False),
                                     spec("/s", "bind", True), spec("/s", "bind", False),
                                     spec("vol", "volume", True)], out)
    c.check("docker fallback: docker.from_env says the client needs docker-py",
            "install docker-py" in str(out.get("client")), out)


def check_docker_py_mount(c, python, tmp):
    """A docker-py ``Mount`` (a stand-in with docker-py's constructor, first on sys.path)
    says ``read_only=False`` once the operator module is imported: it wraps the constructor."""
    pkg = os.path.join(tmp, "dockerpy", "docker")
    os.makedirs(pkg, exist_ok=True)
    with open(os.path.join(pkg, "__init__.py"), "w") as fh:
        fh.write("")
    with open(os.path.join(pkg, "types.py"), "w") as fh:
        fh.write(
            "class Mount(dict):\n"
            "    def __init__(self, target, source, type='volume', read_only=False, consistency=None):\n"
            "        self['Target'] = target\n        self['Source'] = source\n"
            "        self['Type'] = type\n        self['ReadOnly'] = read_only\n")
    code = r'''
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from airflow.providers.docker.operators.docker import mount_spec
from docker.types import Mount
print(json.dumps([mount_spec(m)["read_only"] for m in (
    Mount("/t", "/s", type="bind"), Mount("/t", "/s", type="bind", read_only=False),
    Mount("/t", "/s", "bind", False), Mount("/t", "/s", "bind", read_only=True))]))
'''
    root = os.path.dirname(BOOT)
    p = subprocess.run([python, "-B", "-c", code, os.path.dirname(pkg),
                        os.path.join(root, "shim")], capture_output=True, text=True, timeout=60)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = {"stdout": p.stdout, "stderr": p.stderr}
    c.check("docker-py Mount: read-only unless read_only=False is passed (keyword or position)",
            out == [True, False, False, True], out)


def check_run_ti(c, python, ti, tmp):
    """``boot.py run-ti TI.json``: one TI in the current process (what runs in a container)."""
    t = ti("tiny.py", "tiny")
    path = os.path.join(tmp, "run-ti.json")
    with open(path, "w") as fh:
        json.dump(t, fh)
    p = subprocess.run([python, "-B", BOOT, "run-ti", path], capture_output=True, timeout=60)
    res = None
    if os.path.exists(t["result_path"]):
        with open(t["result_path"]) as fh:
            res = json.load(fh)
    recs, bad = read_log(t["log_path"])
    lines = [r["line"] for r in recs if r["stream"] == "leoflow"]
    c.check("run-ti: a plain @task runs in-process to success (result + NDJSON log)",
            p.returncode == 0 and res and res["state"] == "success" and
            res["return_value"] == 1 and res["xcom"] == [{"key": "return_value", "value": 1}]
            and any(ln.startswith("Task started: dag_id=rt_tiny task_id=tiny") for ln in lines)
            and any(ln.startswith("Task finished: state=success") for ln in lines) and not bad,
            (p.returncode, p.stderr[-2000:], res, lines))
    t = ti("basic.py", "boom")
    with open(path, "w") as fh:
        json.dump(t, fh)
    p = subprocess.run([python, "-B", BOOT, "run-ti", path], capture_output=True, timeout=60)
    with open(t["result_path"]) as fh:
        res = json.load(fh)
    c.check("run-ti: a failing task exits 1 with its error in the result", p.returncode == 1
            and res["state"] == "failed" and "boom value" in res["error"]["message"], res)
    t = ti("basic.py", "env_task")
    del t["env"]
    with open(path, "w") as fh:
        json.dump(t, fh)
    p = subprocess.run([python, "-B", BOOT, "run-ti", path], capture_output=True, timeout=60,
                       env=dict(os.environ, TASK_VAR="from-the-container"))
    with open(t["result_path"]) as fh:
        res = json.load(fh)
    c.check("run-ti: without TI.env the task keeps the process's environment", p.returncode == 0
            and res["return_value"]["mine"] == "from-the-container", res)
    with open(path, "w") as fh:
        fh.write("{not json")
    p = subprocess.run([python, "-B", BOOT, "run-ti", path], capture_output=True, timeout=60)
    c.check("run-ti: an unreadable TI file exits 2 and says why", p.returncode == 2 and
            b"cannot read the TI file" in p.stderr, p.stderr)


def main(argv):
    python = sys.executable
    only = None
    if "--python" in argv:
        python = argv[argv.index("--python") + 1]
    if "-k" in argv:
        only = argv[argv.index("-k") + 1]
    c = Checker(only)
    tmp = tempfile.mkdtemp(prefix="leoflow-task-rt-")
    dags = os.path.join(tmp, "dags")
    os.makedirs(dags)
    for name, src in DAGS.items():
        with open(os.path.join(dags, name), "w") as fh:
            fh.write(src.lstrip())
    work = os.path.join(tmp, "work")
    os.makedirs(work)
    print("python: %s   workdir: %s" % (python, tmp))

    zenv = dict(os.environ, LEOFLOW_ZYGOTE_ONLY="zygote-secret")
    z = Zygote(python, env=zenv, stderr_path=os.path.join(tmp, "zygote.stderr"))
    counter = [0]

    def ti(dag, task_id, *, xcom=(), map_index=-1, map_kwargs=None, variables=None,
           connections=None, env=None, run_id="manual__2024-01-01T00:00:00+00:00",
           context=None, try_number=1, **extra):
        counter[0] += 1
        n = counter[0]
        ctx = {"ds": "2024-01-01", "ds_nodash": "20240101", "ts": "2024-01-01T00:00:00+00:00",
               "ts_nodash": "20240101T000000", "logical_date": "2024-01-01T00:00:00+00:00",
               "data_interval_start": "2024-01-01T00:00:00+00:00",
               "data_interval_end": "2024-01-01T00:00:00+00:00", "run_id": run_id,
               "params": {}, "conf": {"c": 1},
               "dag_run": {"run_id": run_id, "dag_id": "x", "conf": {"c": 1}},
               "try_number": try_number, "map_index": map_index,
               "task_instance_key_str": "k"}
        ctx.update(context or {})
        base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                    "TZ": "UTC", "HOME": tmp, "TASK_VAR": "task-value", "MYVAR": "myvar"}
        base_env.update(env or {})
        spec = {
            "dag_file": os.path.join(dags, dag), "dags_folder": dags,
            "dag_id": {"basic.py": "rt_basic", "branching.py": "rt_branch",
                       "mapped.py": "rt_mapped", "bash.py": "rt_bash",
                       "sensors.py": "rt_sensors", "misc.py": "rt_misc", "tiny.py": "rt_tiny",
                       "broken.py": "rt_broken", "containers.py": "rt_docker"}[dag],
            "task_id": task_id, "run_id": run_id, "map_index": map_index,
            "try_number": try_number, "cwd": work, "env": base_env,
            "log_path": os.path.join(tmp, "logs", "%03d_%s.log" % (n, task_id)),
            "result_path": os.path.join(tmp, "results", "%03d_%s.json" % (n, task_id)),
            "context": ctx, "xcom": list(xcom), "map_kwargs": map_kwargs,
            "variables": variables or {"greeting": "hello", "cfg": '{"k": [1, 2]}',
                                       "db_password": "hunter2-secret"},
            "connections": connections or {"my_db": {
                "conn_type": "postgres", "host": "db.local", "login": "me",
                "password": "s3cr3t-pass", "schema": "app", "port": 5432,
                "extra": {"sslmode": "require"}}},
        }
        spec.update(extra)
        return spec

    def xc(task_id, value, key="return_value", map_index=-1):
        return {"task_id": task_id, "map_index": map_index, "key": key, "value": value}

    def want(name):
        return only is None or only in name

    # -- protocol ----------------------------------------------------------------------------
    if want("protocol"):
        c.check("protocol: ping", z.request({"id": 900, "op": "ping"}) is not None and
                z.request({"id": 901, "op": "ping"}).get("ok") is True)
        r = z.request({"id": 902, "op": "nope"})
        c.check("protocol: unknown op answers an error", r and "error" in r, r)
        z.proc.stdin.write(b"this is not json\n")
        z.proc.stdin.flush()
        r = z.wait_for(lambda m: m.get("id") is None and "error" in m, 10)
        c.check("protocol: bad JSON answers id null + error", r is not None, r)
        r = z.request({"id": 903, "op": "run", "ti": {"dag_id": "x"}})
        c.check("protocol: invalid TI is refused without forking", r and "error" in r and
                "pid" not in r, r)

    # -- TaskFlow + XCom -----------------------------------------------------------------------
    results = {}
    if want("xcom") or want("taskflow"):
        ans, ev, res = z.run(ti("basic.py", "make_int"))
        c.check("taskflow: run answers the pid, exit event follows",
                ans and isinstance(ans.get("pid"), int) and ev and ev["pid"] == ans["pid"] and
                ev["returncode"] == 0 and ev["signal"] is None, (ans, ev))
        c.check("taskflow: int return value", res and res["state"] == "success" and
                res["return_value"] == 41 and res["xcom"] == [{"key": "return_value",
                                                                 "value": 41}], res)
        results["make_int"] = res
        _a, _e, res = z.run(ti("basic.py", "make_dict"))
        c.check("taskflow: dict return value", res and res["return_value"] == {"a": 1,
                                                                               "b": [1, 2]}, res)
        _a, _e, res = z.run(ti("basic.py", "add", xcom=[xc("make_int", 41),
                                                      xc("make_dict", {"a": 1, "b": [1, 2]})]))
        c.check("taskflow: XComArgs resolved from TI.xcom", res and res["return_value"] == 42,
                res)
        c.check("taskflow: rendered_fields hold the resolved op_args", res and
                res["rendered_fields"].get("op_args") == [41, {"a": 1, "b": [1, 2]}], res)
        _a, _e, res = z.run(ti("basic.py", "multi"))
        c.check("taskflow: multiple_outputs pushes every key and return_value",
                res and res["xcom"] == [{"key": "left", "value": 1},
                                        {"key": "right", "value": "r"},
                                        {"key": "return_value", "value": {"left": 1,
                                                                          "right": "r"}}], res)
        _a, _e, res = z.run(ti("basic.py", "use_multi", xcom=[
            xc("multi", 1, key="left"), xc("multi", "r", key="right"),
            xc("multi", {"left": 1, "right": "r"})]))
        c.check("taskflow: XComArg keys (m['left'])", res and res["return_value"] == "1-r", res)
        _a, _e, res = z.run(ti("basic.py", "fan_in", xcom=[
            xc("make_int", 41), xc("add", 42), xc("make_dict", {"a": 1, "b": [1, 2]})]))
        c.check("taskflow: nested XComArgs (fan-in list, dict)", res and res["return_value"] == {
            "sum": 83, "nested": {"inner": [{"a": 1, "b": [1, 2]}, 3]}}, res)
        _a, _e, res = z.run(ti("basic.py", "push_task"))
        c.check("taskflow: ti.xcom_push keys come first", res and res["xcom"] == [
            {"key": "extra", "value": [1, 2, 3]}, {"key": "return_value", "value": "done"}], res)

    if want("context"):
        _a, _e, res = z.run(ti("basic.py", "ctx_task", xcom=[
            xc("make_int", 41), xc("make_dict", {"a": 1}), xc("multi", 7, key="left")]))
        rv = (res or {}).get("return_value") or {}
        c.check("context: get_current_context and ti.xcom_pull", rv.get("pulled") == 41 and
                rv.get("pulled_list") == [41, {"a": 1}] and rv.get("multi_key") == 7 and
                rv.get("missing") == "dflt" and rv.get("same_ti") is True, res)
        c.check("context: ds / ts / logical_date / run_id / params / dag_run",
                rv.get("ds") == "2024-01-01" and rv.get("logical_year") == 2024 and
                rv.get("ts") == "2024-01-01T00:00:00+00:00" and
                rv.get("run_id") == "manual__2024-01-01T00:00:00+00:00" and
                rv.get("param") == 5 and rv.get("conf") == {"c": 1} and
                rv.get("run_type") == "manual" and rv.get("task_id") == "ctx_task" and
                rv.get("dag_id") == "rt_basic" and rv.get("kwargs_has_dag_run") is True, rv)

    if want("variable") or want("connection"):
        _a, _e, res = z.run(ti("basic.py", "var_task"))
        c.check("variables: Variable.get (plain, json, default)", res and res["return_value"] == {
            "v": "hello", "j": {"k": [1, 2]}, "d": "dflt"}, res)
        t = ti("basic.py", "conn_task")
        _a, _e, res = z.run(t)
        c.check("connections: BaseHook.get_connection from TI.connections", res and
                res["return_value"] == {"host": "db.local", "port": 5432, "login": "me",
                                        "extra": {"sslmode": "require"}}, res)
        recs, _bad = read_log(t["log_path"])
        lines = [r["line"] for r in recs]
        c.check("connections: the password is masked in the log",
                "password is ***" in lines and not any("s3cr3t-pass" in ln for ln in lines),
                lines)

    if want("template"):
        _a, _e, res = z.run(ti("basic.py", "templated", xcom=[xc("make_int", 41)]))
        c.check("templates: op_args/op_kwargs strings rendered (ds, params, xcom_pull, macros, "
                "var | filter)", res and res.get("return_value") == {
                    "day": "2024-01-01", "when": "20240101-5", "pulled": "41",
                    "nested": ["2024-01-02", {"k": "HELLO"}]}, res)

    # -- outcomes ------------------------------------------------------------------------------
    if want("skip"):
        _a, ev, res = z.run(ti("basic.py", "skip_me"))
        c.check("skip: AirflowSkipException -> skipped, exit 99", ev and ev["returncode"] == 99 and
                res and res["state"] == "skipped" and res["error"] is None, (ev, res))
    if want("fail"):
        _a, ev, res = z.run(ti("basic.py", "fail_hard"))
        c.check("fail: AirflowFailException -> failed, retryable false, exit 1",
                ev and ev["returncode"] == 1 and res and res["state"] == "failed" and
                res["retryable"] is False and res["error"]["type"] == "AirflowFailException" and
                "no retry please" in res["error"]["message"], (ev, res))
    if want("exception"):
        t = ti("basic.py", "boom")
        _a, ev, res = z.run(t)
        err = (res or {}).get("error") or {}
        c.check("exception: failed, retryable, traceback in the result",
                ev and ev["returncode"] == 1 and res["state"] == "failed" and
                res["retryable"] is True and err.get("type") == "ValueError" and
                "boom value" in err.get("message", "") and
                'raise ValueError("boom value")' in err.get("traceback", "") and
                "/leoflow_rt/" not in err.get("traceback", "").split("\n")[1], res)
        recs, bad = read_log(t["log_path"])
        c.check("exception: NDJSON log with stdout line, error-level traceback, start/finish",
                not bad and any(r["stream"] == "stdout" and r["line"] == "about to fail"
                                for r in recs) and
                any(r.get("level") == "error" and "ValueError: boom value" in r["line"]
                    for r in recs) and
                recs[0]["stream"] == "leoflow" and "Task started" in recs[0]["line"] and
                recs[-1]["stream"] == "leoflow" and "Task finished" in recs[-1]["line"] and
                all(r["timestamp"].endswith("Z") and len(r["timestamp"]) == 27 for r in recs),
                recs)
        _a, ev, res = z.run(ti("basic.py", "bad_return"))
        err = (res or {}).get("error") or {}
        c.check("non-JSON return: failed with a message naming the type",
                res and res["state"] == "failed" and "set" in err.get("message", "") and
                "JSON" in err.get("message", "") and "return_value" not in res, res)
        _a, ev, res = z.run(ti("basic.py", "exits"))
        c.check("sys.exit(4): failed, retryable", res and res["state"] == "failed" and
                res["retryable"] and "sys.exit(4)" in res["error"]["message"], res)
        t = ti("basic.py", "hard_exit")
        _a, ev, res = z.run(t)
        c.check("os._exit(3): no result file, returncode 3", ev and ev["returncode"] == 3 and
                res is None, (ev, res))
        _a, ev, res = z.run(ti("basic.py", "segv"))
        c.check("SIGSEGV: signal 11, returncode -11, no result", ev and ev["signal"] == 11 and
                ev["returncode"] == -11 and res is None, ev)
        cb = os.path.join(work, "callback.txt")
        if os.path.exists(cb):
            os.unlink(cb)
        _a, ev, res = z.run(ti("basic.py", "with_callback"))
        got = open(cb).read() if os.path.exists(cb) else None
        c.check("callbacks: on_failure_callback runs with the exception", res and
                res["state"] == "failed" and got == "with_callback RuntimeError", got)
        _a, ev, res = z.run(ti("broken.py", "x"))
        c.check("import error: failed with the import error", res and res["state"] == "failed" and
                "broken at import" in res["error"]["message"] and
                "RuntimeError" in res["error"]["traceback"], res)
        _a, ev, res = z.run(ti("basic.py", "no_such_task"))
        c.check("unknown task: failed, TaskNotFound", res and res["state"] == "failed" and
                res["error"]["type"] == "TaskNotFound", res)

    # -- branching -----------------------------------------------------------------------------
    if want("branch") or want("short"):
        _a, ev, res = z.run(ti("branching.py", "pick"))
        c.check("branch: follows one id, skips the other direct downstream",
                res and res["state"] == "success" and res["branch"] == ["left"] and
                res["skip"] == ["right"] and ev["returncode"] == 0, res)
        c.check("branch: skipmixin XCom like Airflow 3", res and res["xcom"] == [
            {"key": "skipmixin_key", "value": {"followed": ["left"]}}], res)
        _a, ev, res = z.run(ti("branching.py", "pick_group"))
        c.check("branch: a task group id follows the group's roots", res and
                res["branch"] == ["grp.g1"] and res["skip"] == ["other"], res)
        _a, ev, res = z.run(ti("branching.py", "gate"))
        c.check("short-circuit false: short_circuit false, downstream skipped",
                res and res["state"] == "success" and res["short_circuit"] is False and
                res["skip"] == ["after", "after2"], res)
        _a, ev, res = z.run(ti("branching.py", "gate_open"))
        c.check("short-circuit true: nothing skipped", res and res["short_circuit"] is True and
                res["skip"] == [] and res["return_value"] == "yes", res)
        _a, ev, res = z.run(ti("branching.py", "latest"))
        c.check("latest_only: manual run follows everything", res and
                res["branch"] == ["after_latest"] and not res["skip"], res)
        rid = "scheduled__2024-01-01T00:00:00+00:00"
        _a, ev, res = z.run(ti("branching.py", "latest", run_id=rid))
        c.check("latest_only: an old scheduled run skips downstream", res and
                res["state"] == "success" and res["skip"] == ["after_latest"] and
                res["branch"] == [], res)

    # -- mapping -------------------------------------------------------------------------------
    if want("mapped"):
        nums = [xc("nums", [1, 2, 3])]
        _a, ev, res = z.run(ti("mapped.py", "double", map_index=1, map_kwargs={"x": 2},
                               xcom=nums))
        c.check("mapped: TI.map_kwargs + partial kwargs", res and res["return_value"] == 20, res)
        _a, ev, res = z.run(ti("mapped.py", "double", map_index=2, xcom=nums))
        c.check("mapped: map_kwargs null -> expanded locally from TI.xcom",
                res and res["return_value"] == 30, res)
        _a, ev, res = z.run(ti("mapped.py", "pair", map_index=1))
        c.check("mapped: literal cartesian expand (index 1 -> a[0], b[1])",
                res and res["return_value"] == "x2", res)
        _a, ev, res = z.run(ti("mapped.py", "kw", map_index=1))
        c.check("mapped: expand_kwargs", res and res["return_value"] == 5, res)
        _a, ev, res = z.run(ti("mapped.py", "show", map_index=1, xcom=nums))
        c.check("mapped: XComArg.map", res and res["return_value"] == 200, res)
        _a, ev, res = z.run(ti("mapped.py", "total", xcom=[xc("double", 10 * i, map_index=i - 1)
                                                          for i in (1, 2, 3)]))
        c.check("mapped: downstream of a mapped task gets every map index",
                res and res["return_value"] == 60, res)
        _a, ev, res = z.run(ti("mapped.py", "labelled", map_index=1))
        c.check("mapped: map_index_template rendered after execute", res and
                res["return_value"] == 6 and res["rendered_map_index"] == "item-6", res)
        _a, ev, res = z.run(ti("mapped.py", "nums"))
        c.check("mapped: upstream of a mapped task pushes its list", res and
                res["state"] == "success" and res["return_value"] == [1, 2, 3], res)
        _a, ev, res = z.run(ti("mapped.py", "nothing"))
        c.check("mapped: upstream returning None fails (did not push XCom for task mapping)",
                res and res["state"] == "failed" and
                "did not push XCom for task mapping" in res["error"]["message"], res)
        _a, ev, res = z.run(ti("mapped.py", "double"))
        c.check("mapped: map_index -1 on a mapped task is refused", res and
                res["state"] == "failed", res)

    # -- bash ----------------------------------------------------------------------------------
    if want("bash"):
        t = ti("bash.py", "hello")
        _a, ev, res = z.run(t)
        recs, bad = read_log(t["log_path"])
        lines = [r["line"] for r in recs if r["stream"] == "stdout"]
        c.check("@task.bash: command from the function, rendered, run in the task env",
                res and res["state"] == "success" and res["return_value"] == "last-line" and
                "hello 2024-01-01 myvar bob" in lines and not bad, (res, lines))
        c.check("@task.bash: rendered_fields carry the executed command", res and
                res["rendered_fields"].get("bash_command") ==
                "echo hello 2024-01-01 $MYVAR bob && echo last-line", res)
        _a, ev, res = z.run(ti("bash.py", "exit_skip"))
        c.check("@task.bash: exit 99 skips", ev and ev["returncode"] == 99 and
                res["state"] == "skipped", res)
        _a, ev, res = z.run(ti("bash.py", "exit_fail"))
        c.check("@task.bash: non-zero exit fails (retryable)", res and res["state"] == "failed" and
                res["retryable"] is True and "exit code 3" in res["error"]["message"], res)
        _a, ev, res = z.run(ti("bash.py", "classic"))
        c.check("BashOperator: rendered and run", res and res["return_value"] ==
                "classic pv classic", res)

    # -- docker (container tasks: the child prepares, the server runs) ------------------------
    if want("docker"):
        check_docker(c, z, ti, xc, tmp)
        check_docker_fallback(c, python)
        check_docker_py_mount(c, python, tmp)

    if want("run-ti"):
        check_run_ti(c, python, ti, tmp)

    if want("sensor"):
        _a, ev, res = z.run(ti("sensors.py", "eventually"))
        c.check("sensor: pokes until done, PokeReturnValue xcom", res and
                res["state"] == "success" and res["return_value"] == {"pokes": 3}, res)
        _a, ev, res = z.run(ti("sensors.py", "never"))
        c.check("sensor: timeout -> AirflowSensorTimeout, not retryable", res and
                res["state"] == "failed" and res["retryable"] is False and
                res["error"]["type"] == "AirflowSensorTimeout", res)
        _a, ev, res = z.run(ti("sensors.py", "never_soft"))
        c.check("sensor: soft_fail timeout -> skipped", res and res["state"] == "skipped", res)

    if want("http") or want("trigger") or want("empty"):
        import http.server

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path, _, query = self.path.partition("?")
                if path.startswith("/api/"):
                    body = json.dumps({"path": path, "query": query}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_error(404)

            def log_message(self, *a):
                pass

        srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        web = {"web": {"conn_type": "http", "host": "127.0.0.1", "port": srv.server_port,
                       "schema": "http"}}
        _a, ev, res = z.run(ti("misc.py", "http_get", connections=web))
        c.check("HttpOperator: templated endpoint, GET params, response_filter", res and
                res.get("return_value") == {"path": "/api/2024-01-01", "query": "q=x"}, res)
        _a, ev, res = z.run(ti("misc.py", "http_404", connections=web))
        c.check("HttpOperator: HTTP 404 fails", res and res["state"] == "failed" and
                "404" in res["error"]["message"], res)
        srv.shutdown()
        _a, ev, res = z.run(ti("misc.py", "trigger"))
        tr = (res or {}).get("trigger_dag_run") or {}
        c.check("TriggerDagRunOperator: reported as trigger_dag_run (conf rendered)",
                res and res["state"] == "success" and tr.get("dag_id") == "other" and
                tr.get("run_id") == "custom_run" and tr.get("conf") == {"a": "2024-01-01"} and
                {"key": "trigger_run_id", "value": "custom_run"} in res["xcom"], res)
        _a, ev, res = z.run(ti("misc.py", "td"))
        c.check("TimeDeltaSensor: data_interval_end + delta has passed", res and
                res["state"] == "success", res)
        _a, ev, res = z.run(ti("misc.py", "dow"))
        c.check("BranchDayOfWeekOperator: logical date is a Monday", res and
                res["branch"] == ["yes"] and res["skip"] == ["no"], res)
        _a, ev, res = z.run(ti("misc.py", "dt"))
        c.check("BranchDateTimeOperator: logical date outside the window", res and
                res["branch"] == ["out_window"] and res["skip"] == ["in_window"], res)
        _a, ev, res = z.run(ti("misc.py", "nothing"))
        c.check("EmptyOperator: success, no XCom", res and res["state"] == "success" and
                res["xcom"] == [], res)

    # -- isolation -----------------------------------------------------------------------------
    if want("env") or want("isolation"):
        _a, ev, res = z.run(ti("basic.py", "env_task"))
        rv = (res or {}).get("return_value") or {}
        c.check("env isolation: the zygote's env is not visible (os.environ, subprocess)",
                rv.get("leak") is None and rv.get("sub") == "none" and
                rv.get("mine") == "task-value" and rv.get("ctx_dag") == "rt_basic", rv)
        c.check("cwd: the task runs in TI.cwd", rv.get("cwd") == os.path.realpath(work), rv)
        t = ti("basic.py", "fd_output")
        _a, ev, res = z.run(t)
        recs, bad = read_log(t["log_path"])
        got = {(r["stream"], r["line"]) for r in recs}
        c.check("logs: fd-level, subprocess and logging output captured per stream",
                ("stdout", "raw fd one") in got and ("stdout", "from-sub") in got and
                ("stderr", "sub-err") in got and ("stdout", "py print") in got and
                any(r["line"] == "a warning" and r.get("level") == "warning" for r in recs) and
                not bad, recs)

    if want("fork") or want("multiprocessing"):
        t = ti("basic.py", "mp_task")
        _a, ev, res = z.run(t, timeout=60)
        recs, bad = read_log(t["log_path"])
        c.check("multiprocessing (fork) inside a task: no deadlock, children log to the task log",
                res and res["return_value"] == [0, 0, 0] and
                sum(1 for r in recs if r["line"] == "from mp child") == 3 and not bad, (res, recs))
    if want("outlet") or want("asset"):
        _a, ev, res = z.run(ti("basic.py", "produce"))
        c.check("outlet_events: extra reported", res and res.get("outlet_events") == [
            {"key": "s3://bucket/key", "asset": {"name": "s3://bucket/key",
                                                 "uri": "s3://bucket/key"},
             "alias": None, "ref": None, "extra": {"rows": 3}, "alias_events": []}], res)

    if want("kill") or want("orphan"):
        for task_id, n_procs in (("sleeper", 4), ("py_sleeper", 2)):
            t = ti("bash.py", task_id)
            rid, ans, _t0 = z.start(t)
            pid = (ans or {}).get("pid")
            ok_pg = False
            if pid:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and len(group_members(pid)) < n_procs:
                    time.sleep(0.05)
                members = group_members(pid)
                ok_pg = len(members) >= n_procs and os.getpgid(pid) == pid
                os.killpg(pid, signal.SIGKILL)
            ev = z.wait_exit(rid, 20)
            time.sleep(0.2)
            left = group_members(pid) if pid else ["?"]
            c.check("kill %s: own process group with children, SIGKILL of the group -> exit "
                    "event signal 9, no orphans" % task_id,
                    ok_pg and ev and ev["signal"] == 9 and not left, (ok_pg, ev, left))
        c.check("no zombies left under the zygote", not zombie_children(z.proc.pid),
                zombie_children(z.proc.pid))

    if want("shutdown") or want("eof"):
        z2 = Zygote(python, stderr_path=os.path.join(tmp, "zygote2.stderr"))
        t = ti("bash.py", "sleeper")
        rid, ans, _t0 = z2.start(t)
        pid = (ans or {}).get("pid")
        time.sleep(0.5)
        z2.proc.stdin.close()
        rc = z2.proc.wait(15)
        time.sleep(0.2)
        c.check("EOF on stdin: the zygote kills its tasks' groups and exits",
                pid and rc == 0 and not group_members(pid), (pid, rc, group_members(pid or 0)))
        z3 = Zygote(python, stderr_path=os.path.join(tmp, "zygote3.stderr"))
        rid, ans, _t0 = z3.start(ti("bash.py", "sleeper"))
        pid = (ans or {}).get("pid")
        time.sleep(0.3)
        r = z3.request({"id": 77, "op": "shutdown"})
        ev = z3.wait_for(lambda m: m.get("event") == "exit", 5)
        rc = z3.proc.wait(15)
        c.check("shutdown: exit events, ok answer, process exits", r == dict(r or {}, id=77, ok=True)
                and rc == 0 and not group_members(pid or 0), (r, ev, rc))
        z3.close()
        z4 = Zygote(python, stderr_path=os.path.join(tmp, "zygote4.stderr"))
        rid, ans, _t0 = z4.start(ti("bash.py", "sleeper"))
        pid = (ans or {}).get("pid")
        time.sleep(0.3)
        z4.proc.send_signal(signal.SIGTERM)
        rc = z4.proc.wait(15)
        time.sleep(0.2)
        c.check("SIGTERM: the zygote kills its tasks' groups and exits 0",
                pid and rc == 0 and not group_members(pid), (pid, rc))
        z4.close()

    # -- timing --------------------------------------------------------------------------------
    if want("timing") or want("perf"):
        rts, zds, child = [], [], []
        for _ in range(100):
            _a, ev, res = z.run(ti("tiny.py", "tiny"))
            if not ev or not res or res["state"] != "success":
                c.check("timing: tiny task succeeded", False, (ev, res))
                break
            rts.append(ev["_roundtrip_ms"])
            zds.append(ev["duration_ms"])
            child.append(res["duration_ms"])
        else:
            c.check("timing: 100 tiny tasks succeeded", True)
            print("timing: 100 sequential tiny tasks: median run->exit-event %.2f ms "
                  "(zygote hand-over->reap %.2f ms, in-child %.2f ms); p90 %.2f ms; min %.2f ms"
                  % (statistics.median(rts), statistics.median(zds), statistics.median(child),
                     sorted(rts)[89], min(rts)))
            big = []
            for _ in range(20):
                _a, ev, res = z.run(ti("basic.py", "tiny"))
                if ev:
                    big.append(ev["_roundtrip_ms"])
            if big:
                print("timing: the same task in a 25-task DAG file: median %.2f ms"
                      % statistics.median(big))

    c.check("protocol: no non-JSON line ever appeared on the zygote's stdout", not z.bad_lines,
            z.bad_lines[:5])
    r = z.request({"id": 999, "op": "shutdown"})
    c.check("protocol: shutdown answers ok", r is not None and r.get("ok") is True, r)
    z.close()
    print("%d passed, %d failed" % (c.passed, c.failed))
    if not c.failed and "--keep" not in argv:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
