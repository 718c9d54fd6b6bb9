"""Legacy path of ``DateTimeSensor``."""
from airflow.providers.standard.sensors.date_time import (  # noqa: F401
    DateTimeSensor,
    DateTimeSensorAsync,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
