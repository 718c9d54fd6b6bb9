"""PythonOperator with op_args / op_kwargs / templates_dict and a lambda callable."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator


def greet(name, punctuation="!", **context):
    print(f"hello {name}{punctuation}", context.get("ds"))


class Greeter:
    def __call__(self, *args):
        return args


with DAG("classic_python", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    t1 = PythonOperator(task_id="greet", python_callable=greet, op_args=["world"],
                        op_kwargs={"punctuation": "?"}, templates_dict={"day": "{{ ds }}"})
    t2 = PythonOperator(task_id="lambda_task", python_callable=lambda: 42,
                        show_return_value_in_logs=False)
    t3 = PythonOperator(task_id="callable_object", python_callable=Greeter())
    t1 >> t2 >> t3
