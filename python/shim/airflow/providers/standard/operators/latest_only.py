"""``LatestOnlyOperator``: skip downstream tasks unless this is the latest scheduled run."""
from airflow.providers.standard.operators.python import BaseBranchOperator
from leoflow_rt.unsupported import module_getattr


class LatestOnlyOperator(BaseBranchOperator):
    ui_color = "#e9ffdb"
    _lf_kind = "latest_only"


__getattr__ = module_getattr(__name__)
