"""Legacy path of ``XComArg``."""
from airflow.sdk.definitions.xcom_arg import (  # noqa: F401
    XComArg,
    PlainXComArg,
    MapXComArg,
    ZipXComArg,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
