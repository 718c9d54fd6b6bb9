"""Every Airflow 3 trigger rule, as enum members and as strings."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.utils.trigger_rule import TriggerRule

with DAG("trigger_rules", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    root = EmptyOperator(task_id="root")
    for rule in TriggerRule:
        root >> EmptyOperator(task_id=f"enum_{rule.value}", trigger_rule=rule)
    for name in ("all_success", "one_done", "none_skipped"):
        root >> EmptyOperator(task_id=f"str_{name}", trigger_rule=name)
