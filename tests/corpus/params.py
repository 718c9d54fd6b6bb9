"""Params: values, JSON-schema keywords, descriptions, DAG/task params."""
import datetime

from airflow.sdk import DAG, Param, task

with DAG(
    "params",
    start_date=datetime.datetime(2024, 1, 1),
    schedule="@daily",
    params={
        "plain": 5,
        "name": Param("world", type="string", minLength=1, maxLength=20,
                      description="Who to greet"),
        "count": Param(3, type="integer", minimum=1, maximum=10, description="How many"),
        "ratio": Param(0.5, type="number", exclusiveMaximum=1),
        "flag": Param(False, type="boolean"),
        "color": Param("red", enum=["red", "green", "blue"], title="Color"),
        "tags": Param(["a"], type="array", items={"type": "string"}, uniqueItems=True),
        "conf": Param({"k": 1}, type="object", properties={"k": {"type": "integer"}}),
        "day": Param("2024-01-01", type="string", format="date"),
        "optional": Param(None, type=["null", "string"]),
    },
) as dag:

    @task
    def show(params=None):
        print(params)

    show()
