"""Providers: the shim's own (standard, http, docker...) first, then the provider packages
installed in this interpreter (``apache-airflow-providers-*``)."""
from leoflow_rt.unsupported import module_getattr

__path__ = __import__("pkgutil").extend_path(__path__, __name__)

__getattr__ = module_getattr(__name__)
