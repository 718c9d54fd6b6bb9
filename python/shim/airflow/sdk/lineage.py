"""``airflow.sdk.lineage``: hook-level lineage. Lite collects none: hooks report to a
collector that keeps nothing (Airflow's ``NoOpCollector``), so providers run unchanged."""
import collections

AssetLineageInfo = collections.namedtuple("AssetLineageInfo", ["asset", "count", "context"])
ExtraLineageInfo = collections.namedtuple("ExtraLineageInfo", ["key", "value", "count", "context"])
HookLineage = collections.namedtuple("HookLineage", ["inputs", "outputs", "extra"],
                                     defaults=([], [], []))


class HookLineageCollector:
    def __init__(self, **kwargs):
        pass

    def create_asset(self, *_, **__):
        return None

    def add_input_asset(self, *_, **__):
        pass

    def add_output_asset(self, *_, **__):
        pass

    def add_extra(self, *_, **__):
        pass

    @property
    def collected_assets(self):
        return HookLineage([], [], [])

    @property
    def has_collected(self):
        return False


class NoOpCollector(HookLineageCollector):
    """Keeps nothing."""


class HookLineageReader:
    def __init__(self, **kwargs):
        pass

    def retrieve_hook_lineage(self):
        return HookLineage([], [], [])


_collector = NoOpCollector()


def get_hook_lineage_collector():
    return _collector
