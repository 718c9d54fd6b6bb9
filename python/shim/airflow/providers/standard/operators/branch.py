from airflow.providers.standard.operators.python import BaseBranchOperator  # noqa: F401
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
