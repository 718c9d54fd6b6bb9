"""Legacy path of ``LatestOnlyOperator``."""
from airflow.providers.standard.operators.latest_only import (  # noqa: F401
    LatestOnlyOperator,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
