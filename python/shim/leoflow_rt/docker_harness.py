"""The ``@task.docker`` harness: its text is copied into ``script.py`` after the task function.

Never imported by the runtime: ``container.py`` writes ``script.py`` = the function's source
(task decorators stripped) + this file + a call ``_leoflow_main(<function>)``, and the server
runs it in the task's image with that image's ``python3`` (no Airflow, no Leoflow runtime:
standard library only, Python >= 3.8). It reads ``input.json`` beside the script
(``{"args": [...], "kwargs": {...}}``), calls the function, writes ``output.json``
(``{"return_value": VALUE}``; ``{"error": "..."}`` and exit 1 when the value is not JSON) and
exits 0. An exception prints its traceback on stderr and exits 1; ``sys.exit(N)`` in the
function exits N without ``output.json``. Nothing but the function's own output goes to
stdout. See PROTOCOL.md, "Container tasks".
"""


def _leoflow_main(function):
    import json
    import os
    import sys
    import traceback

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "input.json"), encoding="utf-8") as fh:
        call = json.load(fh)
    try:
        value = function(*call.get("args", []), **call.get("kwargs", {}))
    except Exception:  # noqa: BLE001 - reported like an uncaught exception
        traceback.print_exc()
        return 1
    try:
        text = json.dumps({"return_value": value}, ensure_ascii=False, allow_nan=False)
        status = 0
    except (TypeError, ValueError, OverflowError, RecursionError) as e:
        message = ("the value returned by %s() is not JSON-serialisable (%s: %s); @task.docker "
                   "returns values as JSON: dict, list, str, int, float, bool or None"
                   % (getattr(function, "__name__", "the function"), type(e).__name__, e))
        sys.stderr.write(message + "\n")
        text = json.dumps({"error": message})
        status = 1
    path = os.path.join(here, "output.json")
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)
    return status
