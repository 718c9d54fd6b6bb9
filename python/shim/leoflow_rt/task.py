"""Task runtime: runs one task instance in a child forked by the zygote (a façade).

The runtime is one module per job; this module only re-exports its entry points and public
names, so ``leoflow_rt.task`` keeps working for its importers (``zygote.py``: ``spare_main``,
``check_json``, ``_ts``; the shim's ``BashOperator``: ``context_to_airflow_vars``), and
importing it imports the whole runtime (the zygote's pre-warm list names it):

- ``child.py``: the forked process (spare / fork-per-TI entry points, isolation, ``TI.env``,
  warm-up), runs one ``Runner`` with output captured, writes the result, exit code;
- ``capture.py``: the NDJSON task log, stdout/stderr/fd 1-2/logging capture, secret masking;
- ``context.py``: Airflow's task context (``ti``, XComs, ``dag_run``, params, macros,
  ``var``/``conn``, ``get_current_context()``, ``AIRFLOW_CTX_*``);
- ``mapping.py``: ``XComArg`` resolution and a map index's share of the expand input;
- ``rendering.py``: template fields and ``rendered_fields``;
- ``runner.py``: one run (load, prepare, execute, XCom push, callbacks, outcome, result file).

See PROTOCOL.md, "Task runtime".
"""
from leoflow_rt.capture import SENSITIVE_FIELDS, LogSink, _ts
from leoflow_rt.child import EXIT_CODES, child_main, spare_main
from leoflow_rt.context import (
    RETURN_KEY,
    ConnectionAccessor,
    DagRun,
    Macros,
    OutletEventAccessors,
    RuntimeTaskInstance,
    VariableAccessor,
    XComStore,
    check_json,
    context_to_airflow_vars,
)
from leoflow_rt.rendering import MAX_TEMPLATED_FIELD_LENGTH
from leoflow_rt.runner import Runner, write_result

__all__ = [
    "EXIT_CODES", "MAX_TEMPLATED_FIELD_LENGTH", "RETURN_KEY", "SENSITIVE_FIELDS",
    "ConnectionAccessor", "DagRun", "LogSink", "Macros", "OutletEventAccessors", "Runner",
    "RuntimeTaskInstance", "VariableAccessor", "XComStore", "_ts", "check_json",
    "child_main", "context_to_airflow_vars", "spare_main", "write_result",
]
