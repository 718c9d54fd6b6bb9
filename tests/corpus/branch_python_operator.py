"""BranchPythonOperator (classic) with a join."""
import datetime
import random

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator


def pick():
    return random.choice(["path_a", "path_b"])


with DAG("branch_python_operator", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    branch = BranchPythonOperator(task_id="branch", python_callable=pick)
    paths = [EmptyOperator(task_id="path_a"), EmptyOperator(task_id="path_b")]
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    branch >> paths
    paths >> join
