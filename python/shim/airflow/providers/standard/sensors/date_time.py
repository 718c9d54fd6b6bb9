"""``DateTimeSensor``: wait until a (templated) datetime."""
import datetime

from airflow.sdk.bases.sensor import BaseSensorOperator
from leoflow_rt.unsupported import module_getattr


class DateTimeSensor(BaseSensorOperator):
    template_fields = ("target_time",)
    _lf_args = BaseSensorOperator._lf_args + ("target_time",)

    def __init__(self, *, target_time, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_time, datetime.datetime):
            self.target_time = target_time.isoformat()
        elif isinstance(target_time, str):
            self.target_time = target_time
        else:
            raise TypeError("Expected str or datetime.datetime type for target_time. Got %s"
                            % type(target_time))

    def poke(self, context):
        from airflow.sdk import timezone

        self.log.info("Checking if the time (%s) has come", self.target_time)
        return timezone.utcnow() > timezone.parse(self.target_time)


class DateTimeSensorAsync(DateTimeSensor):
    def __init__(self, *, start_from_trigger=False, end_from_trigger=False, trigger_kwargs=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.deferrable = True


__getattr__ = module_getattr(__name__)
