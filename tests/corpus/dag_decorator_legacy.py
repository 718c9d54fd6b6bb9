"""Airflow 2 style TaskFlow imports: airflow.decorators."""
from datetime import datetime

from airflow.decorators import dag, task, task_group


@dag(schedule="@hourly", start_date=datetime(2023, 6, 1), catchup=True, max_active_runs=1)
def legacy_taskflow():
    @task
    def start():
        return 1

    @task_group
    def work(value):
        @task
        def step(v):
            return v + 1

        return step(value)

    @task
    def finish(v):
        print(v)

    finish(work(start()))


legacy_taskflow()
