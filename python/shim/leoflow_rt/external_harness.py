"""The ``ExternalPythonOperator`` harness: its text is copied into ``script.py`` after the task
function (never imported by the runtime).

``external.py`` writes ``script.py`` = the function's source (task decorators stripped) + this
file + ``_leoflow_external_main(<function>)`` and runs it with the operator's ``python``
(standard library only, Python >= 3.6; no Airflow): ``script.py INPUT OUTPUT SERIALIZER
STRING_ARGS``. It loads ``{"args": [...], "kwargs": {...}}`` from INPUT (JSON, or the pickle
library SERIALIZER names: ``pickle``, ``dill``, ``cloudpickle``), sets ``virtualenv_string_args``
from STRING_ARGS (one per line), calls the function and writes ``{"return_value": VALUE}`` to
OUTPUT with the same serializer; a return value that is not JSON (JSON mode) writes
``{"error": ...}`` and exits 1. An exception prints its traceback on stderr and exits 1;
``sys.exit(N)`` exits N without OUTPUT.
"""


def _leoflow_external_main(function):
    import json
    import sys
    import traceback

    input_path, output_path, serializer, string_args_path = sys.argv[1:5]
    global virtualenv_string_args
    with open(string_args_path, encoding="utf-8") as fh:
        virtualenv_string_args = [line for line in fh.read().split("\n") if line]
    if serializer == "json":
        with open(input_path, encoding="utf-8") as fh:
            call = json.load(fh)
        lib = None
    else:
        lib = __import__(serializer)
        with open(input_path, "rb") as fh:
            call = lib.load(fh)
    try:
        value = function(*call.get("args", []), **call.get("kwargs", {}))
    except Exception:  # noqa: BLE001 - reported like an uncaught exception
        traceback.print_exc()
        return 1
    status = 0
    if lib is None:
        try:
            data = json.dumps({"return_value": value}, ensure_ascii=False,
                              allow_nan=False).encode("utf-8")
        except (TypeError, ValueError, OverflowError, RecursionError) as e:
            message = ("the value returned by %s() is not JSON-serialisable (%s: %s): return "
                       "dict, list, str, int, float, bool or None, or set serializer='pickle'"
                       % (getattr(function, "__name__", "the function"), type(e).__name__, e))
            sys.stderr.write(message + "\n")
            data = json.dumps({"error": message}).encode("utf-8")
            status = 1
    else:
        data = lib.dumps({"return_value": value})
    with open(output_path + ".tmp", "wb") as fh:
        fh.write(data)
    import os

    os.replace(output_path + ".tmp", output_path)
    return status


virtualenv_string_args = []
