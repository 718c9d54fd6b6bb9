"""``airflow.providers.common.compat.notifier``."""
from airflow.sdk.bases.notifier import BaseNotifier

__all__ = ["BaseNotifier"]
