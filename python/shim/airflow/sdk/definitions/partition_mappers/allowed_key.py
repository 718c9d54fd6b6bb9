"""``AllowedKeyMapper``: keys checked against a set of allowed keys."""
from airflow.sdk.definitions.partition_mappers.base import PartitionMapper


class AllowedKeyMapper(PartitionMapper):
    def __init__(self, allowed_keys):
        self.allowed_keys = allowed_keys
