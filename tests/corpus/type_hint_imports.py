"""Imports DAG authors use only for type hints, and self.log in a custom operator."""
from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from airflow.models import DagRun, TaskInstance
from airflow.models.taskinstance import TaskInstance as TI2
from airflow.models.xcom import XCOM_RETURN_KEY
from airflow.sdk import DAG, BaseOperator, Context, task

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # never imported at run time

assert TaskInstance is TI2 and XCOM_RETURN_KEY == "return_value"


class LoggingOperator(BaseOperator):
    def execute(self, context: Context):
        self.log.info("running %s", self.task_id)


with DAG("type_hint_imports", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @task
    def typed(ti: TaskInstance = None, dag_run: DagRun = None) -> None:
        print(ti, dag_run)

    typed() >> LoggingOperator(task_id="logs")
