"""TASK.image: the image a task asks to run in through executor_config (Airflow's
{"image": ...} or the older {"KubernetesExecutor": {"image": ...}}), else null."""
import datetime

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG("executor_config_image", start_date=datetime.datetime(2024, 1, 1), schedule=None,
         default_args={"executor_config": {"image": "python:3.12-slim"}}):

    @task
    def from_default_args():
        return 1

    @task(executor_config={"KubernetesExecutor": {"image": "python:3.11"}})
    def legacy_form():
        return 2

    @task(executor_config={})
    def no_image(x):
        return x

    mapped = BashOperator.partial(task_id="mapped", executor_config={"image": "bash:5"}).expand(
        bash_command=["echo a", "echo b"])
    from_default_args() >> legacy_form() >> mapped >> no_image.expand(x=[1, 2])
