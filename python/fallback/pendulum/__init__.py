"""A faithful subset of pendulum 3, used only when the interpreter has no real ``pendulum``.

Built on ``datetime`` + ``zoneinfo``: ``datetime()``, ``duration()``, ``timezone()``, ``UTC``,
``now()``, ``today()``, ``yesterday()``, ``tomorrow()``, ``parse()``, ``instance()``,
``from_timestamp()``, ``DateTime``, ``Date``, ``Time``, ``Duration``.
"""
import datetime as _dt

from pendulum.tz.timezone import (  # noqa: F401
    UTC,
    FixedTimezone,
    InvalidTimezone,
    Timezone,
    fixed_timezone,
    local_timezone,
    timezone,
)

__version__ = "3.0.0+leoflow.fallback"
__leoflow_fallback__ = True

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400


def _tz(tz):
    if tz is None:
        return None
    if isinstance(tz, _dt.tzinfo):
        return tz
    if tz == "local":
        return local_timezone()
    return timezone(tz)


def _add_months(d, months):
    y, m = divmod(d.month - 1 + months, 12)
    year = d.year + y
    month = m + 1
    import calendar

    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


def _tzname(tz):
    if tz is None:
        return None
    name = getattr(tz, "name", None) or getattr(tz, "key", None)
    if isinstance(name, str):
        return name
    if tz is _dt.timezone.utc:
        return "UTC"
    return str(tz)


