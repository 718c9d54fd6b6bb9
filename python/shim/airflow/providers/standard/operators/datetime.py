"""``BranchDateTimeOperator``: branch on whether now (or the logical date) is in a window."""
import datetime as _dt

from airflow.providers.standard.operators.python import BaseBranchOperator
from airflow.sdk.exceptions import AirflowException
from leoflow_rt.unsupported import module_getattr


class BranchDateTimeOperator(BaseBranchOperator):
    _lf_kind = "branch_datetime"
    _lf_args = ("follow_task_ids_if_true", "follow_task_ids_if_false", "target_lower",
                "target_upper", "use_task_logical_date")

    def __init__(self, *, follow_task_ids_if_true, follow_task_ids_if_false, target_lower=None,
                 target_upper=None, use_task_logical_date=False, **kwargs):
        super().__init__(**kwargs)
        if target_lower is None and target_upper is None:
            raise AirflowException("Both target_upper and target_lower are None. At least one "
                                   "must be defined to be compared to the current datetime")
        for v in (target_lower, target_upper):
            if v is not None and not isinstance(v, (_dt.datetime, _dt.time)):
                raise TypeError("target_lower/target_upper must be datetime.datetime or "
                                "datetime.time, got %s" % type(v).__name__)
        self.target_lower = target_lower
        self.target_upper = target_upper
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.use_task_logical_date = use_task_logical_date

    def choose_branch(self, context):
        from airflow.sdk import timezone

        if self.use_task_logical_date:
            now = context.get("logical_date") or context["dag_run"].run_after
        else:
            now = timezone.coerce_datetime(timezone.utcnow())
        lower, upper = target_times_as_dates(now, self.target_lower, self.target_upper)
        tz = self.dag.timezone if self.dag is not None else None
        lower = timezone.coerce_datetime(lower, tz)
        upper = timezone.coerce_datetime(upper, tz)
        if upper is not None and upper < now:
            return self.follow_task_ids_if_false
        if lower is not None and lower > now:
            return self.follow_task_ids_if_false
        return self.follow_task_ids_if_true


def target_times_as_dates(base_date, lower, upper):
    """Combine ``datetime.time`` targets with ``base_date`` (upper wraps to the next day)."""
    if isinstance(lower, _dt.datetime) and isinstance(upper, _dt.datetime):
        return lower, upper
    if lower is not None and isinstance(lower, _dt.time):
        lower = _dt.datetime.combine(base_date, lower)
    if upper is not None and isinstance(upper, _dt.time):
        upper = _dt.datetime.combine(base_date, upper)
    if lower is None or upper is None:
        return lower, upper
    if upper < lower:
        upper += _dt.timedelta(days=1)
    return lower, upper


__getattr__ = module_getattr(__name__)
