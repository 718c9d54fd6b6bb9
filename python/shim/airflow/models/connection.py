"""Legacy path of ``Connection``."""
from airflow.sdk.definitions.connection import (  # noqa: F401
    Connection,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
