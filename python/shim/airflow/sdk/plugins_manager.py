from airflow.plugins_manager import AirflowPlugin, AirflowPluginException  # noqa: F401
