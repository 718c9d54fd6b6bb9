"""``SkipMixin`` (Airflow 3: skipping raises ``DownstreamTasksSkipped``)."""
from airflow.providers.standard.operators.python import (  # noqa: F401
    XCOM_SKIPMIXIN_FOLLOWED,
    XCOM_SKIPMIXIN_KEY,
    XCOM_SKIPMIXIN_SKIPPED,
    SkipMixin,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
