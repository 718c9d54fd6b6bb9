"""``PartitionMapper``: the base of partition mappers."""


class PartitionMapper:
    """Maps keys from asset events to target DAG run partitions."""

    def to_downstream(self, key):
        raise NotImplementedError
