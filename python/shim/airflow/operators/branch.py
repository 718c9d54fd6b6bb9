"""Legacy path of ``BaseBranchOperator``."""
from airflow.providers.standard.operators.python import (  # noqa: F401
    BaseBranchOperator,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
