"""``airflow.sdk.io``: object storage paths (local ``file://`` paths in Leoflow Lite)."""
from airflow.sdk.io.path import ObjectStoragePath, attach  # noqa: F401

__all__ = ["ObjectStoragePath", "attach"]
