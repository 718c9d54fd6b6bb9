"""Legacy path of ``Variable``."""
from airflow.sdk.definitions.variable import (  # noqa: F401
    Variable,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
