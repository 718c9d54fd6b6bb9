"""A task reading an XCom key pushed with ti.xcom_push: Pro passes return values only."""
from airflow.sdk import DAG, task

with DAG("xcom_custom_key", schedule=None):
    @task
    def produce(ti=None):
        ti.xcom_push(key="rows", value=3)

    @task
    def consume(rows):
        return rows

    p = produce()
    consume(p["rows"])
