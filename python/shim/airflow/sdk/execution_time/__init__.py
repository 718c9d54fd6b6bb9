"""``airflow.sdk.execution_time``: the parts a task process uses to talk to Airflow."""
