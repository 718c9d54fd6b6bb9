"""BashOperator arguments."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG(dag_id="classic_bash", start_date=datetime.datetime(2024, 1, 1), schedule="@daily") as dag:
    simple = BashOperator(task_id="simple", bash_command="echo {{ ds }}")
    env = BashOperator(
        task_id="with_env",
        bash_command="echo $NAME; exit 42",
        env={"NAME": "leoflow"},
        append_env=True,
        cwd="/tmp",
        skip_on_exit_code=[42, 43],
        output_encoding="latin-1",
    )
    no_skip = BashOperator(task_id="no_skip", bash_command="true", skip_on_exit_code=None)
    script = BashOperator(task_id="script", bash_command="scripts/run.sh ")
    simple >> env >> [no_skip, script]
