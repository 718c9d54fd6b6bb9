"""XComArgs nested in lists and dicts (fan-in) create edges; keyed XComs too."""
import pendulum

from airflow.sdk import DAG, task

with DAG("taskflow_nested_xcom", start_date=pendulum.datetime(2024, 5, 1), schedule=None):

    @task
    def source(name):
        return {"name": name, "rows": 10}

    @task
    def combine(items, mapping, extra=None):
        return len(items) + len(mapping)

    a = source("a")
    b = source("b")
    c = source("c")
    d = source("d")
    combine([a, (b, {"deep": [c]})], {"k": d["rows"]}, extra={"nothing": 1})
