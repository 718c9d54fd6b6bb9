"""An unsupported TaskFlow decorator."""
from airflow.sdk import DAG, task

with DAG("broken_unsupported_decorator", schedule=None):

    @task.docker(image="python:3.12")
    def in_docker():
        pass

    in_docker()
