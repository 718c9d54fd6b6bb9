"""Sentinels."""
from airflow.sdk.definitions._internal.types import (  # noqa: F401
    NOTSET,
    ArgNotSet,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
