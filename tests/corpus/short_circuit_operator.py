"""ShortCircuitOperator (classic)."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator

with DAG("short_circuit_operator", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    check = ShortCircuitOperator(task_id="check", python_callable=lambda: False)
    keep = ShortCircuitOperator(task_id="keep_rules", python_callable=lambda: True,
                                ignore_downstream_trigger_rules=False)
    check >> keep >> BashOperator(task_id="after", bash_command="echo after")
