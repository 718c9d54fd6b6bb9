"""XComArg.zip() / .concat() as mapping sources."""
import datetime

from airflow.sdk import DAG, task

with DAG("mapping_zip_concat", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @task
    def letters():
        return ["a", "b"]

    @task
    def numbers():
        return [1, 2]

    @task
    def pair(value):
        return value

    l, n = letters(), numbers()
    pair.expand(value=l.zip(n))
    pair.override(task_id="each").expand(value=l.concat(n))
