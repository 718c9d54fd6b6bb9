"""Legacy path of ``MappedOperator``."""
from airflow.sdk.definitions.mappedoperator import (  # noqa: F401
    MappedOperator,
    OperatorPartial,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
