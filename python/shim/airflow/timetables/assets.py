"""``AssetOrTimeSchedule``: run on a timetable *or* when assets update."""
from airflow.timetables.base import Timetable


class AssetOrTimeSchedule(Timetable):
    def __init__(self, *, timetable, assets):
        from airflow.sdk.definitions.asset import as_condition

        self.timetable = timetable
        self.asset_condition = as_condition(assets)

    @property
    def summary(self):
        return "Asset or %s" % (self.timetable.summary,)

    def _lf_schedule(self, dag_tz):
        cond = self.asset_condition
        return {"kind": "assets", "uris": cond.uris(), "expression": cond.as_expression(),
                "or_timetable": self.timetable._lf_schedule(dag_tz)}


DatasetOrTimeSchedule = AssetOrTimeSchedule
