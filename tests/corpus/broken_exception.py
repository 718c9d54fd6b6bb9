"""An exception raised by module-level code."""
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("broken_exception", schedule=None):
    EmptyOperator(task_id="fine")
    settings = {"a": 1}
    value = settings["missing_key"]
