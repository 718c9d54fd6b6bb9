"""``TaskInstance`` placeholder (for type annotations in DAG files; run time only)."""
from leoflow_rt.unsupported import module_getattr


class TaskInstance:
    """Available at run time through the task context (``context["ti"]``)."""


class TaskInstanceKey(tuple):
    pass


__getattr__ = module_getattr(__name__)
