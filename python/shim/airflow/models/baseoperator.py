"""Legacy path of ``BaseOperator`` and the chain helpers."""
from airflow.sdk.bases.operator import (  # noqa: F401
    BaseOperator,
    BaseOperatorMeta,
    chain,
    chain_linear,
    cross_downstream,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
