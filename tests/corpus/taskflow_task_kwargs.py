"""@task(...) keyword arguments reach the operator; @task.python is the same decorator."""
from datetime import datetime, timedelta

from airflow.sdk import DAG, task
from airflow.utils.trigger_rule import TriggerRule

with DAG("taskflow_task_kwargs", start_date=datetime(2024, 1, 1), schedule="@daily"):

    @task(task_id="custom_id", retries=3, retry_delay=timedelta(minutes=2),
          multiple_outputs=True, pool="small", pool_slots=2, queue="q1", priority_weight=5,
          execution_timeout=timedelta(minutes=10), retry_exponential_backoff=True,
          max_retry_delay=timedelta(hours=1), owner="data-team", doc_md="Custom docs",
          do_xcom_push=True, weight_rule="absolute")
    def produce():
        return {"x": 1}

    @task.python(trigger_rule=TriggerRule.ALL_DONE, depends_on_past=True)
    def consume(x):
        print(x)

    @task(retry_delay=30)
    def numeric_delay():
        pass

    out = produce()
    consume(out["x"]) >> numeric_delay()
