"""@task.branch chooses which downstream path runs."""
import datetime

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("taskflow_branch", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @task.branch
    def choose(**context):
        return "even" if context["logical_date"].day % 2 == 0 else "odd"

    even = EmptyOperator(task_id="even")
    odd = EmptyOperator(task_id="odd")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    choose() >> [even, odd] >> join
