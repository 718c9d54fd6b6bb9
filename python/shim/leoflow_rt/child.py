"""The task process: what a child forked by the zygote does with its TI.

Owns the process around one run: ``spare_main`` (a pre-forked spare: isolate, warm the common
code paths up while waiting, read the TI from a pipe) and ``child_main`` (fork per TI), the
isolation (``setsid``, default signals, stdin/stdout on /dev/null, the exact ``TI.env``,
``PYTHONPATH``, ``tzset``), then ``_run_spec``: open the NDJSON log (``capture.py``), log
start/finish, run one ``Runner`` (``runner.py``) with output captured, write the result file
and turn the state into the exit code. Called by ``zygote.py`` (``spare_main``, through the
``task.py`` façade), and ``run_ti_main`` (``boot.py run-ti``: the same run in this process,
inside a task's container). See PROTOCOL.md, "Zygote protocol", "The child" and "run-ti".
"""
import json
import os
import sys
import threading
import time

from leoflow_rt.capture import LogSink, _Capture, _NullSink, _SinkHandler, _ts
from leoflow_rt.context import RETURN_KEY, RuntimeTaskInstance, XComStore, check_json
from leoflow_rt.runner import Runner, _one_line, write_result

EXIT_CODES = {"success": 0, "failed": 1, "skipped": 99, "container": 0, "up_for_reschedule": 0,
              "deferred": 0}


# -- the forked child ------------------------------------------------------------------------
def _reset_signals():
    import signal

    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    try:
        signal.setitimer(signal.ITIMER_REAL, 0)
    except (AttributeError, OSError):
        pass
    for sig in range(1, getattr(signal, "NSIG", 65)):
        try:
            handler = signal.getsignal(sig)
        except (OSError, ValueError):
            continue
        if handler is None or handler == signal.SIG_DFL or sig in (signal.SIGINT,
                                                                  signal.SIGPIPE):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    # A Python program's defaults: KeyboardInterrupt on SIGINT, SIGPIPE ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _apply_env(env, dags_folder=None):
    os.environ.clear()
    for k, v in env.items():
        if isinstance(k, str) and k and "=" not in k and "\0" not in k:
            os.environ[k] = v if isinstance(v, str) else (
                json.dumps(v) if not isinstance(v, (int, float)) else str(v))
    if hasattr(time, "tzset"):
        time.tzset()
    import tempfile

    tempfile.tempdir = None
    pp = env.get("PYTHONPATH")
    if isinstance(pp, str) and pp:
        pos = 1 if sys.path and sys.path[0].endswith("shim") else 0
        for p in pp.split(os.pathsep):
            if p and p not in sys.path:
                sys.path.insert(pos, p)
                pos += 1
    try:
        from airflow import configuration

        configuration._DEFAULTS[("core", "dags_folder")] = (
            dags_folder or os.environ.get("LEOFLOW_DAGS_FOLDER") or "")
    except Exception:  # noqa: BLE001
        pass


def child_main(spec, close_fds=(), sync_fd=None):
    """Entry point of a child forked for ``spec``; never returns."""
    code = 70
    try:
        t0 = time.monotonic()
        _isolate(close_fds, sync_fd)
        code = _run_spec(spec, t0)
    except BaseException as e:  # noqa: BLE001 - last resort
        _internal_error(e)
    finally:
        os._exit(code)


def spare_main(ti_fd, close_fds=(), sync_fd=None):
    """Entry point of a pre-forked spare child: isolate now, then wait for the TI (JSON, up
    to EOF) on ``ti_fd``; EOF without data means "not needed" (exit 0). Never returns."""
    code = 70
    try:
        _isolate(close_fds, sync_fd)

        def ti_arrived():
            import select

            return bool(select.select([ti_fd], [], [], 0)[0])

        _warm_up(ti_arrived)
        chunks = []
        while True:
            try:
                chunk = os.read(ti_fd, 1 << 20)
            except InterruptedError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
        os.close(ti_fd)
        if not chunks:
            code = 0
            return
        t0 = time.monotonic()
        spec = json.loads(b"".join(chunks).decode("utf-8"))
        code = _run_spec(spec, t0)
    except BaseException as e:  # noqa: BLE001 - last resort
        _internal_error(e)
    finally:
        os._exit(code)


def run_ti_main(path):
    """``boot.py run-ti TI.json``: run one TI like a zygote child, in this process (no zygote,
    no fork), e.g. as the main process of the task's container; returns the exit code.
    Without ``TI.env`` the process keeps its own environment (the container's). A TI file that
    cannot be read or is invalid exits 2 without a result file."""
    t0 = time.monotonic()
    try:
        with open(path, encoding="utf-8") as fh:
            spec = json.load(fh)
    except (OSError, ValueError) as e:
        os.write(2, ("leoflow run-ti: cannot read the TI file %s: %s\n" % (path, e)).encode())
        return 2
    from leoflow_rt.zygote import _check_ti

    problem = _check_ti(spec)
    if problem:
        os.write(2, ("leoflow run-ti: invalid TI in %s: %s\n" % (path, problem)).encode())
        return 2
    if spec.get("env") is None:
        spec["env"] = dict(os.environ)
    _isolate((), None)
    if os.getpid() == 1:
        # PID 1 of a container: the kernel ignores signals that have no handler, so SIGTERM
        # (``docker stop``) ends the task as the signal would end a zygote child.
        import signal

        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda signum, _frame: os._exit(128 + signum))
    return _run_spec(spec, t0)


