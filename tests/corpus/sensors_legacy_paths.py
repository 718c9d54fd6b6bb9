"""Airflow 2 sensor import paths."""
import datetime

from airflow import DAG
from airflow.sensors.base import BaseSensorOperator, PokeReturnValue
from airflow.sensors.bash import BashSensor
from airflow.sensors.date_time import DateTimeSensor
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.sensors.filesystem import FileSensor
from airflow.sensors.python import PythonSensor
from airflow.sensors.time_delta import TimeDeltaSensor
from airflow.sensors.time_sensor import TimeSensor
from airflow.sensors.weekday import DayOfWeekSensor


class CountdownSensor(BaseSensorOperator):
    """A user sensor: only poke() is defined, so it stays a "sensor"."""

    def __init__(self, *, start_at=3, **kwargs):
        super().__init__(**kwargs)
        self.start_at = start_at

    def poke(self, context):
        return PokeReturnValue(is_done=True, xcom_value=self.start_at)


with DAG("sensors_legacy_paths", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    s = [
        BashSensor(task_id="bash", bash_command="true"),
        DateTimeSensor(task_id="dt", target_time="2024-01-01T00:00:00+00:00"),
        ExternalTaskSensor(task_id="ext", external_dag_id="other", external_task_id=None),
        FileSensor(task_id="file", filepath="/tmp/x"),
        PythonSensor(task_id="py", python_callable=bool),
        TimeDeltaSensor(task_id="delta", delta=datetime.timedelta(minutes=5)),
        TimeSensor(task_id="time", target_time=datetime.time(23, 59)),
        DayOfWeekSensor(task_id="dow", week_day=["saturday", "sunday"]),
    ]
    s >> CountdownSensor(task_id="countdown", start_at=5, poke_interval=1)
