"""A TaskFlow DAG written for Pro: module-level functions, return values passed by XCom."""
import pendulum
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator


@task(retries=2)
def extract(limit: int = 10) -> list:
    return list(range(limit))


@task
def total(numbers: list, scale: int) -> int:
    return sum(numbers) * scale


with DAG(
    "pro_taskflow",
    schedule="0 5 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    tags=["pro", "golden"],
    default_args={"owner": "data", "retries": 1},
):
    numbers = extract(limit=5)
    result = total(numbers, scale=3)
    report = BashOperator(task_id="report", bash_command="echo done", env={"LEVEL": "info"})
    result >> report
