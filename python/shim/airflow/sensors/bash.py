"""Legacy path of ``BashSensor``."""
from airflow.providers.standard.sensors.bash import (  # noqa: F401
    BashSensor,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
