"""Legacy ``airflow.lineage``."""
