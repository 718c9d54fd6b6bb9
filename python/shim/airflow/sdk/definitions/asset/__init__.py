"""Assets (data-aware scheduling): ``Asset``, ``AssetAlias``, ``AssetAll``, ``AssetAny``,
``Asset.ref`` (``AssetNameRef`` / ``AssetUriRef``), ``AssetWatcher``; ``Metadata`` lives in
``.metadata`` and ``@asset`` in ``.decorators`` (as in the Task SDK)."""


class BaseAsset:
    """Base of assets and asset conditions; ``a | b`` is any, ``a & b`` is all."""

    def __or__(self, other):
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAny(self, other)

    def __and__(self, other):
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAll(self, other)

    def uris(self):
        return []

    def as_expression(self):
        raise NotImplementedError


class Asset(BaseAsset):
    """A logical data object identified by ``uri`` (and ``name``)."""

    asset_type = ""

    def __init__(self, name=None, uri=None, *, group=None, extra=None, watchers=None):
        if name is None and uri is None:
            raise TypeError("Asset() requires either 'name' or 'uri'")
        if name is not None and not isinstance(name, str):
            raise ValueError("Asset name must be a string")
        if uri is not None and not isinstance(uri, str) and hasattr(uri, "__fspath__"):
            uri = str(uri)
        if name is None:
            name = uri
        elif uri is None:
            uri = name
        if group is None:
            group = self.asset_type or "asset"
        for what, v in (("name", name), ("uri", uri)):
            if not isinstance(v, str):
                raise ValueError("Asset %s must be a string" % what)
            if not v:
                raise ValueError("Asset %s cannot be empty" % what)
            if len(v) > 1500:
                raise ValueError("Asset %s cannot exceed 1500 characters" % what)
        if name in ("self", "context"):
            raise ValueError("prohibited name for asset: %s" % name)
        if uri.lower().startswith("airflow://"):
            raise ValueError("Asset scheme 'airflow' is reserved")
        self.name = name
        self.uri = uri
        self.group = group
        self.extra = dict(extra or {})
        self.watchers = list(watchers or [])
        for w in self.watchers:
            _note_watcher(self, w)

    @staticmethod
    def ref(*, name="", uri=""):
        """A reference to an asset defined elsewhere, by name or by URI (not both)."""
        if name and uri:
            raise TypeError("Asset reference must be made to either name or URI, not both")
        if name:
            return AssetNameRef(name)
        if uri:
            return AssetUriRef(uri)
        raise TypeError("Asset reference expects keyword argument 'name' or 'uri'")

    def __fspath__(self):
        return self.uri

    @property
    def normalized_uri(self):
        return self.uri

    def __eq__(self, other):
        if not isinstance(other, Asset):
            return NotImplemented
        return (self.name, self.uri, self.group) == (other.name, other.uri, other.group)

    def __hash__(self):
        return hash((self.name, self.uri, self.group))

    def __repr__(self):
        return "Asset(name=%r, uri=%r, group=%r, extra=%r)" % (
            self.name, self.uri, self.group, self.extra)

    def uris(self):
        return [self.uri]

    def as_expression(self):
        return {"asset": {"uri": self.uri, "name": self.name, "group": self.group}}

    def _lf_assets(self):
        return [self]


class Model(Asset):
    asset_type = "model"


class Dataset(Asset):
    asset_type = "dataset"


class AssetRef(BaseAsset):
    """A reference to an asset by name or URI (``Asset.ref(...)``), resolved by the server."""

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self):
        return hash((type(self).__name__,) + tuple(sorted(self.__dict__.items())))


class AssetNameRef(AssetRef):
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "AssetNameRef(name=%r)" % self.name

    def as_expression(self):
        return {"asset_ref": {"name": self.name}}


class AssetUriRef(AssetRef):
    def __init__(self, uri):
        self.uri = uri

    def __repr__(self):
        return "AssetUriRef(uri=%r)" % self.uri

    def uris(self):
        return [self.uri]

    def as_expression(self):
        return {"asset_ref": {"uri": self.uri}}


