"""A task id with characters Airflow rejects."""
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("broken_invalid_task_id", schedule=None):
    EmptyOperator(task_id="ok_task")
    EmptyOperator(task_id="not ok!")
