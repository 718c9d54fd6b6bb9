"""``apache-airflow-providers-common-compat``: the import paths provider-style DAGs use to run
on Airflow 2 and 3 (``airflow.providers.common.compat.sdk`` & co.), resolved to the shim."""
__version__ = "1.23.0"

# Installed provider packages (the real common-sql, common-compat...) extend this package.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
