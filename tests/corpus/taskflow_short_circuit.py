"""@task.short_circuit skips everything downstream on a falsy result."""
import datetime

from airflow.sdk import DAG, task

with DAG("taskflow_short_circuit", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def is_weekday(**context):
        return context["logical_date"].weekday() < 5

    @task
    def report():
        print("weekday report")

    is_weekday() >> report()
