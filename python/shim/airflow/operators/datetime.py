"""Legacy path of ``BranchDateTimeOperator``."""
from airflow.providers.standard.operators.datetime import (  # noqa: F401
    BranchDateTimeOperator,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
