"""Helper module living next to the DAG files; imported as ``helpers.common``."""
from airflow.providers.standard.operators.bash import BashOperator

TEAM = "analytics"


def make_greeting(name):
    return "echo hello " + name


def add_report_tasks(names):
    """A task factory: builds one BashOperator per name in the current DAG context."""
    return [BashOperator(task_id="report_" + n, bash_command=make_greeting(n)) for n in names]


def explode():
    raise RuntimeError("helper failed on purpose")
