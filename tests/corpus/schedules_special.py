"""@once, @continuous and timedelta schedules."""
import datetime

import pendulum

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("sched_once", schedule="@once", start_date=datetime.datetime(2024, 1, 1)):
    EmptyOperator(task_id="noop")

with DAG("sched_continuous", schedule="@continuous", max_active_runs=1,
         start_date=datetime.datetime(2024, 1, 1)):
    EmptyOperator(task_id="noop")

with DAG("sched_delta", schedule=datetime.timedelta(hours=1, minutes=30),
         start_date=datetime.datetime(2024, 1, 1)):
    EmptyOperator(task_id="noop")

with DAG("sched_pendulum_duration", schedule=pendulum.duration(days=2),
         start_date=datetime.datetime(2024, 1, 1)):
    EmptyOperator(task_id="noop")
