"""TriggerDagRunOperator."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

with DAG("trigger_dagrun", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    TriggerDagRunOperator(
        task_id="trigger_target",
        trigger_dag_id="target_dag",
        conf={"source": "{{ dag.dag_id }}", "n": 3},
        wait_for_completion=True,
        poke_interval=10,
        reset_dag_run=True,
        allowed_states=["success"],
        failed_states=["failed"],
    ) >> TriggerDagRunOperator(task_id="fire_and_forget", trigger_dag_id="other",
                               trigger_run_id="manual__{{ ts }}", logical_date="{{ ts }}")
