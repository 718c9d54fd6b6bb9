"""``CronTriggerTimetable``, ``DeltaTriggerTimetable`` (Airflow 3's default timetables)."""
import datetime as _dt

from airflow.timetables._cron import normalize, validate_cron
from airflow.timetables.base import Timetable


def _tz_name(tz):
    from airflow.sdk.timezone import tz_name

    if isinstance(tz, str):
        import pendulum

        tz = pendulum.timezone(tz)
    return tz_name(tz)


class CronMixin:
    def __init__(self, cron, timezone):
        self._raw = cron
        self._expression = normalize(cron)
        validate_cron(cron)
        if isinstance(timezone, str):
            import pendulum

            timezone = pendulum.timezone(timezone)
        self._timezone = timezone

    @property
    def summary(self):
        return self._expression

    @property
    def description(self):
        return self._expression

    def _lf_schedule(self, dag_tz):
        return {"kind": "cron", "expr": self._raw, "timezone": _tz_name(self._timezone)}


class CronTriggerTimetable(CronMixin, Timetable):
    """Run at cron times (no data interval unless ``interval`` is given)."""

    def __init__(self, cron, *, timezone, interval=_dt.timedelta(), run_immediately=False):
        super().__init__(cron, timezone)
        self._interval = interval
        self._run_immediately = run_immediately

    def _lf_schedule(self, dag_tz):
        out = super()._lf_schedule(dag_tz)
        if self._interval:
            out["interval_seconds"] = self._interval.total_seconds()
        return out


class MultipleCronTriggerTimetable(Timetable):
    def __init__(self, *crons, timezone, interval=_dt.timedelta(), run_immediately=False):
        if not crons:
            raise ValueError("cron expression required")
        self._timetables = [CronTriggerTimetable(c, timezone=timezone, interval=interval,
                                                 run_immediately=run_immediately) for c in crons]

    @property
    def summary(self):
        return ", ".join(t.summary for t in self._timetables)

    def _lf_schedule(self, dag_tz):
        if len(self._timetables) == 1:
            return self._timetables[0]._lf_schedule(dag_tz)
        from leoflow_rt.unsupported import unsupported

        raise unsupported("MultipleCronTriggerTimetable with several expressions")


class DeltaMixin:
    def __init__(self, delta):
        if not isinstance(delta, _dt.timedelta):
            from leoflow_rt.unsupported import unsupported

            raise unsupported("schedule of type %s (use a timedelta or a cron string)"
                              % type(delta).__name__)
        if delta.total_seconds() <= 0:
            from airflow.sdk.exceptions import AirflowTimetableInvalid

            raise AirflowTimetableInvalid("schedule interval must be positive, not %r" % (delta,))
        self._delta = delta

    @property
    def summary(self):
        return str(_dt.timedelta(seconds=self._delta.total_seconds()))

    def _lf_schedule(self, dag_tz):
        return {"kind": "delta", "seconds": float(self._delta.total_seconds())}


class DeltaTriggerTimetable(DeltaMixin, Timetable):
    def __init__(self, delta, *, interval=_dt.timedelta()):
        super().__init__(delta)
        self._interval = interval


class CronPartitionTimetable(CronTriggerTimetable):
    """Cron runs for partition keys (Task SDK 1.2). Lite runs it as its cron schedule; the
    partition settings are recorded in the schedule (``partition``), runs carry no key."""

    partitioned = True

    def __init__(self, cron, *, timezone, run_offset=None, run_immediately=False,
                 key_format=r"%Y-%m-%dT%H:%M:%S"):
        if not (run_offset is None or (isinstance(run_offset, int) and
                                       not isinstance(run_offset, bool))):
            raise ValueError("Run offset other than integer not supported yet.")
        super().__init__(cron, timezone=timezone, run_immediately=run_immediately)
        self.run_offset = run_offset
        self.key_format = key_format

    def _lf_schedule(self, dag_tz):
        out = super()._lf_schedule(dag_tz)
        out["partitioned"] = True
        out["partition"] = {"run_offset": self.run_offset, "key_format": self.key_format}
        return out
