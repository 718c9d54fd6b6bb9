"""Legacy path of ``WeekDay``."""
from airflow.providers.standard.utils.weekday import (  # noqa: F401
    WeekDay,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
