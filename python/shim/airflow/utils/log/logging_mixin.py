"""``LoggingMixin``: a ``log`` attribute (a standard ``logging.Logger``)."""
from leoflow_rt.unsupported import module_getattr


class LoggingMixin:
    _log = None

    @property
    def log(self):
        if self._log is None:
            import logging

            self._log = logging.getLogger("%s.%s" % (type(self).__module__,
                                                     type(self).__qualname__))
        return self._log


__getattr__ = module_getattr(__name__)
