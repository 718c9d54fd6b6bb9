"""``CronDataIntervalTimetable``, ``DeltaDataIntervalTimetable`` (Airflow 2 semantics)."""
from airflow.timetables.base import Timetable
from airflow.timetables.trigger import CronMixin, DeltaMixin


class CronDataIntervalTimetable(CronMixin, Timetable):
    def _lf_schedule(self, dag_tz):
        out = super()._lf_schedule(dag_tz)
        out["data_interval"] = True
        return out


class DeltaDataIntervalTimetable(DeltaMixin, Timetable):
    def _lf_schedule(self, dag_tz):
        out = super()._lf_schedule(dag_tz)
        out["data_interval"] = True
        return out
