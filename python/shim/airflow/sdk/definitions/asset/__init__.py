"""Assets (data-aware scheduling): ``Asset``, ``AssetAlias``, ``AssetAll``, ``AssetAny``."""


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

    def __init__(self, name=None, uri=None, *, group="asset", extra=None, watchers=()):
        if name is None and uri is None:
            raise TypeError("Asset() requires either 'name' or 'uri'")
        if name is None:
            name = uri
        elif uri is None:
            uri = name
        for what, v in (("name", name), ("uri", uri)):
            if not isinstance(v, str):
                raise ValueError("Asset %s must be a string" % what)
            if not v:
                raise ValueError("Asset %s cannot be empty" % what)
            if len(v) > 1500:
                raise ValueError("Asset %s cannot exceed 1500 characters" % what)
        if uri.lower().startswith("airflow://"):
            raise ValueError("Asset scheme 'airflow' is reserved")
        self.name = name
        self.uri = uri
        self.group = group
        self.extra = dict(extra or {})
        self.watchers = list(watchers)

    @classmethod
    def ref(cls, *, name=None, uri=None):
        return cls(name=name, uri=uri)

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


class Model(Asset):
    asset_type = "model"

    def __init__(self, name=None, uri=None, *, group="model", extra=None, watchers=()):
        super().__init__(name, uri, group=group, extra=extra, watchers=watchers)


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
    def __init__(self, name, trigger):
        self.name, self.trigger = name, trigger


class Metadata:
    def __init__(self, asset, extra, alias=None):
        self.asset, self.extra, self.alias = asset, extra, alias


def as_condition(assets):
    if isinstance(assets, BaseAsset):
        return assets
    if isinstance(assets, (list, tuple, set, frozenset)):
        items = list(assets)
        if not all(isinstance(x, BaseAsset) for x in items):
            raise ValueError("All elements in 'schedule' should be assets or asset aliases")
        return AssetAll(*items)
    raise TypeError("%r is not an asset condition" % (assets,))


Dataset = Asset
DatasetAlias = AssetAlias
DatasetAll = AssetAll
DatasetAny = AssetAny
