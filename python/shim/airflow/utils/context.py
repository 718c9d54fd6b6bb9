"""Legacy ``airflow.utils.context``."""
from airflow.sdk.definitions.context import (  # noqa: F401
    Context,
    get_current_context,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
