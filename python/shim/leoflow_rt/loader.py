"""Import one DAG file the way Airflow's DagBag does, and collect its DAGs / import errors.

Used by the parser (``parse_file``) and reusable by a task runtime (``load_file``): the live
DAG objects stay in ``registry.dags`` and on the returned module.
"""
import os
import sys

from leoflow_rt import registry


def module_name_for(path):
    """Airflow's module name for a DAG file: ``unusual_prefix_<sha1(path)>_<stem>``."""
    data = path.encode("utf-8", "surrogateescape")
    try:
        import _sha1

        digest = _sha1.sha1(data).hexdigest()
    except ImportError:  # pragma: no cover
        import hashlib

        digest = hashlib.sha1(data).hexdigest()
    stem = os.path.splitext(os.path.basename(path))[0]
    stem = stem.replace(".", "_").replace("-", "_")
    return "unusual_prefix_%s_%s" % (digest, stem)


def prepare_sys_path(path, dags_folder=None):
    """Add the file's folder and the DAGs folder to ``sys.path`` (after site-packages, like
    Airflow appends its DAGs folder; only the pendulum fallback stays behind them)."""
    extra = [os.path.dirname(path)]
    if dags_folder:
        extra.append(os.path.abspath(dags_folder))
        # Airflow puts its plugins folder on sys.path; Lite's is plugins/ next to the DAG
        # folder (leoflow_rt.plugins).
        from leoflow_rt.plugins import plugins_folder

        folder = plugins_folder(dags_folder)
        if os.path.isdir(folder):
            extra.append(folder)
    pos = len(sys.path)
    for i, p in enumerate(sys.path):
        if p.endswith(os.sep + "fallback") and os.path.isdir(os.path.join(p, "pendulum")):
            pos = i
            break
    for d in extra:
        if d in sys.path:
            continue
        sys.path.insert(pos, d)
        pos += 1


def import_error(path, exc, lineno=None, validation=False):
    """IMPORT_ERROR dict for ``exc`` (lineno = innermost frame of the DAG file)."""
    import traceback

    tb = exc.__traceback__
    if lineno is None:
        if isinstance(exc, SyntaxError) and exc.filename == path:
            lineno = exc.lineno
        else:
            for frame, ln in traceback.walk_tb(tb):
                if frame.f_code.co_filename == path:
                    lineno = ln
    start = tb
    while start is not None and start.tb_frame.f_code.co_filename != path:
        start = start.tb_next
    if validation or (start is None and isinstance(exc, SyntaxError)):
        text = "".join(traceback.format_exception_only(type(exc), exc))
        cause = exc.__cause__
        if cause is not None:
            text = "".join(traceback.format_exception_only(type(cause), cause)) + "\n" + \
                "The above exception was the direct cause of the following exception:\n\n" + text
    else:
        text = "".join(traceback.format_exception(type(exc), exc, start or tb))
    return {"filename": path, "lineno": lineno, "message": one_line(exc),
            "traceback": text}


def one_line(exc):
    msg = str(exc)
    if isinstance(exc, SyntaxError):
        msg = "%s (%s, line %s)" % (exc.msg, os.path.basename(exc.filename or "?"), exc.lineno)
    text = "%s: %s" % (type(exc).__name__, msg) if msg else type(exc).__name__
    cause = exc.__cause__
    if cause is not None:
        text += " (caused by %s: %s)" % (type(cause).__name__, cause)
    return " ".join(text.split())


def load_file(path, dags_folder=None):
    """Import ``path``; return ``(module | None, [DAG], [IMPORT_ERROR])`` like Airflow's DagBag."""
    path = os.path.abspath(path)
    import airflow  # noqa: F401 - installs the unsupported-module finder
    from airflow.sdk.definitions.dag import DAG

    registry.reset(path)
    if not os.path.isfile(path):
        return None, [], [{"filename": path, "lineno": None,
                           "message": "FileNotFoundError: no such DAG file: %s" % path,
                           "traceback": ""}]
    prepare_sys_path(path, dags_folder)
    mod_name = module_name_for(path)
    import importlib.util

    try:
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    except BaseException as e:  # noqa: BLE001 - any failure is an import error
        sys.modules.pop(mod_name, None)
        if isinstance(e, KeyboardInterrupt) and not registry.current_file:
            raise
        registry.failed_files.extend(_files_of(e))
        return None, [], [import_error(path, e)]

    candidates = list(registry.auto_registered)
    for v in list(module.__dict__.values()):
        if isinstance(v, DAG) and not any(v is c for c in candidates):
            candidates.append(v)
    order = {id(d): i for i, d in enumerate(registry.dags)}
    candidates.sort(key=lambda d: order.get(id(d), len(order)))
    by_id = {}
    for d in candidates:
        by_id[d.dag_id] = d
    dags, errors = [], []
    for d in by_id.values():
        try:
            d.validate()
        except Exception as e:  # noqa: BLE001
            errors.append(import_error(path, e, lineno=d._lf_lineno, validation=True))
            continue
        d.fileloc = path
        dags.append(d)
    return module, dags, errors


def _files_of(exc):
    """Every source file an exception's traceback (and its causes) went through."""
    import traceback

    files, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, SyntaxError) and exc.filename:
            files.append(exc.filename)
        for frame, _ln in traceback.walk_tb(exc.__traceback__):
            files.append(frame.f_code.co_filename)
        exc = exc.__cause__ or exc.__context__
    return files


def local_imports(path, dags_folder=None):
    """The Python files under the DAG folder (the file's own folder without one) that the
    import of ``path`` loaded or failed in, sorted: when one changes, ``path`` is re-parsed."""
    root = os.path.abspath(dags_folder) if dags_folder else os.path.dirname(path)
    prefix = root.rstrip(os.sep) + os.sep
    found = set()
    candidates = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
    candidates.extend(registry.failed_files)
    for f in candidates:
        if not f or not isinstance(f, str):
            continue
        f = os.path.abspath(f)
        if f != path and f.startswith(prefix) and f.endswith(".py") and os.path.isfile(f):
            found.add(f)
    return sorted(found)


def parse_file(path, dags_folder=None):
    """Parse result (without ``duration_ms``) of one DAG file, in this process."""
    from leoflow_rt.serialize import dag_to_json

    path = os.path.abspath(path)
    _module, dags, errors = load_file(path, dags_folder)
    out = []
    for d in dags:
        try:
            out.append(dag_to_json(d))
        except Exception as e:  # noqa: BLE001 - a serialization bug must not hide the file
            errors.append(import_error(path, e, lineno=d._lf_lineno, validation=True))
    return {"file": path, "dags": out, "import_errors": errors,
            "imports": local_imports(path, dags_folder),
            "warnings": [w for w in registry.warnings if w.get("filename")]}
