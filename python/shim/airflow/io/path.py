from airflow.sdk.io.path import ObjectStoragePath  # noqa: F401
