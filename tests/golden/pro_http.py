"""An HTTP call Pro can run inline: absolute URL, JSON body, headers."""
from airflow.sdk import DAG
from airflow.providers.http.operators.http import HttpOperator

with DAG("pro_http", schedule=None, tags=["pro"]):
    HttpOperator(
        task_id="notify",
        method="POST",
        endpoint="https://hooks.example.test/notify",
        data={"text": "done"},
        headers={"Content-Type": "application/json"},
        execution_timeout=__import__("datetime").timedelta(seconds=30),
    )
