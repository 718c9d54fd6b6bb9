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

    def _get_next_poke_interval(self, started_at, run_duration, poke_count):
        """Airflow's interval: ``poke_interval``, or an exponential backoff."""
        if not self.exponential_backoff:
            return self.poke_interval
        import hashlib

        min_backoff = max(int(self.poke_interval * (2 ** (poke_count - 2))), 1)
        run_hash = int(hashlib.sha1(("%s#%s#%s#%s" % (self.dag_id, self.task_id, started_at,
                                                     poke_count)).encode()).hexdigest(), 16)
        modded_hash = min_backoff + run_hash % min_backoff
        new_interval = min(self.timeout - int(run_duration), modded_hash)
        if self.max_wait:
            new_interval = min(self.max_wait, new_interval)
        self.log.info("new %s interval is %s", self.mode, new_interval)
        return max(new_interval, 0)

    @property
    def reschedule(self):
        return self.mode == "reschedule"

    def execute(self, context):
        """Airflow's poke loop. In ``mode="reschedule"`` each try pokes once: when not done it
        raises ``AirflowRescheduleException`` and the task releases its slot until the next
        poke, which the scheduler starts; the timeout counts from the first poke."""
        import time
        import traceback

        from airflow.sdk.exceptions import (
            AirflowFailException,
            AirflowRescheduleException,
            AirflowSensorTimeout,
            AirflowSkipException,
            AirflowTaskTimeout,
        )

        started = time.monotonic()
        started_at = time.time()
        poke_count = 1
        if self.reschedule:
            ti = context.get("ti") if hasattr(context, "get") else None
            first = getattr(ti, "start_date", None)
            if first is not None and hasattr(first, "timestamp"):
                started_at = first.timestamp()
                started = time.monotonic() - max(0.0, time.time() - started_at)
            poke_count = int((context.get("task_reschedule_count") if hasattr(context, "get")
                              else 0) or 0) + 1
        xcom_value = None
        while True:
            try:
                poke_return = self.poke(context)
            except (AirflowSensorTimeout, AirflowTaskTimeout, AirflowFailException) as e:
                if self.soft_fail:
                    raise AirflowSkipException("Skipping due to soft_fail is set to True.") from e
                if self.never_fail:
                    raise AirflowSkipException("Skipping due to never_fail is set to True.") from e
                raise
            except AirflowSkipException:
                raise
            except Exception as e:  # noqa: BLE001 - Airflow's silent_fail / never_fail
                if self.silent_fail:
                    self.log.error("Sensor poke failed: \n %s", traceback.format_exc())
                    poke_return = False
                elif self.never_fail:
                    raise AirflowSkipException("Skipping due to never_fail is set to True.") from e
                else:
                    raise
            if poke_return:
                if isinstance(poke_return, PokeReturnValue):
                    xcom_value = poke_return.xcom_value
                break
            run_duration = time.monotonic() - started
            if run_duration > self.timeout:
                message = ("Sensor has timed out; run duration of %s seconds exceeds the "
                           "specified timeout of %s." % (run_duration, self.timeout))
                if self.soft_fail:
                    raise AirflowSkipException(message)
                raise AirflowSensorTimeout(message)
            interval = self._get_next_poke_interval(started_at, run_duration, poke_count)
            if self.reschedule:
                raise AirflowRescheduleException(
                    _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=interval))
            time.sleep(interval)
            poke_count += 1
        self.log.info("Success criteria met. Exiting.")
        return xcom_value


def poke_mode_only(cls):
    """Class decorator: the sensor only supports ``mode="poke"`` (Airflow's
    ``poke_mode_only``); setting another mode raises ``ValueError``."""

    def _mode_setter(self, value):
        if value != "poke":
            raise ValueError("Cannot set mode to '%s'. Only 'poke' is acceptable" % (value,))
        self.__dict__["_mode"] = value

    def _mode_getter(self):
        return self.__dict__.get("_mode", "poke")

    if not (isinstance(cls, type) and issubclass(cls, BaseSensorOperator)):
        raise ValueError("poke_mode_only decorator should only be applied to subclasses of "
                         "BaseSensorOperator, got:%s." % (cls,))
    cls.mode = property(_mode_getter, _mode_setter)
    return cls
