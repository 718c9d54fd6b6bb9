"""Dynamic DAG generation: a factory function and globals()."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator


def create_dag(dag_id, schedule, command):
    dag = DAG(dag_id, schedule=schedule, start_date=datetime.datetime(2024, 1, 1),
              tags=["generated"])
    with dag:
        BashOperator(task_id="run", bash_command=command)
    return dag


for name, sched in [("alpha", "@daily"), ("beta", "@hourly")]:
    globals()[f"generated_{name}"] = create_dag(f"generated_{name}", sched, f"echo {name}")
