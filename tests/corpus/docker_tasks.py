"""Container tasks: DockerOperator (classic and mapped) and @task.docker; a private
environment is never serialized in clear, harmless defaults of refused parameters pass."""
import datetime

from docker.types import Mount

from airflow.sdk import DAG, task
from airflow.providers.docker.operators.docker import DockerOperator

with DAG("docker_tasks", start_date=datetime.datetime(2024, 1, 1), schedule=None,
         default_args={"retries": 1}):
    extract = DockerOperator(
        task_id="extract",
        image="ghcr.io/acme/etl:{{ params.tag | default('latest') }}",
        command="python -m etl.extract --day {{ ds }}",
        environment={"STAGE": "extract"},
        private_environment={"API_TOKEN": "do-not-serialize-me"},
        env_file="common.env",
        mounts=[Mount(target="/data", source="/srv/data", type="bind")],
        network_mode="bridge",
        mem_limit="1g",
        cpus=2,
        auto_remove="force",
        skip_on_exit_code=[99],
        privileged=False,
        docker_url="unix://var/run/docker.sock",
    )
    fan_out = DockerOperator.partial(task_id="fan_out", image="alpine:3.20").expand(
        command=["echo a", "echo b"])

    @task.docker(image="python:3.12-slim", multiple_outputs=True, network_mode="none")
    def summarize(day, rows=0) -> dict:
        return {"day": day, "rows": rows}

    extract >> fan_out >> summarize("{{ ds }}", rows=3)
