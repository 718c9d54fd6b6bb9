"""print() at import time goes to stderr, never into the JSON on stdout."""
import sys

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

print("this line must not corrupt stdout")
sys.stdout.write("neither must this one\n")
print("stderr is fine", file=sys.stderr)

with DAG("print_during_import", schedule=None):
    EmptyOperator(task_id="noop")
