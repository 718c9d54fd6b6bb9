"""Timezones of the pendulum fallback: ``Timezone`` (IANA, via zoneinfo) and ``FixedTimezone``."""
import datetime as _dt

_ZERO = _dt.timedelta(0)


class InvalidTimezone(ValueError):
    pass


class PendulumTimezone(_dt.tzinfo):
    """Marker base (pendulum's name)."""


class FixedTimezone(PendulumTimezone):
    """A fixed UTC offset (``pendulum.UTC`` is ``FixedTimezone(0, name="UTC")`` here)."""

    def __init__(self, offset, name=None):
        self._offset = int(offset)
        if name is None:
            sign = "-" if offset < 0 else "+"
            m = abs(int(offset)) // 60
            name = "%s%02d:%02d" % (sign, m // 60, m % 60)
        self._name = name
        self._td = _dt.timedelta(seconds=self._offset)

    @property
    def name(self):
        return self._name

    @property
    def key(self):
        return self._name

    @property
    def offset(self):
        return self._offset

    def utcoffset(self, dt):
        return self._td

    def dst(self, dt):
        return _ZERO

    def tzname(self, dt):
        return self._name

    def fromutc(self, dt):
        return (dt + self._td).replace(tzinfo=self)

    def convert(self, dt, raise_on_unknown_times=False):
        from pendulum import instance

        if dt.tzinfo is None:
            return instance(dt.replace(tzinfo=self))
        return instance(dt.astimezone(self))

    def datetime(self, year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0):
        from pendulum import DateTime

        return DateTime(year, month, day, hour, minute, second, microsecond, tzinfo=self)

    def __eq__(self, other):
        return isinstance(other, FixedTimezone) and other._offset == self._offset

    def __hash__(self):
        return hash(("FixedTimezone", self._offset))

    def __repr__(self):
        if self._name == "UTC":
            return "Timezone('UTC')"
        return "FixedTimezone(%d, name=%r)" % (self._offset, self._name)

    def __reduce__(self):
        return (FixedTimezone, (self._offset, self._name))


UTC = FixedTimezone(0, name="UTC")

_cls = None


def _timezone_class():
    global _cls
    if _cls is None:
        import zoneinfo

        class Timezone(zoneinfo.ZoneInfo, PendulumTimezone):
            """An IANA timezone (a ``zoneinfo.ZoneInfo`` with pendulum's ``name``)."""

            @property
            def name(self):
                return self.key

            def convert(self, dt, raise_on_unknown_times=False):
                from pendulum import instance

                if dt.tzinfo is None:
                    return instance(dt.replace(tzinfo=self))
                return instance(dt.astimezone(self))

            def datetime(self, year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0):
                from pendulum import DateTime

                return DateTime(year, month, day, hour, minute, second, microsecond, tzinfo=self)

            def __repr__(self):
                return "Timezone(%r)" % (self.key,)

        _cls = Timezone
    return _cls


def Timezone(key):  # noqa: N802 - pendulum's name (a class there)
    return timezone(key)


_UTC_NAMES = {"UTC", "utc", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT",
              "Etc/GMT"}


def timezone(name):
    """``pendulum.timezone("Europe/Paris")``; also accepts offsets in seconds or "+02:00"."""
    if isinstance(name, _dt.tzinfo):
        return name
    if isinstance(name, int):
        return FixedTimezone(name)
    if not isinstance(name, str):
        raise TypeError("timezone name must be a string, not %s" % type(name).__name__)
    if name in _UTC_NAMES:
        return UTC
    if name[:1] in "+-" and ":" in name:
        sign = -1 if name[0] == "-" else 1
        h, _, m = name[1:].partition(":")
        return FixedTimezone(sign * (int(h) * 3600 + int(m or 0) * 60))
    cls = _timezone_class()
    try:
        return cls(name)
    except Exception:
        raise InvalidTimezone("Invalid timezone '%s'" % name) from None


def fixed_timezone(offset):
    if offset == 0:
        return UTC
    return FixedTimezone(offset)


def local_timezone():
    import os

    tzenv = os.environ.get("TZ")
    if tzenv:
        try:
            return timezone(tzenv.lstrip(":"))
        except Exception:
            pass
    try:
        link = os.readlink("/etc/localtime")
        idx = link.find("zoneinfo/")
        if idx >= 0:
            return timezone(link[idx + 9:])
    except OSError:
        pass
    off = _dt.datetime.now().astimezone().utcoffset()
    return fixed_timezone(int(off.total_seconds())) if off else UTC
