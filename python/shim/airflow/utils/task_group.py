"""Legacy path of ``TaskGroup``."""
from airflow.sdk.definitions.taskgroup import (  # noqa: F401
    TaskGroup,
    MappedTaskGroup,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
