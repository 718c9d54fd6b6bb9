"""Importing a helper package that lives in the DAG folder."""
import datetime

from helpers.common import TEAM, add_report_tasks

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("helper_import", start_date=datetime.datetime(2024, 1, 1), schedule=None,
         default_args={"owner": TEAM}):
    start = EmptyOperator(task_id="start")
    start >> add_report_tasks(["sales", "ops"])
