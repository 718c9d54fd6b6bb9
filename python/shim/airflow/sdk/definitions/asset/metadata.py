"""``Metadata``: what a task yields to attach ``extra`` to the event of one of its outlets
(and, with ``alias``, to emit an event through an asset alias)."""


class Metadata:
    """Metadata to attach to an AssetEvent."""

    def __init__(self, asset, extra=None, alias=None):
        self.asset = asset
        self.extra = dict(extra or {})
        self.alias = alias

    def __repr__(self):
        return "Metadata(asset=%r, extra=%r, alias=%r)" % (self.asset, self.extra, self.alias)

    def __eq__(self, other):
        return isinstance(other, Metadata) and (self.asset, self.extra, self.alias) == (
            other.asset, other.extra, other.alias)


__all__ = ["Metadata"]
