"""An argument the operator does not accept."""
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("broken_bad_kwarg", schedule=None):
    BashOperator(task_id="t", bash_command="true", not_an_argument=1)
