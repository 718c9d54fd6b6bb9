"""TaskFlow basics: XCom passing between @task functions, multiple_outputs inference."""
from __future__ import annotations

import pendulum

from airflow.sdk import DAG, task

with DAG(
    dag_id="taskflow_basic",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["taskflow", "example"],
) as dag:

    @task
    def extract() -> dict[str, int]:
        """Extract some numbers."""
        return {"a": 1, "b": 2}

    @task
    def transform(data: dict) -> int:
        return sum(data.values())

    @task()
    def load(total: int) -> None:
        print("total", total)

    load(transform(extract()))
