"""
### Leoflow project example

A DAG packaged as a Leoflow project: `leoflow.yaml` next to this file sets the owner,
tags, default retries and per-task overrides (retries, environment variables).
"""
import os

import pendulum

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG(
    dag_id="leoflow_project_example",
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Paris"),
    catchup=False,
    description="Daily inventory snapshot (Leoflow project example)",
    default_args={"owner": "inventory-team", "retries": 1},
    tags=["example", "project"],
) as dag:

    @task
    def snapshot() -> dict:
        warehouse = os.environ.get("WAREHOUSE", "main")
        stock = {"apples": 120, "pears": 80, "plums": 0}
        print(f"Snapshot of warehouse {warehouse!r}: {stock}")
        return {"warehouse": warehouse, "stock": stock}

    @task
    def check_stock(snap: dict) -> list:
        empty = sorted(k for k, v in snap["stock"].items() if v == 0)
        print(f"Out of stock in {snap['warehouse']}: {empty or 'nothing'}")
        return empty

    notify = BashOperator(
        task_id="notify",
        bash_command="echo \"[$ALERT_CHANNEL] out of stock: {{ ti.xcom_pull(task_ids='check_stock') }}\"",
        env={"ALERT_CHANNEL": "#inventory"},
        append_env=True,
    )

    check_stock(snapshot()) >> notify
