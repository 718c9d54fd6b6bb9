"""Operators attached with dag=..., op.dag = ..., dag.add_task(), and implicit via >>."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator

dag = DAG(dag_id="dag_argument", start_date=datetime.datetime(2024, 1, 1), schedule=None,
          description="no context manager")

first = BashOperator(task_id="first", bash_command="echo 1", dag=dag)
second = EmptyOperator(task_id="second")
second.dag = dag
third = EmptyOperator(task_id="third")
dag.add_task(third)
fourth = EmptyOperator(task_id="fourth")
first >> second >> third >> fourth
