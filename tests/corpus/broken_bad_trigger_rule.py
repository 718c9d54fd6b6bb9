"""An invalid trigger rule."""
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("broken_bad_trigger_rule", schedule=None):
    EmptyOperator(task_id="t", trigger_rule="sometimes")
