"""Hook lineage: Leoflow Lite collects none (``NoOpCollector`` everywhere)."""


class AssetLineageInfo:
    def __init__(self, asset, count, context):
        self.asset, self.count, self.context = asset, count, context


class HookLineage:
    def __init__(self, inputs=None, outputs=None, extra=None):
        self.inputs = list(inputs or [])
        self.outputs = list(outputs or [])
        self.extra = list(extra or [])


class NoOpCollector:
    """Accepts every lineage call and records nothing."""

    def add_input_asset(self, *args, **kwargs):
        pass

    def add_output_asset(self, *args, **kwargs):
        pass

    def add_extra(self, *args, **kwargs):
        pass

    def create_asset(self, *args, **kwargs):
        return None

    @property
    def collected_assets(self):
        return HookLineage()

    @property
    def has_collected(self):
        return False


HookLineageCollector = NoOpCollector


class HookLineageReader:
    pass


_COLLECTOR = NoOpCollector()


def get_hook_lineage_collector():
    return _COLLECTOR
