"""@task.bash: the function returns the command; recorded as kind "bash"."""
import datetime

from airflow.sdk import DAG, task

with DAG("taskflow_bash", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @task
    def get_name():
        return "world"

    @task.bash(env={"GREETING": "hello"}, cwd="/tmp")
    def greet(name):
        return f"echo $GREETING {name}"

    @task.bash
    def plain():
        return "echo plain"

    greet(get_name()) >> plain()
