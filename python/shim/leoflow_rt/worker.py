"""Forking isolation for DAG-file parses, the ``parse`` command and the warm ``worker`` loop.

Every parse runs in a forked child: user ``print()``s go to stderr, stdin is /dev/null, the
child gets a timeout (SIGALRM -> AirflowTaskTimeout, then SIGABRT/SIGKILL of its process
group), and a child that dies (``os._exit``, signal) becomes an import error for the file.
"""
import json
import os
import sys
import time

DEFAULT_TIMEOUT = 30.0


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _dumps(obj):
    return json.dumps(obj, ensure_ascii=False, allow_nan=False,
                      default=lambda o: {"__repr__": repr(o)}).encode("utf-8", "replace")


def _fmt_timeout(t):
    return ("%g" % t) if t == int(t) else ("%.3g" % t)


def _child(path, dags_folder, timeout, wfd, ffd):
    """Runs in the forked child; never returns."""
    import faulthandler
    import signal

    code = 0
    try:
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        _die_with_parent()
        os.dup2(2, 1)
        nul = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nul, 0)
        os.close(nul)
        try:
            sys.stdin = open(os.devnull)
        except OSError:
            pass
        sys.stdout = sys.stderr
        # SIGSEGV/SIGABRT/... dump the Python stack to the parent (used for crash/hang lines).
        faulthandler.enable(file=ffd, all_threads=False)
        from airflow.sdk.exceptions import AirflowTaskTimeout

        def on_alarm(signum, frame):
            raise AirflowTaskTimeout("DAG file import timed out after %ss: %s"
                                     % (_fmt_timeout(timeout), path))

        signal.signal(signal.SIGALRM, on_alarm)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        real_exit = os._exit

        def guarded_exit(status=0):
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                import traceback

                lineno = None
                f = sys._getframe(1)
                while f is not None:
                    if f.f_code.co_filename == path:
                        lineno = f.f_lineno
                        break
                    f = f.f_back
                msg = "SystemExit: DAG file called os._exit(%r) during import" % (status,)
                stack = traceback.extract_stack(sys._getframe(1))
                first = next((i for i, fs in enumerate(stack) if fs.filename == path), 0)
                err = {"filename": path, "lineno": lineno, "message": msg,
                       "traceback": "Traceback (most recent call last):\n" + "".join(
                           traceback.format_list(stack[first:])) + msg + "\n"}
                payload = _dumps({"file": path, "dags": [], "import_errors": [err]})
                _write_all(wfd, len(payload).to_bytes(8, "big") + payload)
            finally:
                sys.stderr.flush()
                real_exit(status)

        os._exit = guarded_exit
        if timeout and timeout > 0:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        from leoflow_rt.loader import parse_file

        try:
            result = parse_file(path, dags_folder)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        os._exit = real_exit
        payload = _dumps(result)
        _write_all(wfd, len(payload).to_bytes(8, "big") + payload)
    except BaseException as e:  # noqa: BLE001 - last resort, report something
        code = 70
        try:
            import traceback

            err = {"filename": path, "lineno": None,
                   "message": "Leoflow internal error while parsing: %s: %s"
                   % (type(e).__name__, e), "traceback": traceback.format_exc()}
            payload = _dumps({"file": path, "dags": [], "import_errors": [err]})
            _write_all(wfd, len(payload).to_bytes(8, "big") + payload)
            code = 0
        except BaseException:  # noqa: BLE001
            pass
    finally:
        try:
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)


_PARENT_PID = None


def _die_with_parent():
    """Linux: SIGKILL this child if the worker dies (only when ctypes is already loaded)."""
    ctypes = sys.modules.get("ctypes")
    if ctypes is None or not sys.platform.startswith("linux") or _PARENT_PID is None:
        return
    try:
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        if os.getppid() != _PARENT_PID:
            os._exit(1)
    except Exception:  # noqa: BLE001 - best effort
        pass


def _read_available(fd):
    import select

    chunks = []
    while True:
        r, _, _ = select.select([fd], [], [], 0)
        if not r:
            break
        try:
            c = os.read(fd, 65536)
        except OSError:
            break
        if not c:
            break
        chunks.append(c)
    return b"".join(chunks).decode("utf-8", "replace")


def _fault_lineno(dump, path):
    """(lineno, text) from a faulthandler dump: innermost frame in ``path``."""
    needle = 'File "%s", line ' % path
    for line in dump.splitlines():
        s = line.strip()
        if s.startswith(needle):
            rest = s[len(needle):]
            num = rest.split(" ", 1)[0]
            if num.isdigit():
                return int(num)
    return None


