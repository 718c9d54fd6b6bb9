"""Legacy path of ``BashOperator``."""
from airflow.providers.standard.operators.bash import (  # noqa: F401
    BashOperator,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
