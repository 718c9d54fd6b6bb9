"""Airflow 2 dataset names (aliases of assets)."""
from airflow.sdk.definitions.asset import (  # noqa: F401
    Dataset,
    DatasetAlias,
    DatasetAll,
    DatasetAny,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
