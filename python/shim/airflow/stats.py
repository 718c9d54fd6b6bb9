"""``Stats``: metrics calls are accepted and dropped (Leoflow Lite has no StatsD)."""
import contextlib


class _NoStats:
    def incr(self, *args, **kwargs):
        pass

    def decr(self, *args, **kwargs):
        pass

    def gauge(self, *args, **kwargs):
        pass

    def timing(self, *args, **kwargs):
        pass

    @contextlib.contextmanager
    def timer(self, *args, **kwargs):
        yield


Stats = _NoStats()