class AssetAlias(BaseAsset):
    def __init__(self, name, group="asset"):
        if not isinstance(name, str) or not name:
            raise ValueError("AssetAlias name cannot be empty")
        self.name = name
        self.group = group

    def __eq__(self, other):
        return isinstance(other, AssetAlias) and (self.name, self.group) == (other.name, other.group)

    def __hash__(self):
        return hash(("alias", self.name, self.group))

    def __repr__(self):
        return "AssetAlias(name=%r, group=%r)" % (self.name, self.group)

    def as_expression(self):
        return {"alias": {"name": self.name, "group": self.group}}

    def _lf_assets(self):
        return []


class _AssetBooleanCondition(BaseAsset):
    agg_key = ""

    def __init__(self, *objects):
        for o in objects:
            if not isinstance(o, BaseAsset):
                raise TypeError("expect asset expressions in condition")
        self.objects = list(objects)

    def uris(self):
        out = []
        for o in self.objects:
            for u in o.uris():
                if u not in out:
                    out.append(u)
        return out

    def as_expression(self):
        return {self.agg_key: [o.as_expression() for o in self.objects]}

    def _lf_assets(self):
        out = []
        for o in self.objects:
            for a in _assets_of(o):
                if a not in out:
                    out.append(a)
        return out

    def __eq__(self, other):
        if not isinstance(other, type(self)):
            return NotImplemented
        return list(self.objects) == list(other.objects)

    def __hash__(self):
        return hash(tuple(self.objects))

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(repr(o) for o in self.objects))


class AssetAll(_AssetBooleanCondition):
    agg_key = "all"

    def __and__(self, other):
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAll(*self.objects, other)


class AssetAny(_AssetBooleanCondition):
    agg_key = "any"

    def __or__(self, other):
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAny(*self.objects, other)


class AssetWatcher:
    """Watches an external event source (a trigger) to update an asset. Leoflow Lite records
    the watcher but runs no triggerer: parsing warns, naming the trigger."""

    def __init__(self, name, trigger):
        self.name, self.trigger = name, trigger

    def __repr__(self):
        return "AssetWatcher(name=%r, trigger=%r)" % (self.name, self.trigger)


def trigger_classpath(trigger):
    """``module.Class`` of a watcher's trigger (what Airflow's ``serialize()`` names)."""
    ser = getattr(trigger, "serialize", None)
    if callable(ser):
        try:
            path = ser()[0]
            if isinstance(path, str):
                return path
        except Exception:  # noqa: BLE001 - a user trigger's serialize may fail
            pass
    t = type(trigger)
    return "%s.%s" % (t.__module__, t.__qualname__)


def _note_watcher(asset, watcher):
    from leoflow_rt import registry

    trigger = getattr(watcher, "trigger", watcher)
    registry.warn(
        "AssetWatcher %r on asset %r uses trigger %s, which Leoflow Lite cannot run (it has no "
        "triggerer): the asset is updated only by task outlets and POST /api/v2/assets/events"
        % (getattr(watcher, "name", "?"), asset.name, trigger_classpath(trigger)))


def _assets_of(obj):
    f = getattr(obj, "_lf_assets", None)
    return f() if f is not None else []




def as_condition(assets):
    if isinstance(assets, BaseAsset):
        return assets
    if isinstance(assets, (list, tuple, set, frozenset)):
        items = list(assets)
        if not all(isinstance(x, BaseAsset) for x in items):
            raise ValueError("All elements in 'schedule' should be assets or asset aliases")
        return AssetAll(*items)
    raise TypeError("%r is not an asset condition" % (assets,))


DatasetAlias = AssetAlias
DatasetAll = AssetAll
DatasetAny = AssetAny


from airflow.sdk.definitions.asset.metadata import Metadata  # noqa: E402,F401
