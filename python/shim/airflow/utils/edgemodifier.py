"""Legacy path of ``Label``."""
from airflow.sdk.definitions.edges import (  # noqa: F401
    EdgeModifier,
    Label,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
