"""``airflow.providers.common``: the ``compat`` provider's import paths (see ``compat``)."""
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)

# Installed provider packages (the real common-sql, common-compat...) extend this package.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
