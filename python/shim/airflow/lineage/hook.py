"""Legacy ``airflow.lineage.hook``."""
from airflow.sdk.lineage import (  # noqa: F401
    HookLineage,
    HookLineageCollector,
    HookLineageReader,
    NoOpCollector,
    get_hook_lineage_collector,
)
