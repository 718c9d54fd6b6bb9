"""HttpOperator and the SimpleHttpOperator alias."""
import datetime
import json

from airflow.sdk import DAG
from airflow.providers.http.operators.http import HttpOperator, SimpleHttpOperator


def check(response):
    return response.status_code == 200


with DAG("http_operator", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    get = HttpOperator(task_id="get_status", http_conn_id="api", endpoint="status",
                       method="get", headers={"Accept": "application/json"},
                       response_check=check, log_response=True)
    post = SimpleHttpOperator(task_id="post_data", endpoint="items/{{ ds }}",
                              data=json.dumps({"a": 1}), headers={"Content-Type": "application/json"})
    get >> post
