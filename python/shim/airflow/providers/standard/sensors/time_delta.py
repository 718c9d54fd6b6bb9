"""``TimeDeltaSensor`` (wait until data interval end / logical date + delta), ``WaitSensor``."""
from airflow.sdk.bases.sensor import BaseSensorOperator
from leoflow_rt.unsupported import module_getattr


class TimeDeltaSensor(BaseSensorOperator):
    _lf_kind = "time_delta_sensor"
    _lf_args = BaseSensorOperator._lf_args + ("delta", "deferrable")

    def __init__(self, *, delta, deferrable=False, end_from_trigger=False, **kwargs):
        super().__init__(**kwargs)
        self.delta = delta
        self.deferrable = deferrable
        self.end_from_trigger = end_from_trigger

    def _derive_base_time(self, context):
        """data_interval_end when the DAG is scheduled, else the run's run_after."""
        end = context.get("data_interval_end")
        if end:
            return end
        dag_run = context.get("dag_run")
        base = getattr(dag_run, "run_after", None) or context.get("logical_date")
        if base is None:
            raise ValueError("`dag_run` not found in task context")
        return base

    def poke(self, context):
        from airflow.sdk import timezone

        target_dttm = self._derive_base_time(context) + self.delta
        self.log.info("Checking if the time (%s) has come", target_dttm)
        return timezone.utcnow() > target_dttm


class TimeDeltaSensorAsync(TimeDeltaSensor):
    def __init__(self, *, deferrable=True, **kwargs):
        super().__init__(deferrable=deferrable, **kwargs)


class WaitSensor(BaseSensorOperator):
    _lf_args = BaseSensorOperator._lf_args + ("time_to_wait", "deferrable")

    def __init__(self, *, time_to_wait, deferrable=False, **kwargs):
        super().__init__(**kwargs)
        import datetime

        if not isinstance(time_to_wait, datetime.timedelta):
            time_to_wait = datetime.timedelta(minutes=time_to_wait)
        self.time_to_wait = time_to_wait
        self.deferrable = deferrable

    def execute(self, context):
        import time

        time.sleep(self.time_to_wait.total_seconds())


__getattr__ = module_getattr(__name__)
