"""DockerOperator parameters that a hardened local engine refuses fail at parse time."""
import datetime

from airflow.sdk import DAG
from airflow.providers.docker.operators.docker import DockerOperator

with DAG("broken_docker_privileged", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    DockerOperator(task_id="root_please", image="alpine:3.20", command="id", privileged=True)
