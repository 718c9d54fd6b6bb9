"""Calling the same @task several times gives ids name, name__1, name__2 (like Airflow)."""
import datetime

from airflow.sdk import DAG, task

with DAG("taskflow_repeated_calls", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @task
    def make(n):
        return n

    @task
    def total(values):
        return sum(values)

    first = make(1)
    second = make(2)
    third = make(3)
    named = make.override(task_id="make_custom")(4)
    total([first, second, third, named])
