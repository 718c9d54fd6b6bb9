"""
### Templated Bash

`bash_command` is a Jinja template rendered at run time: built-in macros (`{{ ds }}`,
`{{ ts }}`, `{{ dag.dag_id }}`), DAG params (`{{ params.greeting }}`) and XComs pulled
from an upstream task (`{{ ti.xcom_pull(task_ids='produce_path') }}`).
"""
import pendulum

from airflow.sdk import DAG, Param
from airflow.providers.standard.operators.bash import BashOperator

with DAG(
    dag_id="templated_bash",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={"greeting": Param("hello", type="string", description="Word to print")},
    tags=["example", "jinja"],
) as dag:
    produce = BashOperator(
        task_id="produce_path",
        # The last line written to stdout is pushed as the task's XCom.
        bash_command="echo \"/tmp/leoflow/{{ dag.dag_id }}/{{ ds_nodash }}\"",
    )
    show = BashOperator(
        task_id="show_context",
        bash_command=(
            "echo 'run date: {{ ds }} (ts={{ ts }})'; "
            "echo 'greeting param: {{ params.greeting }}'; "
            "echo \"upstream said: {{ ti.xcom_pull(task_ids='produce_path') }}\"; "
            "echo \"env var: $REPORT_NAME\""
        ),
        env={"REPORT_NAME": "report-{{ ds }}"},
        append_env=True,
    )
    produce >> show
