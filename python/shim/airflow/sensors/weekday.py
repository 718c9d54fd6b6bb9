"""Legacy path of ``DayOfWeekSensor``."""
from airflow.providers.standard.sensors.weekday import (  # noqa: F401
    DayOfWeekSensor,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
