"""Legacy path of ``Param``."""
from airflow.sdk.definitions.param import (  # noqa: F401
    Param,
    ParamsDict,
    DagParam,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
