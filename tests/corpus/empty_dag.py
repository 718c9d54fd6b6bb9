"""A DAG without tasks is valid."""
from airflow.sdk import DAG

with DAG("empty_dag", schedule=None, description="nothing yet"):
    pass
