"""``airflow.sdk.execution_time``: the pieces of Airflow's task runner DAG code imports."""
