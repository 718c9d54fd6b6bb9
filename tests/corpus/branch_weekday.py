"""BranchDayOfWeekOperator with names and WeekDay enums."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.weekday import BranchDayOfWeekOperator
from airflow.providers.standard.utils.weekday import WeekDay

with DAG("branch_weekday", start_date=datetime.datetime(2024, 1, 1), schedule="@daily"):
    weekend = EmptyOperator(task_id="weekend")
    weekday = EmptyOperator(task_id="weekday")
    BranchDayOfWeekOperator(
        task_id="which_day",
        follow_task_ids_if_true="weekend",
        follow_task_ids_if_false="weekday",
        week_day={WeekDay.SATURDAY, "Sunday"},
        use_task_logical_date=True,
    ) >> [weekend, weekday]
