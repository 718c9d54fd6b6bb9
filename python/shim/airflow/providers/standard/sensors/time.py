"""``TimeSensor``: wait until a time of day (in the DAG's timezone)."""
from airflow.sdk.bases.sensor import BaseSensorOperator
from leoflow_rt.unsupported import module_getattr


class TimeSensor(BaseSensorOperator):
    _lf_args = BaseSensorOperator._lf_args + ("target_time", "deferrable")

    def __init__(self, *, target_time, deferrable=False, start_from_trigger=False,
                 end_from_trigger=False, trigger_kwargs=None, **kwargs):
        super().__init__(**kwargs)
        import datetime

        if not isinstance(target_time, (datetime.time, datetime.datetime)):
            raise TypeError("target_time must be datetime.time, got %s" % type(target_time).__name__)
        self.target_time = target_time
        self.deferrable = deferrable

    @property
    def target_datetime(self):
        import datetime

        from airflow.sdk import timezone

        tz = self.dag.timezone if self.dag is not None else timezone.utc
        if isinstance(self.target_time, datetime.datetime):
            aware = timezone.coerce_datetime(self.target_time, tz)
        else:
            aware = timezone.coerce_datetime(datetime.datetime.combine(
                datetime.datetime.now(tz), self.target_time, tz))
        return timezone.convert_to_utc(aware)

    def poke(self, context):
        from airflow.sdk import timezone

        target = self.target_datetime
        self.log.info("Checking if the time (%s) has come", target)
        return timezone.utcnow() > target


class TimeSensorAsync(TimeSensor):
    def __init__(self, *, deferrable=True, **kwargs):
        super().__init__(deferrable=deferrable, **kwargs)


__getattr__ = module_getattr(__name__)
