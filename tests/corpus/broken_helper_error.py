"""An error raised inside a helper module: the line is the call in this file."""
from helpers.common import explode

from airflow.sdk import DAG

with DAG("broken_helper_error", schedule=None):
    explode()
