"""Task output capture: the NDJSON task log and secret masking.

Owns the log writer (``LogSink``: one ``write`` per record, size cap, secrets masked as
``***``), the task's ``sys.stdout``/``sys.stderr`` replacements, the fd 1/2 pipes pumped by a
thread (``_Capture``), the ``logging`` root handler, and which names are secrets
(``SENSITIVE_FIELDS``). Called by ``child.py`` (opens the sink, starts/stops the capture
around the run), ``runner.py`` (its ``leoflow`` records), ``context.py`` (the Variable and
Connection getters register the secrets they read) and ``rendering.py`` (``_mask_json`` on
``rendered_fields``). See PROTOCOL.md, "Log file".
"""
import io
import json
import logging as _logging  # (pre-imported by the zygote anyway)
import os
import sys
import threading
import time

SENSITIVE_FIELDS = ("access_token", "api_key", "apikey", "authorization", "passphrase",
                    "passwd", "password", "private_key", "secret", "token", "keyfile_dict",
                    "service_account")


def _ts():
    """RFC 3339 UTC timestamp with microseconds (``2024-01-01T00:00:00.123456Z``)."""
    t = time.time()
    sec = int(t)
    return "%s.%06dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)),
                         int((t - sec) * 1e6))


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _is_sensitive(name):
    n = str(name).lower()
    return any(f in n for f in SENSITIVE_FIELDS)


