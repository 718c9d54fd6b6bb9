"""``ProductMapper``: several mappers combined into a multi-dimensional key."""
from airflow.sdk.definitions.partition_mappers.base import PartitionMapper


class ProductMapper(PartitionMapper):
    def __init__(self, mapper0, mapper1, *mappers, delimiter="|"):
        self.mappers = [mapper0, mapper1] + list(mappers)
        self.delimiter = delimiter
