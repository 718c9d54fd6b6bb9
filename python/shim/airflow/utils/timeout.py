from airflow.sdk.execution_time.timeout import timeout  # noqa: F401