# -- logging: NDJSON lines -------------------------------------------------------------------
class LogSink:
    """Appends ``{"timestamp", "stream", "line"[, "level"][, "logger"]}`` lines to the log file,
    one ``write`` per line (live-tailable), with secrets masked."""

    def __init__(self, path, max_bytes=0):
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT |
                          getattr(os, "O_CLOEXEC", 0), 0o644)
        self.lock = threading.Lock()
        self.secrets = []
        # Size cap (``TI.log_max_bytes``, 0 = none): task output past it is dropped after one
        # notice; the runtime's own ``leoflow`` records still go through.
        self.max_bytes = max_bytes if isinstance(max_bytes, int) and max_bytes > 0 else 0
        self.written = 0
        self.capped = False

    def add_secret(self, value):
        if isinstance(value, str) and len(value.strip()) >= 4 and value not in self.secrets:
            self.secrets.append(value)
            self.secrets.sort(key=len, reverse=True)

    def mask(self, text):
        for s in self.secrets:
            if s in text:
                text = text.replace(s, "***")
        return text

    def emit(self, stream, line, level=None, logger=None):
        if self.secrets:
            line = self.mask(line)
        rec = {"timestamp": _ts(), "stream": stream, "line": line}
        if level:
            rec["level"] = level
        if logger:
            rec["logger"] = logger
        try:
            data = json.dumps(rec, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            rec["line"] = line.encode("utf-8", "replace").decode("utf-8")
            data = json.dumps(rec, ensure_ascii=False).encode("utf-8")
        with self.lock:
            if self.max_bytes and stream != "leoflow":
                if self.capped:
                    return
                if self.written + len(data) + 1 > self.max_bytes:
                    self.capped = True
                    note = {"timestamp": _ts(), "stream": "leoflow", "level": "warning",
                            "line": "Log size limit of %d bytes reached: further task output "
                                    "is dropped (raise log_max_bytes to keep more)"
                                    % self.max_bytes}
                    _write_all(self.fd, json.dumps(note).encode("utf-8") + b"\n")
                    return
            self.written += len(data) + 1
            _write_all(self.fd, data + b"\n")

    def emit_text(self, stream, text, level=None, logger=None):
        if text.endswith("\n"):
            text = text[:-1]
        for ln in text.split("\n"):
            self.emit(stream, ln.rstrip("\r"), level, logger)


class _TextToLog(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` of the task: complete lines become log records at once
    (so they interleave correctly with logging records); ``fileno()`` is the captured fd."""

    def __init__(self, sink, stream, fd):
        super().__init__()
        self._sink = sink
        self._stream = stream
        self._fd = fd
        self._buf = ""
        self._lock = threading.RLock()
        self.buffer = _BytesToText(self)

    encoding = "utf-8"
    errors = "replace"
    line_buffering = True

    @property
    def name(self):
        return "<%s>" % self._stream

    @property
    def mode(self):
        return "w"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        with self._lock:
            data = self._buf + s if self._buf else s
            if "\n" in data:
                lines = data.split("\n")
                self._buf = lines.pop()
                for ln in lines:
                    self._sink.emit(self._stream, ln[:-1] if ln.endswith("\r") else ln)
            else:
                self._buf = data
            if len(self._buf) > 65536:
                self._sink.emit(self._stream, self._buf)
                self._buf = ""
        return len(s)

    def writelines(self, lines):
        for ln in lines:
            self.write(ln)

    def flush(self):
        pass

    def drain(self):
        with self._lock:
            if self._buf:
                self._sink.emit(self._stream, self._buf)
                self._buf = ""

    def reconfigure(self, **kwargs):
        pass


class _BytesToText:
    def __init__(self, text):
        self._text = text

    def write(self, b):
        self._text.write(bytes(b).decode("utf-8", "replace"))
        return len(b)

    def flush(self):
        pass

    def fileno(self):
        return self._text.fileno()

    def writable(self):
        return True

    def isatty(self):
        return False


class _Capture:
    """fd 1/2 become pipes pumped into the log by a thread (subprocesses, C code); the Python
    ``sys.stdout``/``sys.stderr`` and the ``logging`` root handler write records directly."""

    def __init__(self, sink):
        self.sink = sink
        self.thread = None

    def start(self):
        import logging

        fds = {}
        for target, stream in ((1, "stdout"), (2, "stderr")):
            r, w = os.pipe()
            os.dup2(w, target)
            os.close(w)
            fds[r] = stream
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._pump, args=(fds,), name="leoflow-log-pump",
                                       daemon=True)
        self.thread.start()
        self.out = _TextToLog(self.sink, "stdout", 1)
        self.err = _TextToLog(self.sink, "stderr", 2)
        sys.stdout = sys.__stdout__ = self.out
        sys.stderr = sys.__stderr__ = self.err
        root = logging.getLogger()
        for h in list(root.handlers):
            root.removeHandler(h)
        handler = _SinkHandler(self.sink)
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        if hasattr(os, "register_at_fork"):
            # A task that forks (multiprocessing) must not inherit a lock held by the pump.
            os.register_at_fork(after_in_child=self._after_fork_in_child)

    def _after_fork_in_child(self):
        self.sink.lock = threading.Lock()
        for f in (self.out, self.err):
            f._lock = threading.RLock()

    def _pump(self, fds):
        import select

        bufs = {fd: b"" for fd in fds}
        open_fds = set(fds)
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        poller.register(self.stop_r, select.POLLIN)
        closing = False
        while open_fds:
            events = poller.poll(50 if closing else None)
            if not events and closing:
                break
            for fd, _ev in events:
                if fd == self.stop_r:
                    closing = True
                    poller.unregister(fd)
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                stream = fds[fd]
                if not chunk:
                    poller.unregister(fd)
                    open_fds.discard(fd)
                    if bufs[fd]:
                        self._emit(stream, bufs[fd])
                        bufs[fd] = b""
                    continue
                data = bufs[fd] + chunk
                if b"\n" in data:
                    lines = data.split(b"\n")
                    data = lines.pop()
                    for ln in lines:
                        self._emit(stream, ln)
                if len(data) > 65536:
                    self._emit(stream, data)
                    data = b""
                bufs[fd] = data
        for fd, data in bufs.items():
            if data:
                self._emit(fds[fd], data)
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def _emit(self, stream, raw):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        self.sink.emit(stream, raw.decode("utf-8", "replace"))

    def stop(self):
        for f in (self.out, self.err):
            f.drain()
        nul = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nul, 1)
        os.dup2(nul, 2)
        os.close(nul)
        try:
            os.write(self.stop_w, b"x")
        except OSError:
            pass
        self.thread.join(5.0)


class _SinkHandler(_logging.Handler):
    def __init__(self, sink):
        super().__init__()
        self.sink = sink

    def emit(self, record):
        try:
            msg = self.format(record)
        except Exception:  # noqa: BLE001
            msg = "%s %% %r" % (record.msg, record.args)
        self.sink.emit_text("stderr", msg, record.levelname.lower(), record.name)


class _NullSink:
    secrets = ()

    def emit(self, *a, **k):
        pass

    emit_text = emit

    def add_secret(self, value):
        pass

    def mask(self, text):
        return text


def _mask_json(v, sink):
    if isinstance(v, str):
        return sink.mask(v)
    if isinstance(v, list):
        return [_mask_json(x, sink) for x in v]
    if isinstance(v, dict):
        return {k: _mask_json(x, sink) for k, x in v.items()}
    return v
