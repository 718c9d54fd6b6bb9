"""``airflow.providers_manager.ProvidersManager``: the provider packages installed in this
interpreter, found as Airflow finds them (the ``apache_airflow_provider`` entry point's
``get_provider_info()``), with their connection types, hooks and SQL dialects."""
import collections
import logging

log = logging.getLogger(__name__)

ProviderInfo = collections.namedtuple("ProviderInfo", ["version", "data"])
HookClassProvider = collections.namedtuple("HookClassProvider", ["hook_class_name", "package_name"])
HookInfo = collections.namedtuple(
    "HookInfo", ["hook_class_name", "connection_id_attribute_name", "package_name", "hook_name",
                 "connection_type", "connection_testable", "dialects"])
DialectInfo = collections.namedtuple("DialectInfo", ["name", "dialect_class_name", "provider_name"])


def _entry_points():
    from importlib import metadata

    try:
        eps = metadata.entry_points(group="apache_airflow_provider")
    except TypeError:  # Python < 3.10
        eps = metadata.entry_points().get("apache_airflow_provider", [])
    for ep in eps:
        dist = getattr(ep, "dist", None)
        yield ep, dist


class ProvidersManager:
    """One per process, like Airflow's."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            cls._instance._loaded = False
        return cls._instance

    def _load(self):
        if self._loaded:
            return
        self._loaded = True
        self._providers = {}
        self._hooks = {}
        self._hook_providers = {}
        self._dialects = {}
        for ep, dist in _entry_points():
            try:
                info = ep.load()()
            except Exception as e:  # noqa: BLE001 - one broken provider must not hide others
                log.warning("Cannot read provider info from %s: %s", ep.value, e)
                continue
            package = info.get("package-name") or (dist.metadata["Name"] if dist else ep.value)
            version = dist.version if dist else (info.get("versions") or ["0"])[0]
            self._providers[package] = ProviderInfo(version, info)
            for ct in info.get("connection-types") or []:
                conn_type = ct.get("connection-type")
                hook = ct.get("hook-class-name")
                if conn_type and hook and conn_type not in self._hook_providers:
                    self._hook_providers[conn_type] = HookClassProvider(hook, package)
            for d in info.get("dialects") or []:
                name = d.get("dialect-type")
                if name:
                    self._dialects[name] = DialectInfo(name, d.get("dialect-class-name"), package)

    @property
    def providers(self):
        self._load()
        return self._providers

    @property
    def hooks(self):
        """Connection type -> HookInfo (the hook class imported on first use)."""
        self._load()
        return _LazyHooks(self._hook_providers)

    @property
    def hook_class_names(self):
        self._load()
        return {k: v.hook_class_name for k, v in self._hook_providers.items()}

    @property
    def dialects(self):
        self._load()
        return self._dialects

    def initialize_providers_list(self):
        self._load()

    def initialize_providers_hooks(self):
        self._load()

    @property
    def connection_form_widgets(self):
        return {}

    @property
    def field_behaviours(self):
        return {}


class _LazyHooks(dict):
    def __init__(self, providers):
        super().__init__()
        self._providers = providers

    def __contains__(self, key):
        return key in self._providers

    def __iter__(self):
        return iter(self._providers)

    def __len__(self):
        return len(self._providers)

    def keys(self):
        return self._providers.keys()

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __getitem__(self, key):
        p = self._providers[key]
        from airflow.sdk.module_loading import import_string

        try:
            cls = import_string(p.hook_class_name)
        except ImportError as e:
            log.warning("Cannot import hook %s for connection type %s: %s",
                        p.hook_class_name, key, e)
            return None
        return HookInfo(
            hook_class_name=p.hook_class_name,
            connection_id_attribute_name=getattr(cls, "conn_name_attr", "conn_id"),
            package_name=p.package_name,
            hook_name=getattr(cls, "hook_name", key),
            connection_type=key,
            connection_testable=hasattr(cls, "test_connection"),
            dialects=[],
        )
