"""Assets."""
from airflow.sdk.definitions.asset import (  # noqa: F401
    Asset,
    AssetAlias,
    AssetAll,
    AssetAny,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
