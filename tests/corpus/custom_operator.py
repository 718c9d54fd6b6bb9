"""User BaseOperator subclasses: recorded as kind "other" with their class name."""
import datetime

from airflow.sdk import DAG, BaseOperator
from airflow.sdk.bases.sensor import BaseSensorOperator
from airflow.providers.standard.operators.bash import BashOperator


class HelloOperator(BaseOperator):
    template_fields = ("name",)
    ui_color = "#abcdef"

    def __init__(self, *, name, greeting="Hello", **kwargs):
        super().__init__(**kwargs)
        self.name = name
        self.greeting = greeting

    def execute(self, context):
        message = f"{self.greeting} {self.name}"
        print(message)
        return message


class LoudBash(BashOperator):
    """Only changes defaults: still a bash task."""

    def __init__(self, **kwargs):
        kwargs.setdefault("env", {"LOUD": "1"})
        super().__init__(**kwargs)


class CustomBash(BashOperator):
    """Overrides execute: runs as a custom operator."""

    def execute(self, context):
        return "custom"


class ReadySensor(BaseSensorOperator):
    def poke(self, context):
        return True


with DAG("custom_operator", start_date=datetime.datetime(2024, 1, 1), schedule=None,
         default_args={"greeting": "Hi"}):
    hello = HelloOperator(task_id="hello", name="{{ params.who }}", params={"who": "you"})
    loud = LoudBash(task_id="loud", bash_command="echo LOUD")
    custom = CustomBash(task_id="custom", bash_command="echo not run")
    ready = ReadySensor(task_id="ready", timeout=30)
    hello >> loud >> custom >> ready
