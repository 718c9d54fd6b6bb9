"""
### Fan-out / fan-in

One task fans out to three independent workers running in parallel; a final task
waits for all of them (fan-in) and combines their results.
"""
import time

import pendulum

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.empty import EmptyOperator

REGIONS = ["north", "south", "west"]

with DAG(
    dag_id="fan_out_fan_in",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example"],
) as dag:
    start = EmptyOperator(task_id="start")

    @task
    def count_sales(region: str) -> int:
        # A tiny, deterministic amount of "work" per region.
        time.sleep(0.5)
        sales = sum(ord(c) for c in region) % 100
        print(f"{region}: {sales} sales")
        return sales

    @task
    def combine(counts: list) -> int:
        total = sum(counts)
        print(f"Combined {len(counts)} regions: {total} sales in total")
        return total

    counts = [count_sales.override(task_id=f"count_{r}")(r) for r in REGIONS]
    start >> counts
    combine(counts)
