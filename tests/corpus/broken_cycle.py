"""A dependency cycle: this DAG is rejected; the other DAG of the file still loads."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("broken_cycle", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    c = EmptyOperator(task_id="c")
    a >> b >> c >> a

with DAG("cycle_sibling_ok", schedule=None):
    EmptyOperator(task_id="fine")
