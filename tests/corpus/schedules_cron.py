"""Cron strings and presets (Airflow 3 uses CronTriggerTimetable for strings)."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

SCHEDULES = {
    "sched_cron": "30 2 * * 1-5",
    "sched_hourly": "@hourly",
    "sched_daily": "@daily",
    "sched_weekly": "@weekly",
    "sched_monthly": "@monthly",
    "sched_quarterly": "@quarterly",
    "sched_yearly": "@yearly",
    "sched_names": "0 12 * jan-jun mon,fri",
    "sched_none": None,
}

for dag_id, schedule in SCHEDULES.items():
    with DAG(dag_id, schedule=schedule, start_date=datetime.datetime(2024, 1, 1)):
        EmptyOperator(task_id="noop")

with DAG("sched_default", start_date=datetime.datetime(2024, 1, 1)):
    EmptyOperator(task_id="noop")
