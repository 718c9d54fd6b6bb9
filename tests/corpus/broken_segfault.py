"""The interpreter crashes (SIGSEGV) during import."""
import ctypes

from airflow.sdk import DAG

with DAG("broken_segfault", schedule=None):
    ctypes.string_at(0)
