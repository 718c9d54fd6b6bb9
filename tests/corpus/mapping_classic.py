"""Dynamic task mapping with classic operators."""
import datetime

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator


def show(a, b=0):
    print(a, b)


with DAG("mapping_classic", start_date=datetime.datetime(2024, 1, 1), schedule=None,
         default_args={"retries": 2}):

    @task
    def commands():
        return ["echo 1", "echo 2"]

    echo = BashOperator.partial(task_id="echo", env={"A": "1"}, retries=5).expand(
        bash_command=["echo a", "echo b"])
    from_xcom = BashOperator.partial(task_id="echo_xcom").expand(bash_command=commands())
    kw = PythonOperator.partial(task_id="show", python_callable=show).expand_kwargs(
        [{"op_kwargs": {"a": 1}}, {"op_kwargs": {"a": 2, "b": 3}}])
    args = PythonOperator.partial(task_id="show_args", python_callable=show).expand(
        op_args=[[1], [2, 5]])
    echo >> kw
    from_xcom >> args
