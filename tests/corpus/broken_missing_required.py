"""A required operator argument is missing."""
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("broken_missing_required", schedule=None):
    BashOperator(task_id="t")
