"""Several DAGs per file: context managers, a global DAG object, and a non-registered one."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

START = datetime.datetime(2024, 1, 1)

with DAG("multi_first", start_date=START, schedule=None):
    EmptyOperator(task_id="one")

with DAG("multi_second", start_date=START, schedule="@daily"):
    EmptyOperator(task_id="two")

global_dag = DAG("multi_global", start_date=START, schedule=None)
EmptyOperator(task_id="three", dag=global_dag)


def build_hidden():
    # Created, never entered as a context manager nor assigned to a module global:
    # Airflow does not collect it.
    d = DAG("multi_hidden", start_date=START, schedule=None)
    EmptyOperator(task_id="hidden", dag=d)
    return None


build_hidden()

with DAG("multi_no_autoregister", start_date=START, schedule=None, auto_register=False):
    EmptyOperator(task_id="not_collected")
