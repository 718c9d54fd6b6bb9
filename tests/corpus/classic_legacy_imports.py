"""Airflow 2 import paths that Airflow 3 code still uses."""
from datetime import timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator, get_current_context
from airflow.utils.dates import days_ago
from airflow.utils.helpers import chain
from airflow.utils.trigger_rule import TriggerRule

default_args = {"owner": "legacy", "retries": 1, "retry_delay": timedelta(minutes=5)}


def work():
    ctx = get_current_context()
    print(ctx["ds"])


with DAG(
    "classic_legacy_imports",
    default_args=default_args,
    description="Old-style imports",
    schedule=timedelta(days=1),
    start_date=days_ago(2),
) as dag:
    t1 = BashOperator(task_id="print_date", bash_command="date")
    t2 = PythonOperator(task_id="work", python_callable=work)
    t3 = EmptyOperator(task_id="done", trigger_rule=TriggerRule.ALL_DONE)
    chain(t1, t2, t3)
