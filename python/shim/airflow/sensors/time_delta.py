"""Legacy path of ``TimeDeltaSensor``."""
from airflow.providers.standard.sensors.time_delta import (  # noqa: F401
    TimeDeltaSensor,
    TimeDeltaSensorAsync,
    WaitSensor,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
