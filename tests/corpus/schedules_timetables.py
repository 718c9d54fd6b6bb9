"""Timetable objects with explicit timezones."""
import datetime

import pendulum

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable, DeltaTriggerTimetable

with DAG("tt_cron_trigger", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         schedule=CronTriggerTimetable("0 9 * * *", timezone="America/New_York")):
    EmptyOperator(task_id="noop")

with DAG("tt_cron_interval", start_date=datetime.datetime(2024, 1, 1),
         schedule=CronDataIntervalTimetable("@daily", timezone=pendulum.timezone("Asia/Tokyo"))):
    EmptyOperator(task_id="noop")

with DAG("tt_delta_interval", start_date=datetime.datetime(2024, 1, 1),
         schedule=DeltaDataIntervalTimetable(datetime.timedelta(minutes=15))):
    EmptyOperator(task_id="noop")

with DAG("tt_delta_trigger", start_date=datetime.datetime(2024, 1, 1),
         schedule=DeltaTriggerTimetable(datetime.timedelta(days=1))):
    EmptyOperator(task_id="noop")
