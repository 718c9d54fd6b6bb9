"""``DagRun`` placeholder (for type annotations in DAG files; run time only)."""
from leoflow_rt.unsupported import module_getattr


class DagRun:
    """Available at run time through the task context (``context["dag_run"]``)."""


__getattr__ = module_getattr(__name__)
