"""The file kills its own process while being imported."""
import os

from airflow.sdk import DAG

with DAG("broken_os_exit", schedule=None):
    os._exit(3)