def _warm_up(interrupted=lambda: False):
    """Run the common code paths once while the spare waits for work: the copy-on-write page
    faults they cause (refcounts on shared objects) then happen off the critical path. Stops
    between steps as soon as ``interrupted()`` (the TI has arrived)."""
    state = {}

    def dag_step():
        from airflow.sdk import DAG, task
        from leoflow_rt import registry

        registry.reset(None)
        with DAG("__leoflow_warm_up__", schedule=None, params={"p": 1}) as dag:
            @task
            def f(x, y=None):
                return x

            f(1, y=[f(2)])
        state["dag"] = dag

    def context_step():
        dag = state["dag"]
        spec = {"dag_id": dag.dag_id, "task_id": "f", "run_id": "manual__x", "map_index": -1,
                "context": {"logical_date": "2024-01-01T00:00:00+00:00", "params": {"p": 2}}}
        sink = _NullSink()
        r = Runner(spec, sink)
        r.dag, r.task = dag, dag.task_dict["f"]
        r.ti = RuntimeTaskInstance(spec, XComStore([{"task_id": "f__1", "map_index": -1,
                                                      "key": RETURN_KEY, "value": 3}]), sink)
        r._build_context()
        state["runner"] = r

    def prepare_step():
        r = state["runner"]
        r._prepare()
        r._push_return({"a": [1, 2.5, None, "x"]})
        check_json(r.result, "warm-up")
        json.dumps(r.result)
        _ts()

    def logging_step():
        import logging

        root = logging.getLogger()
        handler = _SinkHandler(_NullSink())
        handler.setFormatter(logging.Formatter("%(message)s"))
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            logging.getLogger("airflow.task.operators.warm_up").info("warm %s", "up")
        finally:
            root.removeHandler(handler)
            root.setLevel(level)

    def template_step():
        r = state["runner"]
        r.fields.get_renderer().render_string("{{ ds }} {{ params.p | default(1) }}", r.context)

    def thread_step():
        t = threading.Thread(target=_ts, name="leoflow-warm-up", daemon=True)
        t.start()
        t.join()

    try:
        for step in (dag_step, context_step, prepare_step, logging_step, thread_step,
                     template_step):
            if interrupted():
                break
            step()
    except Exception:  # noqa: BLE001 - best effort
        pass
    finally:
        try:
            from leoflow_rt import registry

            registry.reset(None)
            del registry.context_stack[:]
        except Exception:  # noqa: BLE001
            pass


def _internal_error(e):
    try:
        os.write(2, ("leoflow task runtime: internal error: %s\n" % _one_line(e)).encode())
    except BaseException:  # noqa: BLE001
        pass


def _isolate(close_fds, sync_fd):
    """Own session/process group, default signals, no inherited protocol fds, stdin and
    stdout on /dev/null (stderr stays the zygote's until the log is open)."""
    try:
        os.setsid()
    except OSError:
        pass
    if sync_fd is not None:
        try:
            os.close(sync_fd)  # tells the zygote the process group exists
        except OSError:
            pass
    _reset_signals()
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    nul = os.open(os.devnull, os.O_RDWR)
    os.dup2(nul, 0)
    os.dup2(nul, 1)
    if nul > 2:
        os.close(nul)
    try:
        sys.stdin = open(os.devnull)  # noqa: SIM115
    except OSError:
        pass


def _run_spec(spec, t0):
    env = spec.get("env")
    _apply_env(env if isinstance(env, dict) else {}, spec.get("dags_folder"))
    result_path = spec.get("result_path")
    log_path = spec.get("log_path")
    try:
        sink = LogSink(log_path, spec.get("log_max_bytes", 0))
    except (OSError, TypeError, ValueError) as e:
        msg = "cannot open the task log %r: %s" % (log_path, e)
        os.write(2, ("leoflow task runtime: %s\n" % msg).encode())
        if isinstance(result_path, str) and result_path:
            write_result(result_path, {"state": "failed", "xcom": [], "branch": None,
                                       "short_circuit": None, "retryable": True,
                                       "rendered_fields": {}, "skip": [],
                                       "rendered_map_index": None,
                                       "error": {"type": "TaskRuntimeError", "message": msg,
                                                 "traceback": ""}})
        return 1
    sink.emit("leoflow", "Task started: dag_id=%s task_id=%s run_id=%s map_index=%s "
              "try_number=%s pid=%d" % (spec.get("dag_id"), spec.get("task_id"),
                                        spec.get("run_id"), spec.get("map_index", -1),
                                        spec.get("try_number", 1), os.getpid()), "info")
    capture = _Capture(sink)
    capture.start()
    setup_ms = round((time.monotonic() - t0) * 1000.0, 3)
    try:
        runner = Runner(spec, sink)
        result = runner.run()
        result["timings"] = dict(runner.timings, setup_ms=setup_ms)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        capture.stop()
    state = result["state"]
    elapsed = (time.monotonic() - t0) * 1000.0
    result["duration_ms"] = round(elapsed, 3)
    try:
        write_result(result_path, result)
    except Exception as e:  # noqa: BLE001
        sink.emit("leoflow", "Cannot write the task result %s: %s" % (result_path, _one_line(e)),
                  "error")
        return 1
    sink.emit("leoflow", "Task finished: state=%s duration=%.1fms" % (state, elapsed),
              "info" if state != "failed" else "error")
    return EXIT_CODES.get(state, 1)
