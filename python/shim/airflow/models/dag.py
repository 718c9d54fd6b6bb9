"""Legacy path of ``DAG``."""
from airflow.sdk.definitions.dag import (  # noqa: F401
    DAG,
    dag,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
