"""A TaskGroup given dag= outside any `with DAG` block: its tasks join that DAG."""
import datetime

from airflow.sdk import DAG, TaskGroup
from airflow.providers.standard.operators.empty import EmptyOperator

dag = DAG("task_group_dag_argument", start_date=datetime.datetime(2024, 1, 1), schedule=None,
          default_args={"retries": 2})

before = EmptyOperator(task_id="before", dag=dag)
with TaskGroup("grp", dag=dag, default_args={"pool": "grp_pool"}) as grp:
    one = EmptyOperator(task_id="one")
    two = EmptyOperator(task_id="two")
    one >> two
before >> grp
