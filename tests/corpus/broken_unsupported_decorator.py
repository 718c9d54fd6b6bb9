"""An unsupported TaskFlow decorator."""
from airflow.sdk import DAG, task

with DAG("broken_unsupported_decorator", schedule=None):

    @task.kubernetes(image="python:3.12")
    def in_pod():
        pass

    in_pod()
