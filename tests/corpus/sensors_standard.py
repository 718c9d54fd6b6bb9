"""Every standard-provider sensor."""
import datetime

import pendulum

from airflow.sdk import DAG
from airflow.providers.standard.sensors.bash import BashSensor
from airflow.providers.standard.sensors.date_time import DateTimeSensor
from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.providers.standard.sensors.time import TimeSensor
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.providers.standard.sensors.weekday import DayOfWeekSensor

with DAG("sensors_standard", start_date=pendulum.datetime(2024, 1, 1), schedule="@daily"):
    py = PythonSensor(task_id="python_sensor", python_callable=lambda: True, poke_interval=10,
                      timeout=120, mode="reschedule", soft_fail=True)
    delta = TimeDeltaSensor(task_id="wait_an_hour", delta=datetime.timedelta(hours=1))
    at_time = TimeSensor(task_id="at_nine", target_time=datetime.time(9, 0))
    until = DateTimeSensor(task_id="until", target_time="{{ data_interval_end.add(hours=2) }}")
    until_dt = DateTimeSensor(task_id="until_dt",
                              target_time=pendulum.datetime(2024, 6, 1, 12, tz="UTC"))
    dow = DayOfWeekSensor(task_id="on_monday", week_day="Monday")
    file = FileSensor(task_id="wait_file", filepath="/tmp/data/*.csv", fs_conn_id="fs_local",
                      poke_interval=datetime.timedelta(seconds=30), exponential_backoff=True,
                      max_wait=datetime.timedelta(minutes=5))
    ext = ExternalTaskSensor(task_id="wait_upstream_dag", external_dag_id="upstream_dag",
                             external_task_id="final", allowed_states=["success"],
                             failed_states=["failed", "skipped"],
                             execution_delta=datetime.timedelta(hours=1))
    bash = BashSensor(task_id="bash_sensor", bash_command="test -e /tmp/flag")
    [py, delta, at_time, until, until_dt, dow] >> file >> ext >> bash
