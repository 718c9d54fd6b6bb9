"""``IdentityMapper``: the partition key unchanged."""
from airflow.sdk.definitions.partition_mappers.base import PartitionMapper


class IdentityMapper(PartitionMapper):
    """Partition mapper that does not change the key."""

    def to_downstream(self, key):
        return key
