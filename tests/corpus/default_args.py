"""default_args apply to every task; task kwargs override them."""
from datetime import datetime, timedelta

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

default_args = {
    "owner": "etl",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(minutes=20),
    "pool": "etl_pool",
    "queue": "etl",
    "priority_weight": 7,
    "trigger_rule": "all_done",
    "depends_on_past": True,
    "start_date": datetime(2024, 2, 1),
    "bash_command": "echo from default_args",
    "email": ["etl@example.com"],
}

with DAG("default_args", default_args=default_args, schedule="@daily") as dag:
    inherited = BashOperator(task_id="inherited")
    overridden = BashOperator(task_id="overridden", bash_command="echo mine", retries=0,
                              owner="someone", pool="default_pool", trigger_rule="all_success",
                              execution_timeout=None, task_display_name="Overridden!")

    @task(retries=1)
    def decorated():
        pass

    inherited >> overridden >> decorated()
