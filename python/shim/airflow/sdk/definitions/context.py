"""``get_current_context`` / ``Context`` / ``get_parsing_context``."""
from leoflow_rt import registry


class Context(dict):
    """The task execution context (a dict of ``ti``, ``ds``, ``params``...)."""


def get_current_context():
    """The context of the running task (only valid while a task executes)."""
    if not registry.context_stack:
        raise RuntimeError(
            "Current context was requested but no context was found! "
            "Are you running within an Airflow task?")
    return registry.context_stack[-1]


class AirflowParsingContext:
    def __init__(self, dag_id=None, task_id=None):
        self.dag_id = dag_id
        self.task_id = task_id

    def __repr__(self):
        return "AirflowParsingContext(dag_id=%r, task_id=%r)" % (self.dag_id, self.task_id)


def get_parsing_context():
    """The DAG/task being parsed for execution (both None during a normal parse)."""
    import os

    return AirflowParsingContext(dag_id=os.environ.get("_AIRFLOW_PARSING_CONTEXT_DAG_ID"),
                                 task_id=os.environ.get("_AIRFLOW_PARSING_CONTEXT_TASK_ID"))


def context_merge(context, *args, **kwargs):
    """Merge dicts and keyword arguments into ``context`` (Airflow's ``context_merge``)."""
    if not context:
        context = Context()
    context.update(*args, **kwargs)
    return context
