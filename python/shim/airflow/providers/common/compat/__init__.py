"""``apache-airflow-providers-common-compat``: the import paths provider-style DAGs use to run
on Airflow 2 and 3 (``airflow.providers.common.compat.sdk`` & co.), resolved to the shim."""
__version__ = "1.23.0"
