"""@task.sensor: the function is the poke; returns bool or PokeReturnValue."""
import datetime

from airflow.sdk import DAG, PokeReturnValue, task

with DAG("taskflow_sensor", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @task.sensor(poke_interval=5, timeout=datetime.timedelta(minutes=1), mode="reschedule")
    def wait_for_flag() -> PokeReturnValue:
        return PokeReturnValue(is_done=True, xcom_value="flag")

    @task.sensor
    def default_sensor():
        return True

    @task
    def after(value):
        print(value)

    after(wait_for_flag()) >> default_sensor()
