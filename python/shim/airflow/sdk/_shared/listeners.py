from airflow.listeners import hookimpl  # noqa: F401
