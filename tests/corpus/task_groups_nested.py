"""Nested groups (outer.inner.task), prefix_group_id=False, group default_args."""
import datetime

from airflow.sdk import DAG, TaskGroup
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("task_groups_nested", start_date=datetime.datetime(2024, 1, 1), schedule=None,
         default_args={"retries": 1}):
    with TaskGroup("outer", default_args={"retries": 4, "pool": "outer_pool"}) as outer:
        first = EmptyOperator(task_id="first")
        with TaskGroup("inner") as inner:
            deep = BashOperator(task_id="deep", bash_command="echo deep", retries=0)
            deeper = EmptyOperator(task_id="deeper")
            deep >> deeper
        first >> inner
    with TaskGroup("flat", prefix_group_id=False) as flat:
        EmptyOperator(task_id="not_prefixed")
        with TaskGroup("sub") as sub:
            EmptyOperator(task_id="child")
    outer >> flat
