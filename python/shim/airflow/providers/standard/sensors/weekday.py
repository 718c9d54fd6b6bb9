"""``DayOfWeekSensor``: wait until a given day of the week."""
from airflow.providers.standard.utils.weekday import WeekDay
from airflow.sdk.bases.sensor import BaseSensorOperator
from leoflow_rt.unsupported import module_getattr


class DayOfWeekSensor(BaseSensorOperator):
    _lf_args = BaseSensorOperator._lf_args + ("week_day", "week_day_numbers",
                                              "use_task_logical_date")

    def __init__(self, *, week_day, use_task_logical_date=False, **kwargs):
        super().__init__(**kwargs)
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date
        self._week_day_num = WeekDay.validate_week_day(week_day)

    @property
    def week_day_numbers(self):
        return sorted(int(d) for d in self._week_day_num)

    def poke(self, context):
        from airflow.sdk import timezone

        self.log.info("Poking until weekday is in %s, Today is %s", self.week_day,
                      timezone.utcnow().strftime("%A"))
        if self.use_task_logical_date:
            date = context.get("logical_date") or context["dag_run"].run_after
            return date.isoweekday() in self._week_day_num
        return timezone.utcnow().isoweekday() in self._week_day_num


__getattr__ = module_getattr(__name__)
