"""``NullTimetable``, ``OnceTimetable``, ``ContinuousTimetable``, ``AssetTriggeredTimetable``."""
from airflow.timetables.base import Timetable


class NullTimetable(Timetable):
    can_be_scheduled = False
    description = "Never, external triggers only"
    periodic = False

    @property
    def summary(self):
        return None

    def _lf_schedule(self, tz):
        return None


class OnceTimetable(Timetable):
    description = "Once, as soon as possible"
    periodic = False

    @property
    def summary(self):
        return "@once"

    def _lf_schedule(self, tz):
        return {"kind": "once"}


class ContinuousTimetable(Timetable):
    description = "As frequently as possible, but only one run at a time."
    active_runs_limit = 1

    @property
    def summary(self):
        return "@continuous"

    def _lf_schedule(self, tz):
        return {"kind": "continuous"}


class AssetTriggeredTimetable(Timetable):
    description = "Triggered by assets"
    periodic = False

    def __init__(self, assets):
        from airflow.sdk.definitions.asset import as_condition

        self.asset_condition = as_condition(assets)

    @property
    def summary(self):
        return "Asset"

    def _lf_schedule(self, tz):
        cond = self.asset_condition
        return {"kind": "assets", "uris": cond.uris(), "expression": cond.as_expression()}


DatasetTriggeredTimetable = AssetTriggeredTimetable
