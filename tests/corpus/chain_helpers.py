"""chain() with single tasks, equal-length lists and XComArgs."""
import datetime

from airflow.sdk import DAG, chain, task
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("chain_helpers", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    t = {name: EmptyOperator(task_id=name) for name in ["a", "b", "c", "d", "e", "f"]}

    @task
    def final():
        pass

    chain(t["a"], [t["b"], t["c"]], [t["d"], t["e"]], t["f"], final())
