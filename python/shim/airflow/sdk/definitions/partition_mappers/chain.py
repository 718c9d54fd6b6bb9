"""``ChainMapper``: several mappers applied in turn."""
from airflow.sdk.definitions.partition_mappers.base import PartitionMapper


class ChainMapper(PartitionMapper):
    def __init__(self, mapper0, mapper1, *mappers):
        self.mappers = [mapper0, mapper1] + list(mappers)
