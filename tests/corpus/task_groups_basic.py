"""TaskGroup as a context manager; group >> task connects leaves, task >> group roots."""
import datetime

from airflow.sdk import DAG, TaskGroup
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("task_groups_basic", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    start = EmptyOperator(task_id="start")
    with TaskGroup("extract", tooltip="Extract everything") as extract:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c")
        a >> c
    with TaskGroup(group_id="load") as load:
        EmptyOperator(task_id="x")
        EmptyOperator(task_id="y")
    end = EmptyOperator(task_id="end")
    start >> extract >> load >> end
