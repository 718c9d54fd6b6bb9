"""A third-party package that is not installed."""
from airflow.sdk import DAG
import leoflow_corpus_not_installed_pkg  # noqa: F401

with DAG("broken_missing_import", schedule=None):
    pass
