"""``airflow.sdk.configuration.conf`` (the same settings as ``airflow.configuration.conf``)."""
from airflow.configuration import conf  # noqa: F401
