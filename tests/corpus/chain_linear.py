"""chain_linear(): every task of a group >> every task of the next group."""
import datetime

from airflow.sdk import DAG, chain_linear
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("chain_linear", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    e = {n: EmptyOperator(task_id=n) for n in ["s", "a", "b", "c", "x", "y", "end"]}
    chain_linear(e["s"], [e["a"], e["b"], e["c"]], [e["x"], e["y"]], e["end"])
