"""An invalid cron expression."""
from airflow.sdk import DAG

with DAG("broken_bad_cron", schedule="0 25 * * *"):
    pass
