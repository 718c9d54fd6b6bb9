"""Legacy path of ``ExternalTaskSensor``."""
from airflow.providers.standard.sensors.external_task import (  # noqa: F401
    ExternalTaskSensor,
    ExternalTaskMarker,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
