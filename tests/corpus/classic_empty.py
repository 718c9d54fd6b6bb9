"""EmptyOperator start/end around a fan-out."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("classic_empty", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end", trigger_rule="all_done")
    for i in range(3):
        start >> EmptyOperator(task_id=f"work_{i}") >> end