def run_isolated(path, dags_folder=None, timeout=DEFAULT_TIMEOUT):
    """Parse ``path`` in a forked child; always returns a parse result dict."""
    import select
    import signal

    path = os.path.abspath(path)
    timeout = float(timeout) if timeout else DEFAULT_TIMEOUT
    global _PARENT_PID
    _PARENT_PID = os.getpid()
    t0 = time.monotonic()
    rfd, wfd = os.pipe()
    ffr, ffw = os.pipe()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        os.close(ffr)
        _child(path, dags_folder, timeout, wfd, ffw)
    os.close(wfd)
    os.close(ffw)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    grace = min(max(0.5, timeout * 0.1), 5.0)
    hard_deadline = t0 + timeout + grace
    buf = bytearray()
    expected = None
    timed_out = False
    fault = ""
    try:
        while True:
            remaining = hard_deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            r, _, _ = select.select([rfd, ffr], [], [], remaining)
            if ffr in r:
                c = os.read(ffr, 65536)
                if c:
                    fault += c.decode("utf-8", "replace")
            if rfd not in r:
                continue
            chunk = os.read(rfd, 1 << 20)
            if not chunk:
                break
            buf += chunk
            if expected is None and len(buf) >= 8:
                expected = int.from_bytes(buf[:8], "big")
            if expected is not None and len(buf) >= 8 + expected:
                break
        if timed_out:
            # Ask faulthandler (SIGABRT) for a traceback, then kill the whole group.
            try:
                os.kill(pid, signal.SIGABRT)
            except OSError:
                pass
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.01)
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = 0
        fault += _read_available(ffr)
    finally:
        os.close(rfd)
        os.close(ffr)
    elapsed = (time.monotonic() - t0) * 1000.0
    result = None
    if expected is not None and len(buf) >= 8 + expected:
        try:
            result = json.loads(bytes(buf[8:8 + expected]).decode("utf-8"))
        except ValueError:
            result = None
    if result is None:
        lineno = _fault_lineno(fault, path)
        if timed_out:
            msg = "AirflowTaskTimeout: DAG file import timed out after %ss: %s" % (
                _fmt_timeout(timeout), path)
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = "signal %d" % sig
            msg = "DAG file import crashed: the parsing process was killed by %s while " \
                  "importing %s" % (name, path)
        else:
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
            msg = "DAG file import failed: the parsing process exited with code %d while " \
                  "importing %s" % (code, path)
        tb = fault.strip()
        result = {"file": path, "dags": [], "import_errors": [{
            "filename": path, "lineno": lineno, "message": msg,
            "traceback": (tb + "\n\n" if tb else "") + msg + "\n"}]}
    result["duration_ms"] = round(elapsed, 3)
    return result


# -- commands --------------------------------------------------------------------------------
def parse_main(argv):
    """``boot.py parse [--dags-folder DIR] [--timeout SECONDS] FILE``."""
    dags_folder = None
    timeout = DEFAULT_TIMEOUT
    files = []
    inproc = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--dags-folder", "--timeout") and i + 1 < len(argv):
            if a == "--dags-folder":
                dags_folder = argv[i + 1]
            else:
                timeout = float(argv[i + 1])
            i += 2
            continue
        if a.startswith("--dags-folder="):
            dags_folder = a.split("=", 1)[1]
        elif a.startswith("--timeout="):
            timeout = float(a.split("=", 1)[1])
        elif a == "--no-fork":
            inproc = True
        elif a in ("-h", "--help"):
            sys.stderr.write(parse_main.__doc__ + "\n")
            return 0
        else:
            files.append(a)
        i += 1
    if len(files) != 1:
        sys.stderr.write("usage: boot.py parse [--dags-folder DIR] [--timeout SECONDS] FILE\n")
        return 2
    if inproc:
        from leoflow_rt.loader import parse_file

        t0 = time.monotonic()
        result = parse_file(files[0], dags_folder)
        result["duration_ms"] = round((time.monotonic() - t0) * 1000.0, 3)
    else:
        result = run_isolated(files[0], dags_folder, timeout)
    out = sys.stdout.buffer
    out.write(_dumps(result) + b"\n")
    out.flush()
    return 0


