"""``BaseSensorOperator`` and ``PokeReturnValue``."""
import datetime as _dt

from airflow.sdk.bases.operator import BaseOperator
from airflow.sdk.exceptions import AirflowException


class PokeReturnValue:
    """Optional return value of ``poke``: done flag plus an XCom value."""

    def __init__(self, is_done, xcom_value=None):
        self.is_done = is_done
        self.xcom_value = xcom_value

    def __bool__(self):
        return bool(self.is_done)


def _seconds(value, what):
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AirflowException("The %s must be a non-negative number" % what) from None


class BaseSensorOperator(BaseOperator):
    """Waits for a condition: ``poke(context)`` is called every ``poke_interval`` seconds."""

    ui_color = "#e6f1f2"
    valid_modes = ["poke", "reschedule"]
    _lf_kind = "sensor"
    _lf_args = ("poke_interval", "timeout", "mode", "soft_fail", "exponential_backoff",
                "max_wait", "silent_fail", "never_fail")

    def __init__(self, *, poke_interval=60, timeout=7 * 24 * 60 * 60, soft_fail=False,
                 mode="poke", exponential_backoff=False, max_wait=None, silent_fail=False,
                 never_fail=False, **kwargs):
        super().__init__(**kwargs)
        self.poke_interval = _seconds(poke_interval, "poke_interval")
        self.soft_fail = soft_fail
        self.timeout = _seconds(timeout, "timeout")
        self.mode = mode
        self.exponential_backoff = exponential_backoff
        self.max_wait = None if max_wait is None else _seconds(max_wait, "max_wait")
        if soft_fail is True and never_fail is True:
            raise ValueError("soft_fail and never_fail are mutually exclusive, you can not "
                             "provide both.")
        self.silent_fail = silent_fail
        self.never_fail = never_fail
        if self.poke_interval < 0:
            raise AirflowException("The poke_interval must be a non-negative number")
        if self.timeout < 0:
            raise AirflowException("The timeout must be a non-negative number")
        if self.mode not in self.valid_modes:
            raise AirflowException(
                "The mode must be one of %s,'%s.%s'; received '%s'."
                % (self.valid_modes, self.dag.dag_id if self.dag is not None else "",
                   self.task_id, self.mode))

    def poke(self, context):
        raise NotImplementedError("%s must implement poke(context)" % type(self).__name__)

    def execute(self, context):
        """Simple poke loop (mode "poke"); returns the PokeReturnValue's xcom_value."""
        import time

        from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException

        started = time.monotonic()
        interval = self.poke_interval
        while True:
            res = self.poke(context)
            if isinstance(res, PokeReturnValue):
                if res.is_done:
                    return res.xcom_value
            elif res:
                return None
            if time.monotonic() - started > self.timeout:
                if self.soft_fail:
                    raise AirflowSkipException("Sensor has timed out; run duration exceeded "
                                               "timeout. Skipping.")
                raise AirflowSensorTimeout("Sensor has timed out; run duration of %.1f seconds "
                                           "exceeded the specified timeout of %s."
                                           % (time.monotonic() - started, self.timeout))
            time.sleep(interval)
            if self.exponential_backoff:
                interval = min(interval * 2, self.max_wait or interval * 2)
