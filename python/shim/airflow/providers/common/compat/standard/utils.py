"""``airflow.providers.common.compat.standard.utils`` (the compat provider's map)."""
from airflow.providers.common.compat._compat_utils import create_module_getattr

_IMPORT_MAP = {
    "SkipMixin": ("airflow.sdk.bases.skipmixin", "airflow.models.skipmixin",
                  "airflow.providers.standard.utils.skipmixin"),
    "XCOM_SKIPMIXIN_KEY": ("airflow.sdk.bases.skipmixin",
                           "airflow.providers.standard.utils.skipmixin"),
    "XCOM_SKIPMIXIN_SKIPPED": ("airflow.sdk.bases.skipmixin",
                               "airflow.providers.standard.utils.skipmixin"),
    "XCOM_SKIPMIXIN_FOLLOWED": ("airflow.sdk.bases.skipmixin",
                                "airflow.providers.standard.utils.skipmixin"),
    "write_python_script": ("airflow.providers.standard.utils.python_virtualenv",
                            "airflow.utils.python_virtualenv"),
    "prepare_virtualenv": ("airflow.providers.standard.utils.python_virtualenv",
                           "airflow.utils.python_virtualenv"),
}
__getattr__ = create_module_getattr(import_map=_IMPORT_MAP, modname=__name__)
__all__ = sorted(_IMPORT_MAP)
