"""``EmptyOperator``: does nothing (the scheduler marks it success without running it)."""
from airflow.sdk.bases.operator import BaseOperator


class EmptyOperator(BaseOperator):
    ui_color = "#e8f7e4"
    _lf_kind = "empty"

    def execute(self, context):
        pass
