"""sys.exit() during import."""
import sys

from airflow.sdk import DAG

with DAG("broken_sys_exit", schedule=None):
    sys.exit("bye")
