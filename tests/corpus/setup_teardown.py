"""Setup/teardown tasks (@setup/@teardown and .as_teardown(setups=...))."""
import datetime

from airflow.sdk import DAG, setup, task, teardown
from airflow.providers.standard.operators.bash import BashOperator

with DAG("setup_teardown", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @setup
    def create_cluster():
        return "cluster-1"

    @teardown
    def delete_cluster(name):
        print("deleting", name)

    @task
    def work(name):
        print(name)

    cluster = create_cluster()
    work(cluster) >> delete_cluster(cluster)

    make_dir = BashOperator(task_id="make_dir", bash_command="mkdir -p /tmp/st")
    use_dir = BashOperator(task_id="use_dir", bash_command="ls /tmp/st")
    rm_dir = BashOperator(task_id="rm_dir", bash_command="rm -rf /tmp/st")
    make_dir >> use_dir >> rm_dir.as_teardown(setups=make_dir)
