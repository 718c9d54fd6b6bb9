"""A scheduled DAG whose Param default violates its own schema."""
import datetime

from airflow.sdk import DAG, Param
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(
    "broken_param_schedule",
    start_date=datetime.datetime(2024, 1, 1),
    schedule="@daily",
    params={"count": Param(0, type="integer", minimum=1)},
):
    EmptyOperator(task_id="t")
