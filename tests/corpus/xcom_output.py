"""Classic operators' .output, XComArgs in op_kwargs / templated fields, str(XComArg)."""
import datetime

from airflow.sdk import DAG, XComArg, task
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator


def produce():
    return {"path": "/tmp/x"}


def consume(data, path):
    print(data, path)


with DAG("xcom_output", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    producer = PythonOperator(task_id="producer", python_callable=produce)
    consumer = PythonOperator(
        task_id="consumer",
        python_callable=consume,
        op_kwargs={"data": producer.output, "path": producer.output["path"]},
    )
    echo = BashOperator(task_id="echo", bash_command=f"echo {producer.output}")
    templated = BashOperator(task_id="templated_xcom", bash_command=XComArg(consumer))

    @task
    def from_classic(value):
        return value

    from_classic(echo.output)
    templated
