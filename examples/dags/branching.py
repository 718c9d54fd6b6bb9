"""
### Branching

`@task.branch` returns the id of the task to run next; the other branch is skipped.
The join uses the `none_failed_min_one_success` trigger rule so it runs after whichever
branch was taken.
"""
import pendulum

from airflow.sdk import DAG, Label, task
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(
    dag_id="branching",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example"],
) as dag:

    @task.branch
    def pick_branch(**context) -> str:
        day = context["logical_date"] if context.get("logical_date") else pendulum.now("UTC")
        choice = "weekend_report" if day.weekday() >= 5 else "weekday_report"
        print(f"{day.to_date_string() if hasattr(day, 'to_date_string') else day} -> {choice}")
        return choice

    weekday = BashOperator(task_id="weekday_report", bash_command="echo 'Weekday: full report'")
    weekend = BashOperator(task_id="weekend_report", bash_command="echo 'Weekend: short report'")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")

    branch = pick_branch()
    branch >> Label("Mon-Fri") >> weekday >> join
    branch >> Label("Sat-Sun") >> weekend >> join
