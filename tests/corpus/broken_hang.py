"""Import never finishes (the corpus runner uses a 2 s timeout for this file)."""
import time

from airflow.sdk import DAG

with DAG("broken_hang", schedule=None):
    while True:
        time.sleep(0.05)
