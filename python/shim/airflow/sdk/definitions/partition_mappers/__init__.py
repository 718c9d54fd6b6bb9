"""Partition mappers (Task SDK 1.2): map an upstream asset event's partition key to the
partition of a run of a ``PartitionedAssetTimetable`` DAG. Lite records them (the schedule's
``partition_mappers``); it does not create partitioned runs."""
from airflow.sdk.definitions.partition_mappers.base import PartitionMapper  # noqa: F401
