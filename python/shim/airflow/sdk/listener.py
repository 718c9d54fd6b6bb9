from airflow.listeners.listener import get_listener_manager  # noqa: F401
