"""``airflow.providers.common.compat.assets``: Airflow 3's asset classes under the compat path
(the server-side names, ``AssetDetails`` & co., are not available to DAG files)."""
from airflow.providers.common.compat._compat_utils import create_module_getattr

_IMPORT_MAP = {name: "airflow.sdk" for name in ("Asset", "AssetAlias", "AssetAll", "AssetAny")}
_SERVER = ("AssetAliasDetails", "AssetDetails", "expand_alias_to_assets")
_IMPORT_MAP.update({name: "airflow.api_fastapi.auth.managers.models.resource_details"
                    for name in _SERVER})
__getattr__ = create_module_getattr(import_map=_IMPORT_MAP, modname=__name__)
__all__ = sorted(_IMPORT_MAP)

# Installed provider packages (the real common-sql, common-compat...) extend this package.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
