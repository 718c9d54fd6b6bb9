"""Legacy path of ``PythonSensor``."""
from airflow.providers.standard.sensors.python import (  # noqa: F401
    PythonSensor,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
