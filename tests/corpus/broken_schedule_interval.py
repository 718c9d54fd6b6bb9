"""Airflow 2's schedule_interval argument was removed in Airflow 3."""
import datetime

from airflow.sdk import DAG

with DAG("broken_schedule_interval", schedule_interval="@daily",
         start_date=datetime.datetime(2024, 1, 1)):
    pass
