"""Legacy ``airflow.utils.dates`` (``days_ago`` was removed in Airflow 3; kept for old DAGs)."""
import datetime as _dt

from airflow.timetables._cron import cron_presets  # noqa: F401
from leoflow_rt.unsupported import module_getattr


def days_ago(n, hour=0, minute=0, second=0, microsecond=0):
    """Midnight UTC ``n`` days ago (at the given time of day)."""
    from airflow.sdk import timezone

    today = timezone.utcnow().replace(hour=hour, minute=minute, second=second,
                                      microsecond=microsecond)
    return today - _dt.timedelta(days=n)


__getattr__ = module_getattr(__name__)
