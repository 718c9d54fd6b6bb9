"""Top-level Variable.get with defaults and Connection lookups guarded by try/except."""
import datetime

from airflow.sdk import DAG, Connection, Variable
from airflow.exceptions import AirflowNotFoundException
from airflow.providers.standard.operators.bash import BashOperator

env = Variable.get("leoflow_corpus_unset_variable", default="staging")
cfg = Variable.get("leoflow_corpus_unset_json", default={"n": 2}, deserialize_json=True)
try:
    conn = Connection.get("leoflow_corpus_unset_conn")
except AirflowNotFoundException:
    conn = None

with DAG("variables_at_parse", start_date=datetime.datetime(2024, 1, 1), schedule=None,
         tags=[env]):
    for i in range(cfg["n"]):
        BashOperator(task_id=f"run_{i}", bash_command="echo {{ var.value.get('x', 'y') }}")
