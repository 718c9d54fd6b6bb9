"""pendulum datetimes, durations and timezones (real pendulum or the Leoflow fallback)."""
import pendulum

from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

local_tz = pendulum.timezone("Europe/Paris")
start = pendulum.datetime(2024, 7, 1, 6, 30, tz=local_tz)
assert start.add(days=1).day == 2
assert pendulum.duration(hours=1).total_seconds() == 3600
assert pendulum.parse("2024-01-01T10:00:00+02:00").hour == 10
assert pendulum.UTC.name == "UTC"
_ = pendulum.now("UTC"), pendulum.today(), pendulum.yesterday("UTC")

with DAG(
    "pendulum_usage",
    start_date=start,
    end_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    schedule="30 6 * * *",
    dagrun_timeout=pendulum.duration(hours=2),
    default_args={"retry_delay": pendulum.duration(seconds=45),
                  "execution_timeout": pendulum.duration(minutes=5)},
):
    BashOperator(task_id="run", bash_command="echo {{ ds }}")