class Duration(_dt.timedelta):
    """A ``timedelta`` remembering years/months (approximated as 365/30 days, like pendulum)."""

    def __new__(cls, days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0,
                weeks=0, years=0, months=0):
        total_days = days + years * 365 + months * 30
        self = _dt.timedelta.__new__(cls, days=total_days, seconds=seconds,
                                     microseconds=microseconds, milliseconds=milliseconds,
                                     minutes=minutes, hours=hours, weeks=weeks)
        self._years = years
        self._months = months
        return self

    @classmethod
    def _from(cls, td):
        return cls(days=td.days, seconds=td.seconds, microseconds=td.microseconds)

    @property
    def years(self):
        return self._years

    @property
    def months(self):
        return self._months

    @property
    def weeks(self):
        return abs(self.days) // 7 * (-1 if self.days < 0 else 1)

    @property
    def hours(self):
        return self.seconds // 3600

    @property
    def minutes(self):
        return self.seconds % 3600 // 60

    @property
    def remaining_seconds(self):
        return self.seconds % 60

    def in_weeks(self):
        return int(self.total_seconds() // (7 * 86400))

    def in_days(self):
        return int(self.total_seconds() // 86400)

    def in_hours(self):
        return int(self.total_seconds() // 3600)

    def in_minutes(self):
        return int(self.total_seconds() // 60)

    def in_seconds(self):
        return int(self.total_seconds())

    def in_words(self, locale=None, separator=" "):
        parts = []
        secs = int(abs(self.total_seconds()))
        for unit, n in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60),
                        ("second", 1)):
            q, secs = divmod(secs, n)
            if q:
                parts.append("%d %s%s" % (q, unit, "" if q == 1 else "s"))
        return separator.join(parts) or "0 seconds"

    def __add__(self, other):
        if isinstance(other, _dt.timedelta):
            return Duration._from(_dt.timedelta.__add__(self, other))
        return _dt.timedelta.__add__(self, other)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, _dt.timedelta):
            return Duration._from(_dt.timedelta.__sub__(self, other))
        return NotImplemented

    def __neg__(self):
        return Duration._from(_dt.timedelta.__neg__(self))

    def __mul__(self, other):
        return Duration._from(_dt.timedelta.__mul__(self, other))

    __rmul__ = __mul__

    def __repr__(self):
        return "Duration(%s)" % self.in_words()


class Interval(Duration):
    """``end - start`` with its bounds (pendulum's Interval/Period)."""

    def __new__(cls, start, end, absolute=False):
        if absolute and start > end:
            start, end = end, start
        td = _dt.datetime.__sub__(end, start) if isinstance(end, _dt.datetime) else end - start
        self = Duration.__new__(cls, days=td.days, seconds=td.seconds,
                                microseconds=td.microseconds)
        self.start, self.end = start, end
        return self

    def range(self, unit, amount=1):
        cur = self.start
        while cur <= self.end:
            yield cur
            cur = cur.add(**{unit: amount})

    def __iter__(self):
        return self.range("days")


Period = Interval


class Date(_dt.date):
    def add(self, years=0, months=0, weeks=0, days=0):
        d = _add_months(self, years * 12 + months) if (years or months) else self
        return d + _dt.timedelta(weeks=weeks, days=days)

    def subtract(self, years=0, months=0, weeks=0, days=0):
        return self.add(-years, -months, -weeks, -days)

    def to_date_string(self):
        return self.isoformat()

    def format(self, fmt, locale=None):
        return _format(self, fmt)

    @property
    def day_of_week(self):
        return self.weekday()


class Time(_dt.time):
    def to_time_string(self):
        return self.strftime("%H:%M:%S")


class DateTime(_dt.datetime):
    """A ``datetime`` with pendulum's helpers; arithmetic keeps the subclass."""

    @classmethod
    def create(cls, year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0, tz=UTC,
               fold=1):
        return cls(year, month, day, hour, minute, second, microsecond, tzinfo=_tz(tz),
                   fold=fold)

    @classmethod
    def instance(cls, dt, tz=UTC):
        tzinfo = dt.tzinfo or _tz(tz)
        return cls(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond,
                   tzinfo=tzinfo, fold=dt.fold)

    @classmethod
    def now(cls, tz=None):
        return now(tz)

    @classmethod
    def utcnow(cls):
        return now(UTC)

    # -- properties ----------------------------------------------------------------------
    @property
    def timezone(self):
        return self.tzinfo

    @property
    def tz(self):
        return self.tzinfo

    @property
    def timezone_name(self):
        return _tzname(self.tzinfo)

    @property
    def offset(self):
        off = self.utcoffset()
        return None if off is None else int(off.total_seconds())

    @property
    def offset_hours(self):
        off = self.offset
        return None if off is None else off / 3600

    @property
    def int_timestamp(self):
        return int(self.timestamp())

    @property
    def float_timestamp(self):
        return self.timestamp()

    @property
    def day_of_week(self):
        return self.weekday()

    @property
    def day_of_year(self):
        return self.timetuple().tm_yday

    @property
    def week_of_year(self):
        return self.isocalendar()[1]

    @property
    def days_in_month(self):
        import calendar

        return calendar.monthrange(self.year, self.month)[1]

    @property
    def quarter(self):
        return (self.month - 1) // 3 + 1

    # -- conversions -----------------------------------------------------------------------
    def in_timezone(self, tz):
        return self.astimezone(_tz(tz))

    in_tz = in_timezone

    def naive(self):
        return self.replace(tzinfo=None)

    def date(self):
        return Date(self.year, self.month, self.day)

    def time(self):
        return Time(self.hour, self.minute, self.second, self.microsecond)

    def to_date_string(self):
        return self.strftime("%Y-%m-%d")

    def to_time_string(self):
        return self.strftime("%H:%M:%S")

    def to_datetime_string(self):
        return self.strftime("%Y-%m-%d %H:%M:%S")

    def to_iso8601_string(self):
        s = self.isoformat()
        return s[:-6] + "Z" if s.endswith("+00:00") else s

    def to_rfc3339_string(self):
        return self.isoformat()

    def to_atom_string(self):
        return self.isoformat()

    def format(self, fmt, locale=None):
        return _format(self, fmt)

    def __str__(self):
        return self.isoformat("T")

    def __repr__(self):
        us = ", %d" % self.microsecond if self.microsecond else ""
        tz = ", tzinfo=%r" % (self.tzinfo,) if self.tzinfo is not None else ""
        return "DateTime(%d, %d, %d, %d, %d, %d%s%s)" % (
            self.year, self.month, self.day, self.hour, self.minute, self.second, us, tz)

    # -- arithmetic ------------------------------------------------------------------------
    def add(self, years=0, months=0, weeks=0, days=0, hours=0, minutes=0, seconds=0,
            microseconds=0):
        dt = self
        if years or months:
            dt = _add_months(dt, years * 12 + months)
        if weeks or days:
            naive = dt.replace(tzinfo=None) + _dt.timedelta(weeks=weeks, days=days)
            dt = naive.replace(tzinfo=self.tzinfo)
        if hours or minutes or seconds or microseconds:
            delta = _dt.timedelta(hours=hours, minutes=minutes, seconds=seconds,
                                  microseconds=microseconds)
            if dt.tzinfo is not None:
                dt = (dt.astimezone(UTC) + delta).astimezone(dt.tzinfo)
            else:
                dt = dt + delta
        return dt

    def subtract(self, years=0, months=0, weeks=0, days=0, hours=0, minutes=0, seconds=0,
                 microseconds=0):
        return self.add(-years, -months, -weeks, -days, -hours, -minutes, -seconds,
                        -microseconds)

    def start_of(self, unit):
        if unit == "second":
            return self.replace(microsecond=0)
        if unit == "minute":
            return self.replace(second=0, microsecond=0)
        if unit == "hour":
            return self.replace(minute=0, second=0, microsecond=0)
        if unit == "day":
            return self.replace(hour=0, minute=0, second=0, microsecond=0)
        if unit == "week":
            return self.start_of("day").subtract(days=self.weekday())
        if unit == "month":
            return self.start_of("day").replace(day=1)
        if unit == "year":
            return self.start_of("day").replace(month=1, day=1)
        raise ValueError('Invalid unit "%s" for start_of()' % unit)

    def end_of(self, unit):
        nxt = {"second": dict(seconds=1), "minute": dict(minutes=1), "hour": dict(hours=1),
               "day": dict(days=1), "week": dict(weeks=1), "month": dict(months=1),
               "year": dict(years=1)}
        if unit not in nxt:
            raise ValueError('Invalid unit "%s" for end_of()' % unit)
        return self.start_of(unit).add(**nxt[unit]).subtract(microseconds=1)

    def diff(self, dt=None, abs=True):  # noqa: A002 - pendulum's name
        return Interval(self, dt if dt is not None else now(self.tzinfo), absolute=abs)

    def is_past(self):
        return self < now(self.tzinfo or UTC)

    def is_future(self):
        return self > now(self.tzinfo or UTC)

    def __sub__(self, other):
        if isinstance(other, _dt.datetime):
            return Interval(other, self) if isinstance(other, DateTime) else \
                _dt.datetime.__sub__(self, other)
        return _dt.datetime.__sub__(self, other)


_FMT_TOKENS = (
    ("YYYY", lambda d: "%04d" % d.year), ("YY", lambda d: "%02d" % (d.year % 100)),
    ("MMMM", lambda d: d.strftime("%B")), ("MMM", lambda d: d.strftime("%b")),
    ("MM", lambda d: "%02d" % d.month), ("M", lambda d: "%d" % d.month),
    ("DDDD", lambda d: "%03d" % d.timetuple().tm_yday),
    ("DD", lambda d: "%02d" % d.day), ("Do", lambda d: _ordinal(d.day)),
    ("D", lambda d: "%d" % d.day),
    ("dddd", lambda d: d.strftime("%A")), ("ddd", lambda d: d.strftime("%a")),
    ("d", lambda d: "%d" % ((d.weekday() + 1) % 7)),
    ("HH", lambda d: "%02d" % d.hour), ("H", lambda d: "%d" % d.hour),
    ("hh", lambda d: "%02d" % ((d.hour % 12) or 12)), ("h", lambda d: "%d" % ((d.hour % 12) or 12)),
    ("mm", lambda d: "%02d" % d.minute), ("m", lambda d: "%d" % d.minute),
    ("ss", lambda d: "%02d" % d.second), ("s", lambda d: "%d" % d.second),
    ("SSSSSS", lambda d: "%06d" % d.microsecond), ("SSS", lambda d: "%03d" % (d.microsecond // 1000)),
    ("A", lambda d: "AM" if d.hour < 12 else "PM"), ("a", lambda d: "am" if d.hour < 12 else "pm"),
    ("ZZ", lambda d: _offset(d, "")), ("Z", lambda d: _offset(d, ":")),
    ("zz", lambda d: _tzname(d.tzinfo) or ""),
    ("X", lambda d: "%d" % int(d.timestamp())),
)


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return "%d%s" % (n, suffix)


def _offset(d, sep):
    off = d.utcoffset() if isinstance(d, _dt.datetime) else None
    if off is None:
        return ""
    secs = int(off.total_seconds())
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    return "%s%02d%s%02d" % (sign, secs // 3600, sep, secs % 3600 // 60)


def _format(d, fmt):
    out = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "[":
            j = fmt.find("]", i)
            if j > 0:
                out.append(fmt[i + 1:j])
                i = j + 1
                continue
        for tok, fn in _FMT_TOKENS:
            if fmt.startswith(tok, i):
                try:
                    out.append(fn(d))
                except AttributeError:
                    out.append(tok)
                i += len(tok)
                break
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


# -- constructors ---------------------------------------------------------------------------
def datetime(year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0, tz=UTC, fold=1):
    """``pendulum.datetime(2024, 1, 1, tz="Europe/Paris")`` (UTC by default)."""
    return DateTime(year, month, day, hour, minute, second, microsecond, tzinfo=_tz(tz),
                    fold=fold)


def local(year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0):
    return datetime(year, month, day, hour, minute, second, microsecond, tz=local_timezone())


def naive(year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0, fold=1):
    return DateTime(year, month, day, hour, minute, second, microsecond, fold=fold)


def date(year, month, day):
    return Date(year, month, day)


def time(hour, minute=0, second=0, microsecond=0):
    return Time(hour, minute, second, microsecond)


def instance(obj, tz=UTC):
    if isinstance(obj, DateTime):
        return obj
    if isinstance(obj, _dt.datetime):
        return DateTime.instance(obj, tz)
    if isinstance(obj, _dt.date):
        return Date(obj.year, obj.month, obj.day)
    if isinstance(obj, _dt.time):
        return Time(obj.hour, obj.minute, obj.second, obj.microsecond)
    if isinstance(obj, _dt.timedelta):
        return Duration(days=obj.days, seconds=obj.seconds, microseconds=obj.microseconds)
    raise ValueError("instance() only accepts datetime objects.")


def now(tz=None):
    tzinfo = _tz(tz) if tz is not None else local_timezone()
    return DateTime.instance(_dt.datetime.now(tzinfo))


def today(tz="local"):
    return now(tz).start_of("day")


def tomorrow(tz="local"):
    return today(tz).add(days=1)


def yesterday(tz="local"):
    return today(tz).subtract(days=1)


def from_timestamp(timestamp, tz=UTC):
    return DateTime.instance(_dt.datetime.fromtimestamp(timestamp, _tz(tz)))


def from_format(string, fmt, tz=UTC, locale=None):
    conv = fmt
    for tok, py in (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("mm", "%M"),
                    ("ss", "%S"), ("YY", "%y")):
        conv = conv.replace(tok, py)
    d = _dt.datetime.strptime(string, conv)
    return DateTime.instance(d.replace(tzinfo=_tz(tz)) if d.tzinfo is None else d)


def duration(days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0,
             years=0, months=0):
    """``pendulum.duration(hours=1)``: a ``timedelta`` subclass."""
    return Duration(days=days, seconds=seconds, microseconds=microseconds,
                    milliseconds=milliseconds, minutes=minutes, hours=hours, weeks=weeks,
                    years=years, months=months)


def interval(start, end, absolute=False):
    return Interval(start, end, absolute=absolute)


period = interval


_ISO_RE = None
_DUR_RE = None


def parse(text, tz=UTC, strict=True, exact=False, **options):
    """Parse an ISO 8601 date/datetime (or duration) string."""
    global _ISO_RE, _DUR_RE
    import re

    if _ISO_RE is None:
        _ISO_RE = re.compile(
            r"^(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})"
            r"(?:[T ](?P<h>\d{2})(?::?(?P<mi>\d{2})(?::?(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
            r"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?)?$")
        _DUR_RE = re.compile(
            r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
            r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")
    text = text.strip()
    m = _ISO_RE.match(text)
    if m is None:
        dm = _DUR_RE.match(text)
        if dm is not None and text != "P":
            g = {k: float(v) if v else 0 for k, v in dm.groupdict().items()}
            return Duration(years=int(g["y"]), months=int(g["mo"]), weeks=g["w"], days=g["d"],
                            hours=g["h"], minutes=g["mi"], seconds=g["s"])
        if not strict:
            try:
                return instance(_dt.datetime.fromisoformat(text), tz)
            except ValueError:
                pass
        raise ValueError("Unable to parse string [%s]" % text)
    g = m.groupdict()
    frac = (g["f"] or "0")[:6].ljust(6, "0")
    tzs = g["tz"]
    if tzs is None:
        tzinfo = _tz(tz)
    elif tzs in ("Z", "z"):
        tzinfo = UTC
    else:
        sign = -1 if tzs[0] == "-" else 1
        digits = tzs[1:].replace(":", "")
        off = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
        tzinfo = fixed_timezone(sign * off)
    return DateTime(int(g["y"]), int(g["mo"]), int(g["d"]), int(g["h"] or 0), int(g["mi"] or 0),
                    int(g["s"] or 0), int(frac), tzinfo=tzinfo)
