"""Airflow 2's ``airflow.io`` names."""
from airflow.sdk.io import ObjectStoragePath, attach  # noqa: F401
