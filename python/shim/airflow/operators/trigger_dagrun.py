"""Legacy path of ``TriggerDagRunOperator``."""
from airflow.providers.standard.operators.trigger_dagrun import (  # noqa: F401
    TriggerDagRunOperator,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
