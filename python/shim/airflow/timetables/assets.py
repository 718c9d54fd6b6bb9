"""``AssetOrTimeSchedule``: run on a timetable *or* when assets update;
``PartitionedAssetTimetable`` (defined with the asset-triggered timetable)."""
from airflow.timetables.base import Timetable
from airflow.timetables.simple import PartitionedAssetTimetable  # noqa: F401


class AssetOrTimeSchedule(Timetable):
    def __init__(self, *, timetable, assets):
        from airflow.sdk.definitions.asset import as_condition

        self.timetable = timetable
        self.asset_condition = as_condition(assets)

    @property
    def summary(self):
        return "Asset or %s" % (self.timetable.summary,)

    @property
    def description(self):
        return "Triggered by assets or %s" % (self.timetable.description,)

    @property
    def active_runs_limit(self):
        return self.timetable.active_runs_limit

    def _lf_schedule(self, dag_tz):
        from airflow.timetables.simple import assets_schedule

        out = assets_schedule(self.asset_condition)
        out["or_timetable"] = self.timetable._lf_schedule(dag_tz)
        return out


DatasetOrTimeSchedule = AssetOrTimeSchedule
