"""Legacy ``airflow.utils.module_loading``."""
from airflow.sdk.module_loading import (  # noqa: F401
    import_string,
    is_valid_dotpath,
    iter_namespace,
    qualname,
)
