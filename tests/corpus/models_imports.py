"""airflow.models / airflow.models.* import paths."""
import datetime

from airflow.models import DAG, BaseOperator, Param, Variable
from airflow.models.baseoperator import chain, cross_downstream
from airflow.models.dag import DAG as DAG2
from airflow.models.param import Param as Param2
from airflow.providers.standard.operators.empty import EmptyOperator

assert DAG is DAG2 and Param is Param2

env_name = Variable.get("leoflow_corpus_env", default_var=None) if False else Variable.get(
    "leoflow_corpus_env", default="dev")


class Noop(BaseOperator):
    def execute(self, context):
        return None


with DAG(
    dag_id="models_imports",
    start_date=datetime.datetime(2024, 1, 1),
    schedule=None,
    params={"env": Param(env_name, type="string", enum=["dev", "prod"])},
) as dag:
    a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
    c, d = Noop(task_id="c"), Noop(task_id="d")
    e = EmptyOperator(task_id="e")
    cross_downstream([a, b], [c, d])
    chain([c, d], e)
