"""``airflow.providers.common.compat.standard.triggers`` (the compat provider's map)."""
from airflow.providers.common.compat._compat_utils import create_module_getattr

_IMPORT_MAP = {
    "TimeDeltaTrigger": ("airflow.providers.standard.triggers.temporal",
                         "airflow.triggers.temporal"),
}
__getattr__ = create_module_getattr(import_map=_IMPORT_MAP, modname=__name__)
__all__ = sorted(_IMPORT_MAP)
