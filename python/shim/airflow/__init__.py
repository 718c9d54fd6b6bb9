"""Leoflow Lite's structural shim of Apache Airflow 3 (authoring API only).

``from airflow import DAG`` works; unknown ``airflow.*`` modules give a clear ImportError.
"""
import importlib as _importlib

from leoflow_rt.unsupported import install as _install

__version__ = "3.2.2"
_install()

# Provider packages installed in this interpreter (``apache-airflow-providers-*``) put their
# modules under ``site-packages/airflow/providers/...``: this package's path reaches them too,
# after the shim's own modules.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

_LAZY = {
    "DAG": "airflow.sdk.definitions.dag",
    "Asset": "airflow.sdk.definitions.asset",
    "Dataset": "airflow.sdk.definitions.asset",
    "XComArg": "airflow.sdk.definitions.xcom_arg",
    "AirflowException": "airflow.sdk.exceptions",
}


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        if name.startswith("__") or name in ("sdk", "providers"):
            raise AttributeError("module 'airflow' has no attribute %r" % name)
        from leoflow_rt.unsupported import unsupported

        raise unsupported("airflow.%s" % name, name="airflow")
    value = getattr(_importlib.import_module(mod), name)
    globals()[name] = value
    return value
