"""``airflow.providers.common``: the ``compat`` provider's import paths (see ``compat``)."""
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
