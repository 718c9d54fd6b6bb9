"""``NullTimetable``, ``OnceTimetable``, ``ContinuousTimetable``, ``AssetTriggeredTimetable``,
``PartitionedAssetTimetable``."""
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
        return assets_schedule(self.asset_condition)


class PartitionedAssetTimetable(AssetTriggeredTimetable):
    """Asset-driven timetable that listens for partitioned assets (Task SDK 1.2)."""

    partitioned = True

    def __init__(self, *, assets, partition_mapper_config=None, default_partition_mapper=None):
        from airflow.sdk.definitions.partition_mappers.identity import IdentityMapper

        super().__init__(assets)
        self.partition_mapper_config = dict(partition_mapper_config or {})
        self.default_partition_mapper = default_partition_mapper or IdentityMapper()

    @property
    def summary(self):
        return "Partitioned Asset"

    def _lf_schedule(self, tz):
        out = super()._lf_schedule(tz)
        out["partitioned"] = True
        out["partition_mappers"] = {
            "default": _mapper_json(self.default_partition_mapper),
            "assets": [{"asset": k.as_expression(), "mapper": _mapper_json(v)}
                       for k, v in self.partition_mapper_config.items()],
        }
        return out


def _mapper_json(m):
    from airflow.sdk.definitions.partition_mappers.base import PartitionMapper
    from leoflow_rt.serialize import encode

    def arg(v):
        if isinstance(v, PartitionMapper):
            return _mapper_json(v)
        if isinstance(v, (list, tuple)):
            return [arg(x) for x in v]
        return encode(v)

    return {"class": type(m).__name__,
            "args": {k: arg(v) for k, v in vars(m).items() if not k.startswith("_")}}


def asset_json(a):
    """One asset of a schedule or outlet list: its definition (PROTOCOL.md ASSET_LIKE)."""
    from airflow.sdk.definitions.asset import Asset, AssetAlias, AssetNameRef, AssetUriRef
    from airflow.sdk.definitions.asset import trigger_classpath
    from leoflow_rt.serialize import encode

    if isinstance(a, Asset):
        return {"asset": {"uri": a.uri, "name": a.name, "group": a.group,
                          "extra": encode(a.extra),
                          "watchers": [{"name": str(getattr(w, "name", "")),
                                        "trigger": trigger_classpath(getattr(w, "trigger", w))}
                                       for w in a.watchers]}}
    if isinstance(a, AssetAlias):
        return {"alias": {"name": a.name, "group": a.group}}
    if isinstance(a, AssetNameRef):
        return {"asset_ref": {"name": a.name}}
    if isinstance(a, AssetUriRef):
        return {"asset_ref": {"uri": a.uri}}
    return None


def assets_schedule(cond):
    """The ``assets`` schedule of a condition: URIs (old readers), Airflow's expression, and
    the definitions of its assets."""
    from airflow.sdk.definitions.asset import _assets_of

    return {"kind": "assets", "uris": cond.uris(), "expression": cond.as_expression(),
            "assets": [asset_json(a)["asset"] for a in _assets_of(cond)]}


DatasetTriggeredTimetable = AssetTriggeredTimetable
