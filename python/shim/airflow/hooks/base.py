"""Legacy path of ``BaseHook``."""
from airflow.sdk.bases.hook import (  # noqa: F401
    BaseHook,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
