"""Legacy ``airflow.utils.helpers`` (chain helpers)."""
from airflow.sdk.bases.operator import (  # noqa: F401
    chain,
    chain_linear,
    cross_downstream,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
