"""Process-wide state of one DAG-file import.

The shim objects (DAG, operators, task groups) register themselves here while a DAG file
is imported, so that both the parser and a later task runtime (which re-imports the file in a
child process) can find the live objects: ``registry.dags`` holds every DAG created, in
creation order, and ``registry.get_dag(dag_id)`` returns the one Airflow would keep.
"""
import sys

#: Absolute path of the DAG file being imported (``None`` outside an import).
current_file = None
#: Every DAG object created during the import, in creation order.
dags = []
#: DAGs used as context managers (Airflow "auto-registers" them even when not assigned).
auto_registered = []
#: Active ``with DAG(...)`` stack (Airflow's DagContext).
dag_stack = []
#: Active ``with TaskGroup(...)`` stack (Airflow's TaskGroupContext).
group_stack = []
#: Hook for a runtime: callable(key) -> str | None used by Variable.get before env vars.
variable_getter = None
#: Hook for a runtime: callable(conn_id) -> Connection | None.
connection_getter = None
#: Runtime task context stack (get_current_context).
context_stack = []
#: Active ``with setup_or_teardown_task:`` blocks: [{"setups", "teardowns", "nodes"}].
setup_teardown_stack = []
#: Source files a failed import went through (its traceback, a SyntaxError's file): a helper
#: module that broke the import is no longer in ``sys.modules``, yet the file depends on it.
failed_files = []
#: Warnings of this import (``{"filename", "lineno", "message"}``), reported with the parse.
warnings = []


def reset(path=None):
    """Forget everything (a new import is about to start)."""
    global current_file
    current_file = path
    del dags[:]
    del auto_registered[:]
    del dag_stack[:]
    del group_stack[:]
    del setup_teardown_stack[:]
    del failed_files[:]
    del warnings[:]


def warn(message):
    """Record a parse warning at the DAG file's current line (the file still imports)."""
    warnings.append({"filename": current_file, "lineno": caller_lineno(3), "message": message})


def current_dag():
    return dag_stack[-1] if dag_stack else None


def current_group(dag):
    if group_stack:
        return group_stack[-1]
    return dag.task_group if dag is not None else None


def caller_lineno(depth=2):
    """Line of the innermost frame executing the DAG file (None if the file is not on the stack)."""
    target = current_file
    if target is None:
        return None
    try:
        f = sys._getframe(depth)
    except ValueError:
        return None
    while f is not None:
        if f.f_code.co_filename == target:
            return f.f_lineno
        f = f.f_back
    return None


def get_dag(dag_id):
    """The DAG with this id among those created during the import (the last one wins)."""
    for d in reversed(dags):
        if d.dag_id == dag_id:
            return d
    return None


def st_register(node):
    """Record a task/group created inside a ``with setup/teardown`` block."""
    if setup_teardown_stack and not (getattr(node, "is_setup", False) or
                                     getattr(node, "is_teardown", False)):
        setup_teardown_stack[-1]["nodes"].append(node)


def st_unregister(node):
    for frame in setup_teardown_stack:
        frame["nodes"] = [n for n in frame["nodes"] if n is not node]
