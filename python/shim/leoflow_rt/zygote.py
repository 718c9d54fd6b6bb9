"""``boot.py zygote``: a warm interpreter that forks one child per task instance.

Single-threaded select loop over stdin (JSON requests) and a SIGCHLD wake-up pipe; children
are reaped as soon as they exit and reported with an unsolicited ``exit`` event. The protocol
is written to a private duplicate of the original stdout; fd 1 itself points at stderr so
stray ``print``s (from imports) can never corrupt the protocol. See PROTOCOL.md.
"""
import json
import os
import signal
import sys
import time

#: Extra modules a task commonly needs (on top of the parse worker's PREWARM list).
TASK_PREWARM = (
    "leoflow_rt.task", "leoflow_rt.templating", "threading", "logging", "subprocess",
    "tempfile", "io", "shutil", "glob", "uuid", "ast", "tokenize", "html", "urllib.parse",
    "collections.abc", "decimal", "statistics", "csv", "base64", "textwrap", "string",
    "pathlib", "itertools", "operator", "contextlib", "dataclasses", "enum", "copy", "pprint",
    "airflow.sdk.definitions.template", "airflow.models.xcom_arg", "airflow.utils.context",
    "airflow.providers.standard.operators.latest_only",
    "jinja2", "jinja2.sandbox", "jinja2.nativetypes", "jinja2.ext", "jinja2.compiler",
)


class _Terminate(Exception):
    pass


def _dumps(obj):
    return json.dumps(obj, ensure_ascii=False, allow_nan=False,
                      default=lambda o: repr(o)).encode("utf-8", "replace") + b"\n"


def prewarm():
    import importlib

    from leoflow_rt import worker

    worker.prewarm()
    for name in TASK_PREWARM:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - best effort (jinja2 is optional)
            pass
    # Compile the lazily-built parts once (template engine, json encoder).
    try:
        from leoflow_rt import templating

        class _D:
            fileloc = ""
            template_searchpath = None
            render_template_as_native_obj = False
            user_defined_macros = user_defined_filters = None
            template_undefined = jinja_environment_kwargs = None

        for r in (templating.make_renderer(_D()), templating.MiniRenderer(_D(), False)):
            r.render_string("{{ a.b | default('x') ~ 'y' }}", {"a": {"b": 1}})
    except Exception:  # noqa: BLE001
        pass
    try:
        import pendulum

        pendulum.parse("2024-01-01T00:00:00+00:00")
        from airflow.sdk.definitions.param import ParamsDict

        ParamsDict({"a": 1}).validate()
        from leoflow_rt import task

        task.check_json({"a": [1, 2.5, None]}, "warm-up")
        task._ts()
    except Exception:  # noqa: BLE001
        pass
    import gc

    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()  # the forked children never touch these pages for GC


