"""``airflow.providers.common.compat.standard.operators`` (the compat provider's map)."""
import inspect
from functools import partial

from airflow.providers.common.compat._compat_utils import create_module_getattr
from airflow.sdk import BaseOperator

_IMPORT_MAP = {
    "BaseBranchOperator": "airflow.providers.common.compat.sdk",
    "BaseOperator": "airflow.providers.common.compat.sdk",
    "BranchMixIn": "airflow.providers.common.compat.sdk",
    "get_current_context": "airflow.providers.common.compat.sdk",
    "PythonOperator": ("airflow.providers.standard.operators.python", "airflow.operators.python"),
    "ShortCircuitOperator": ("airflow.providers.standard.operators.python",
                             "airflow.operators.python"),
    "_SERIALIZERS": ("airflow.providers.standard.operators.python", "airflow.operators.python"),
}


def is_async_callable(func):
    """Whether ``func`` (or the function a ``partial`` wraps) is ``async def``."""
    while isinstance(func, partial):
        func = func.func
    return inspect.iscoroutinefunction(func)


class BaseAsyncOperator(BaseOperator):
    """Async operators (Airflow 3.2's ``aexecute``) are not run by Leoflow Lite."""

    @property
    def is_async(self):
        return True

    async def aexecute(self, context):
        raise NotImplementedError()

    def execute(self, context):
        raise RuntimeError("Async operators are not supported by Leoflow Lite: implement "
                           "execute(context) instead of aexecute")


__getattr__ = create_module_getattr(import_map=_IMPORT_MAP, modname=__name__)
__all__ = sorted([*_IMPORT_MAP, "BaseAsyncOperator", "is_async_callable"])
