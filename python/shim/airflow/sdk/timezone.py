"""``airflow.sdk.timezone`` (pendulum-based helpers; UTC is the default timezone)."""
import datetime as dt

import pendulum

utc = pendulum.UTC
TIMEZONE = utc


def is_localized(value):
    return value.utcoffset() is not None


def is_naive(value):
    return value.utcoffset() is None


def utcnow():
    return pendulum.now(utc)


def utc_epoch():
    return dt.datetime(1970, 1, 1, tzinfo=utc)


def convert_to_utc(value):
    """Make ``value`` aware (naive = default timezone, UTC) and convert it to UTC."""
    if value is None:
        return value
    if not isinstance(value, dt.datetime):
        return value
    if is_naive(value):
        value = value.replace(tzinfo=TIMEZONE)
    return pendulum.instance(value.astimezone(utc))


def make_aware(value, timezone=None):
    if timezone is None:
        timezone = TIMEZONE
    if value is None:
        return None
    if is_localized(value):
        raise ValueError("make_aware expects a naive datetime, got %s" % value)
    if not isinstance(timezone, dt.tzinfo):
        timezone = parse_timezone(timezone)
    return pendulum.instance(value.replace(tzinfo=timezone))


def make_naive(value, timezone=None):
    if timezone is None:
        timezone = TIMEZONE
    if is_naive(value):
        raise ValueError("make_naive() cannot be applied to a naive datetime")
    d = value.astimezone(timezone)
    return dt.datetime(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)


def datetime(*args, **kwargs):
    """A ``datetime.datetime`` that is aware (UTC) unless ``tzinfo`` is given."""
    if "tzinfo" not in kwargs and len(args) < 8:
        kwargs["tzinfo"] = TIMEZONE
    return dt.datetime(*args, **kwargs)


def parse(string, timezone=None, *, strict=False):
    return pendulum.parse(string, tz=timezone or TIMEZONE, strict=strict)


def coerce_datetime(v, tz=None):
    if v is None:
        return None
    if isinstance(v, pendulum.DateTime):
        return v if v.tzinfo else make_aware(v, tz)
    if isinstance(v, dt.datetime):
        return pendulum.instance(v if v.tzinfo else v.replace(tzinfo=tz or TIMEZONE))
    if isinstance(v, dt.date):
        return pendulum.datetime(v.year, v.month, v.day, tz=tz or TIMEZONE)
    raise TypeError("cannot coerce %r to a datetime" % (v,))


def td_format(td_object):
    if not td_object:
        return None
    if isinstance(td_object, dt.timedelta):
        secs = td_object.total_seconds()
    else:
        secs = float(td_object)
    parts = []
    for name, n in (("year", 31536000), ("month", 2592000), ("day", 86400), ("hour", 3600),
                    ("minute", 60)):
        q, secs = divmod(secs, n)
        if q:
            parts.append("%d %s%s" % (q, name, "" if q == 1 else "s"))
    if secs:
        parts.append("%g seconds" % secs)
    return " ".join(parts) or "0 seconds"


def parse_timezone(name):
    return pendulum.timezone(name)


def local_timezone():
    return pendulum.local_timezone()


def from_timestamp(timestamp, tz=utc):
    return pendulum.from_timestamp(timestamp, tz=tz if tz != "local" else local_timezone())


def tz_name(tzinfo):
    """A stable name for a tzinfo: "UTC", "Europe/Paris", "+01:00"."""
    if tzinfo is None:
        return "UTC"
    for attr in ("name", "key", "zone"):
        n = getattr(tzinfo, attr, None)
        if isinstance(n, str) and n:
            return "UTC" if n in ("Etc/UTC", "Z") else n
    if tzinfo is dt.timezone.utc:
        return "UTC"
    off = tzinfo.utcoffset(None)
    if off is None:
        return str(tzinfo)
    secs = int(off.total_seconds())
    if secs == 0:
        return "UTC"
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    return "%s%02d:%02d" % (sign, secs // 3600, secs % 3600 // 60)
