"""An unsupported TaskFlow decorator."""
from airflow.sdk import DAG, task

with DAG("broken_unsupported_decorator", schedule=None):

    @task.virtualenv(requirements=["pandas"])
    def in_venv():
        pass

    in_venv()