class Zygote:
    def __init__(self):
        self.children = {}  # pid -> (request id, monotonic start)
        self.out_fd = os.dup(1)
        os.dup2(2, 1)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.inbuf = b""
        self.spare = None
        self.terminating = False
        self.use_spare = os.environ.get("LEOFLOW_ZYGOTE_SPARE", "1") != "0"
        self.have_waitid = hasattr(os, "waitid") and hasattr(os, "WNOWAIT") and \
            sys.platform.startswith("linux")

    # -- output --
    def send(self, obj):
        data = _dumps(obj)
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.out_fd, view)
                view = view[n:]
        except (BrokenPipeError, OSError):
            pass

    # -- signals --
    def install_signals(self):
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)

        def on_term(*_):
            self.terminating = True  # the wake-up fd makes select() return

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGHUP, on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    # -- children --
    @staticmethod
    def _kill_group(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass

    def _exited(self, pid, status):
        entry = self.children.pop(pid, None)
        if entry is None:
            if self.spare is not None and self.spare[0] == pid:
                self._drop_spare(kill=False)  # a spare that died: fork another later
            return
        rid, t0 = entry
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            rc = -sig
        else:
            sig = None
            rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        self.send({"event": "exit", "id": rid, "pid": pid, "returncode": rc, "signal": sig,
                   "duration_ms": round((time.monotonic() - t0) * 1000.0, 3)})

    def reap(self):
        """Reap every exited child; its process group (leftover grandchildren) is SIGKILLed
        first, while the zombie still holds the group id (no pid-reuse race)."""
        while self.children or self.spare is not None:
            try:
                if self.have_waitid:
                    info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
                    if info is None or not info.si_pid:
                        return
                    pid = info.si_pid
                    self._kill_group(pid)
                    _, status = os.waitpid(pid, 0)
                else:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        return
                    self._kill_group(pid)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            self._exited(pid, status)

    def _fork_spare(self):
        """Pre-fork the next task process: it isolates itself (setsid...) and waits for its
        TI on a pipe, so a run request costs no fork."""
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except (OSError, ValueError):
                pass
        ti_r, ti_w = os.pipe()
        sync_r, sync_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(ti_w)
                os.close(sync_r)
                from leoflow_rt.task import spare_main

                spare_main(ti_r, close_fds=(self.out_fd, self.wake_r, self.wake_w),
                           sync_fd=sync_w)
            finally:
                os._exit(70)
        os.close(ti_r)
        os.close(sync_w)
        return pid, ti_w, sync_r

    def ensure_spare(self):
        if self.spare is None and self.use_spare:
            try:
                self.spare = self._fork_spare()
            except OSError:
                self.spare = None

    def _drop_spare(self, kill=True):
        spare, self.spare = self.spare, None
        if spare is None:
            return None
        pid, ti_w, sync_r = spare
        for fd in (ti_w, sync_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if kill:
            self._kill_group(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return pid

    def run(self, rid, ti):
        problem = _check_ti(ti)
        if problem:
            self.send({"id": rid, "error": "invalid run request: %s" % problem})
            return
        data = json.dumps(ti).encode("utf-8")
        for _attempt in range(2):
            spare, self.spare = self.spare, None
            if spare is None:
                spare = self._fork_spare()
            pid, ti_w, sync_r = spare
            try:
                # The child has called setsid() once this pipe is closed.
                while True:
                    try:
                        os.read(sync_r, 1)
                        break
                    except InterruptedError:
                        continue
            finally:
                os.close(sync_r)
            t0 = time.monotonic()
            try:
                view = memoryview(data)
                while view:
                    n = os.write(ti_w, view)
                    view = view[n:]
            except OSError:  # the spare died (killed from outside): use a fresh one
                os.close(ti_w)
                continue
            os.close(ti_w)
            self.children[pid] = (rid, t0)
            self.send({"id": rid, "pid": pid})
            return
        self.send({"id": rid, "error": "cannot start the task: the task process died before "
                   "receiving its TI"})

    def shutdown(self, rid=None):
        spare_pid = self._drop_spare()
        for pid in list(self.children):
            self._kill_group(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 5.0
        while self.children and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.005)
                continue
            self._exited(pid, status)
        if spare_pid is not None:
            try:
                os.waitpid(spare_pid, 0)
            except ChildProcessError:
                pass
        if rid is not None:
            self.send({"id": rid, "ok": True})

    # -- requests --
    def handle(self, line):
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request must be a JSON object")
        except ValueError as e:
            self.send({"id": None, "error": "invalid request: %s" % e})
            return False
        rid = req.get("id")
        op = req.get("op")
        if op == "ping":
            self.send({"id": rid, "ok": True})
        elif op == "run":
            try:
                self.run(rid, req.get("ti"))
            except Exception as e:  # noqa: BLE001 - keep serving (fork failure, EAGAIN...)
                self.send({"id": rid, "error": "cannot start the task: %s: %s"
                           % (type(e).__name__, e)})
        elif op in ("shutdown", "exit"):
            self.shutdown(rid)
            return True
        else:
            self.send({"id": rid, "error": "unknown op %r" % (op,)})
        return False

    def serve(self):
        import select

        self.install_signals()
        try:
            while True:
                if self.terminating:
                    raise _Terminate()
                self.reap()
                self.ensure_spare()
                try:
                    readable, _, _ = select.select([0, self.wake_r], [], [])
                except InterruptedError:
                    continue
                if self.wake_r in readable:
                    try:
                        while os.read(self.wake_r, 4096):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
                if 0 in readable:
                    chunk = os.read(0, 1 << 16)
                    if not chunk:
                        self.shutdown(None)
                        return 0
                    self.inbuf += chunk
                    while b"\n" in self.inbuf:
                        line, self.inbuf = self.inbuf.split(b"\n", 1)
                        if line.strip() and self.handle(line):
                            return 0
                        self.reap()
                        if self.terminating:
                            raise _Terminate()
        except _Terminate:
            self.shutdown(None)
            return 0


def _check_ti(ti):
    if not isinstance(ti, dict):
        return "'ti' must be an object"
    for key in ("dag_file", "dag_id", "task_id", "log_path", "result_path"):
        if not isinstance(ti.get(key), str) or not ti.get(key):
            return "'ti.%s' must be a non-empty string" % key
    if ti.get("env") is not None and not isinstance(ti.get("env"), dict):
        return "'ti.env' must be an object"
    mi = ti.get("map_index", -1)
    if mi is not None and (not isinstance(mi, int) or isinstance(mi, bool)):
        return "'ti.map_index' must be an integer"
    return None


def zygote_main(argv):
    z = Zygote()  # first: from here on fd 1 is stderr, nothing can corrupt the protocol
    prewarm()
    return z.serve()
