"""``BranchDayOfWeekOperator``: branch on the day of the week."""
from airflow.providers.standard.operators.python import BaseBranchOperator
from airflow.providers.standard.utils.weekday import WeekDay
from leoflow_rt.unsupported import module_getattr


class BranchDayOfWeekOperator(BaseBranchOperator):
    _lf_kind = "branch_weekday"
    _lf_args = ("follow_task_ids_if_true", "follow_task_ids_if_false", "week_day",
                "week_day_numbers", "use_task_logical_date")

    def __init__(self, *, follow_task_ids_if_true, follow_task_ids_if_false, week_day,
                 use_task_logical_date=False, **kwargs):
        super().__init__(**kwargs)
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date
        self._week_day_num = WeekDay.validate_week_day(week_day)

    @property
    def week_day_numbers(self):
        return sorted(int(d) for d in self._week_day_num)

    def choose_branch(self, context):
        from airflow.sdk import timezone

        if self.use_task_logical_date:
            now = context.get("logical_date") or context["dag_run"].run_after
        else:
            now = timezone.make_naive(timezone.utcnow(), self.dag.timezone)
        if now.isoweekday() in self._week_day_num:
            return self.follow_task_ids_if_true
        return self.follow_task_ids_if_false


__getattr__ = module_getattr(__name__)
