"""LatestOnlyOperator skips downstream tasks on non-latest (backfill/catchup) runs."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.latest_only import LatestOnlyOperator

with DAG("latest_only", start_date=datetime.datetime(2024, 1, 1), schedule="@daily",
         catchup=True):
    latest = LatestOnlyOperator(task_id="latest_only")
    latest >> EmptyOperator(task_id="notify")
