"""Legacy path of the Python operators."""
from airflow.providers.standard.operators.python import (  # noqa: F401
    BranchExternalPythonOperator,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
    PythonOperator,
    BranchPythonOperator,
    ShortCircuitOperator,
    get_current_context,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
