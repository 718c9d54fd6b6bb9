"""A dag id that is too long."""
from airflow.sdk import DAG

with DAG("d" * 251, schedule=None):
    pass
