"""``Timetable`` base class."""


class DataInterval:
    def __init__(self, start, end):
        self.start, self.end = start, end


class TimeRestriction:
    def __init__(self, earliest, latest, catchup):
        self.earliest, self.latest, self.catchup = earliest, latest, catchup


class DagRunInfo:
    def __init__(self, run_after, data_interval):
        self.run_after, self.data_interval = run_after, data_interval


class Timetable:
    """Base of all timetables; Leoflow Lite understands the built-in ones only."""

    description = ""
    periodic = True
    can_be_scheduled = True
    run_ordering = ("data_interval_end", "logical_date")
    active_runs_limit = None
    asset_condition = None

    @property
    def summary(self):
        return type(self).__name__

    def validate(self):
        pass

    def _lf_schedule(self, dag_tz_name):
        from leoflow_rt.unsupported import unsupported

        raise unsupported("custom timetable %s" % type(self).__name__)
