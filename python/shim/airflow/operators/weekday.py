"""Legacy path of ``BranchDayOfWeekOperator``."""
from airflow.providers.standard.operators.weekday import (  # noqa: F401
    BranchDayOfWeekOperator,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
