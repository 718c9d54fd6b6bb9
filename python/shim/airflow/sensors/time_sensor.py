"""Legacy path of ``TimeSensor``."""
from airflow.providers.standard.sensors.time import (  # noqa: F401
    TimeSensor,
    TimeSensorAsync,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
