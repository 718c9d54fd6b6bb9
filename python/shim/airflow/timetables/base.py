"""``Timetable`` base class."""


class DataInterval:
    def __init__(self, start, end):
        self.start, self.end = start, end

    @classmethod
    def exact(cls, at):
        return cls(at, at)


class TimeRestriction:
    def __init__(self, earliest, latest, catchup):
        self.earliest, self.latest, self.catchup = earliest, latest, catchup


class DagRunInfo:
    def __init__(self, run_after, data_interval, partition_date=None, partition_key=None):
        self.run_after, self.data_interval = run_after, data_interval

    @classmethod
    def exact(cls, at):
        return cls(run_after=at, data_interval=DataInterval.exact(at))

    @classmethod
    def interval(cls, start, end):
        return cls(run_after=end, data_interval=DataInterval(start, end))

    @property
    def logical_date(self):
        return self.data_interval.start


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
        """A user timetable (a plugin's): the scheduler does not compute its runs (Lite runs
        it when triggered); ``class`` names it."""
        cls = type(self)
        return {"kind": "custom", "class": "%s.%s" % (cls.__module__, cls.__qualname__),
                "summary": self.summary, "description": self.description or None}

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        raise NotImplementedError

    def infer_manual_data_interval(self, *, run_after):
        return DataInterval(run_after, run_after)

    def serialize(self):
        return {}

    @classmethod
    def deserialize(cls, data):
        return cls()
