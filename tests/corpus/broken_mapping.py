"""expand() over something that is not mappable."""
from airflow.sdk import DAG, task

with DAG("broken_mapping", schedule=None):

    @task
    def square(x):
        return x * x

    square.expand(x=3)
