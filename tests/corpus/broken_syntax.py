"""A syntax error."""
from airflow.sdk import DAG

with DAG("broken_syntax", schedule=None) as dag:
    x = = 1
