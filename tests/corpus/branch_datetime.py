"""BranchDateTimeOperator with time-of-day and datetime targets."""
import datetime

import pendulum

from airflow.sdk import DAG
from airflow.providers.standard.operators.datetime import BranchDateTimeOperator
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("branch_datetime", start_date=pendulum.datetime(2024, 1, 1), schedule=None):
    in_hours = EmptyOperator(task_id="in_hours")
    after_hours = EmptyOperator(task_id="after_hours")
    BranchDateTimeOperator(
        task_id="office_hours",
        follow_task_ids_if_true=["in_hours"],
        follow_task_ids_if_false=["after_hours"],
        target_lower=datetime.time(9, 0),
        target_upper=datetime.time(17, 30),
    ) >> [in_hours, after_hours]
    BranchDateTimeOperator(
        task_id="campaign",
        follow_task_ids_if_true="in_hours",
        follow_task_ids_if_false="after_hours",
        target_upper=pendulum.datetime(2030, 1, 1, tz="UTC"),
        use_task_logical_date=True,
    ) >> [in_hours, after_hours]
