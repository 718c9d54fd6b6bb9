from __future__ import annotations
import datetime
from airflow.sdk import DAG, task, task_group
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(
    dag_id="compat_linear",
    schedule=None,
    start_date=datetime.datetime(2025, 1, 1),
    catchup=False,
    tags=["compat", "linear"],
    description="Linear bash pipeline",
) as dag1:
    a = BashOperator(task_id="extract", bash_command="echo extracting; echo line2")
    b = BashOperator(task_id="transform", bash_command="echo transforming")
    c = EmptyOperator(task_id="load")
    a >> b >> c

with DAG(
    dag_id="compat_taskflow",
    schedule="@daily",
    start_date=datetime.datetime(2025, 1, 1),
    catchup=False,
    tags=["compat"],
) as dag2:
    @task
    def produce() -> dict:
        return {"x": 1, "y": [1, 2, 3]}

    @task
    def consume(v: dict) -> int:
        print("got", v)
        return v["x"] + 1

    @task
    def fanout() -> list[int]:
        return [1, 2, 3]

    @task
    def square(n: int) -> int:
        return n * n

    @task_group
    def grp(v):
        @task
        def inner1(v):
            return v
        @task
        def inner2(v):
            return v
        return inner2(inner1(v))

    r = consume(produce())
    grp(r)
    square.expand(n=fanout())

with DAG(
    dag_id="compat_failing",
    schedule=None,
    start_date=datetime.datetime(2025, 1, 1),
    catchup=False,
) as dag3:
    BashOperator(task_id="boom", bash_command="echo failing; exit 1", retries=0) >> EmptyOperator(task_id="after")
