"""Leoflow Lite Python entry point (the only file Rust runs).

    python3 -B boot.py parse [--dags-folder DIR] [--timeout SECONDS] FILE
    python3 -B boot.py worker
    python3 -B boot.py zygote
    python3 -B boot.py run-task REQUEST.json
    python3 -B boot.py run-ti TI.json

See PROTOCOL.md. Puts ``shim`` first and ``fallback`` last on ``sys.path``.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _setup_path():
    shim = os.path.join(HERE, "shim")
    fallback = os.path.join(HERE, "fallback")
    # The script's own folder must not shadow user modules (e.g. a DAG folder's "tests").
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE or p == shim]
    sys.path.insert(0, shim)
    sys.path.append(fallback)


def _ensure_bytecode():
    """Compile the embedded runtime once per interpreter (``-B`` only stops *writing* pyc
    files, reading them still works); user DAG folders never get ``__pycache__``."""
    tag = getattr(sys.implementation, "cache_tag", None)
    if not tag:
        return
    marker = os.path.join(HERE, ".compiled-" + tag)
    if os.path.exists(marker):
        return
    import py_compile

    for sub in ("shim", "fallback"):
        for root, dirs, files in os.walk(os.path.join(HERE, sub)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for f in files:
                if f.endswith(".py"):
                    try:
                        py_compile.compile(os.path.join(root, f), doraise=True)
                    except Exception:  # noqa: BLE001 - read-only runtime dir, odd file...
                        return
    try:
        with open(marker, "w") as fh:
            fh.write(sys.version + "\n")
    except OSError:
        pass


def main(argv):
    _setup_path()
    cmd = argv[1] if len(argv) > 1 else None
    if cmd in ("parse", "worker"):
        _ensure_bytecode()
        import leoflow_rt.worker as worker

        if cmd == "parse":
            return worker.parse_main(argv[2:])
        worker.prewarm()
        return worker.worker_main(argv[2:])
    if cmd == "plugins":
        from leoflow_rt import plugins

        return plugins.main(argv[2:])
    if cmd == "zygote":
        _ensure_bytecode()
        import leoflow_rt.zygote as zygote

        return zygote.zygote_main(argv[2:])
    if cmd == "run-task" and len(argv) == 3:
        _ensure_bytecode()
        import leoflow_rt.taskrun as taskrun

        return taskrun.main(argv[2])
    if cmd == "run-ti" and len(argv) == 3:
        # No _ensure_bytecode: inside a container the runtime folder may be read-only.
        import leoflow_rt.child as child

        return child.run_ti_main(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
