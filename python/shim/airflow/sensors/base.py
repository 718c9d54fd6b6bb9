"""Legacy path of ``BaseSensorOperator``."""
from airflow.sdk.bases.sensor import (  # noqa: F401
    BaseSensorOperator,
    PokeReturnValue,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
