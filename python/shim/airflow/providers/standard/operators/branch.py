from airflow.providers.standard.operators.python import (  # noqa: F401
    BaseBranchOperator,
    BranchMixIn,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
