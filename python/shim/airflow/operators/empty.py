"""Legacy path of ``EmptyOperator``."""
from airflow.providers.standard.operators.empty import (  # noqa: F401
    EmptyOperator,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
