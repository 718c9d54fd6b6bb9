"""Legacy path of ``FileSensor``."""
from airflow.providers.standard.sensors.filesystem import (  # noqa: F401
    FileSensor,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
