"""Two tasks with the same task_id."""
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("broken_duplicate_task_id", schedule=None):
    EmptyOperator(task_id="same")
    EmptyOperator(task_id="same")