PREWARM = (
    "airflow", "airflow.sdk", "airflow.sdk.definitions.dag", "airflow.sdk.bases.operator",
    "airflow.sdk.bases.sensor", "airflow.sdk.bases.decorator", "airflow.sdk.bases.hook",
    "airflow.sdk.definitions.decorators", "airflow.sdk.definitions.decorators.task_group",
    "airflow.sdk.definitions.taskgroup", "airflow.sdk.definitions.xcom_arg",
    "airflow.sdk.definitions.edges", "airflow.sdk.definitions.param",
    "airflow.sdk.definitions.mappedoperator", "airflow.sdk.definitions.asset",
    "airflow.sdk.definitions.context", "airflow.sdk.definitions.variable",
    "airflow.sdk.definitions.connection", "airflow.sdk.timezone", "airflow.sdk.exceptions",
    "airflow.exceptions", "airflow.utils.trigger_rule", "airflow.utils.weight_rule",
    "airflow.utils.state", "airflow.utils.dates", "airflow.utils.task_group",
    "airflow.utils.edgemodifier", "airflow.utils.helpers", "airflow.utils.timezone",
    "airflow.timetables.trigger", "airflow.timetables.interval", "airflow.timetables.simple",
    "airflow.timetables.assets", "airflow.decorators", "airflow.models", "airflow.models.dag",
    "airflow.models.baseoperator", "airflow.models.param",
    "airflow.providers.standard.operators.bash", "airflow.providers.standard.operators.python",
    "airflow.providers.standard.operators.empty",
    "airflow.providers.standard.operators.trigger_dagrun",
    "airflow.providers.standard.operators.latest_only",
    "airflow.providers.standard.operators.datetime",
    "airflow.providers.standard.operators.weekday",
    "airflow.providers.standard.sensors.python", "airflow.providers.standard.sensors.time_delta",
    "airflow.providers.standard.sensors.time", "airflow.providers.standard.sensors.date_time",
    "airflow.providers.standard.sensors.weekday", "airflow.providers.standard.sensors.filesystem",
    "airflow.providers.standard.sensors.external_task",
    "airflow.providers.standard.sensors.bash", "airflow.providers.standard.decorators.python",
    "airflow.providers.standard.decorators.bash",
    "airflow.providers.standard.decorators.branch_python",
    "airflow.providers.standard.decorators.short_circuit",
    "airflow.providers.standard.decorators.sensor", "airflow.providers.http.operators.http",
    "airflow.operators.bash", "airflow.operators.python", "airflow.operators.empty",
    "leoflow_rt.loader", "leoflow_rt.serialize", "leoflow_rt.sigbind",
    "leoflow_rt.jsonschema_lite", "pendulum", "importlib.util", "traceback", "inspect",
    "typing", "faulthandler", "select", "signal", "zoneinfo", "calendar", "collections.abc",
    "_sha1", "hashlib", "__future__", "datetime", "json", "re", "functools", "math", "random",
    "ctypes",
)


def prewarm():
    import importlib

    for name in PREWARM:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - prewarming is best effort
            pass
    try:
        import pendulum

        pendulum.timezone("Europe/Paris")
    except Exception:  # noqa: BLE001
        pass


def worker_main(argv):
    """``boot.py worker``: one JSON request per stdin line, one JSON answer per stdout line."""
    prewarm()
    stdin = sys.stdin.buffer
    out = sys.stdout.buffer
    while True:
        line = stdin.readline()
        if not line:
            return 0
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request must be a JSON object")
        except ValueError as e:
            resp = {"id": None, "error": "invalid request: %s" % e}
        else:
            rid = req.get("id")
            op = req.get("op")
            if op == "ping":
                resp = {"id": rid, "ok": True}
            elif op == "parse":
                path = req.get("path")
                if not isinstance(path, str) or not path:
                    resp = {"id": rid, "error": "parse request needs a non-empty 'path'"}
                else:
                    try:
                        resp = run_isolated(path, req.get("dags_folder"),
                                            req.get("timeout") or DEFAULT_TIMEOUT)
                    except Exception as e:  # noqa: BLE001 - keep serving
                        resp = {"file": os.path.abspath(path), "dags": [], "import_errors": [{
                            "filename": os.path.abspath(path), "lineno": None,
                            "message": "Leoflow worker error: %s: %s" % (type(e).__name__, e),
                            "traceback": ""}], "duration_ms": 0.0}
                    resp["id"] = rid
            elif op in ("shutdown", "exit"):
                out.write(_dumps({"id": rid, "ok": True}) + b"\n")
                out.flush()
                return 0
            else:
                resp = {"id": rid, "error": "unknown op %r" % (op,)}
        out.write(_dumps(resp) + b"\n")
        out.flush()
