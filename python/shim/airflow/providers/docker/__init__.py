"""``airflow.providers.docker``: Leoflow Lite's container tasks (``operators.docker``,
``decorators.docker``); imported by DAG files. Unknown names raise a clear ImportError."""
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
