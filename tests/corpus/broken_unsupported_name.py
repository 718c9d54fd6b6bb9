"""A known module, but a class of it that is not supported."""
from airflow.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator, BranchPythonVirtualenvOperator

with DAG("broken_unsupported_name", schedule=None):
    PythonOperator(task_id="ok", python_callable=print)
