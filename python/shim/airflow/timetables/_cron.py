"""Cron expression presets and validation (croniter's rules, without croniter)."""
from airflow.sdk.exceptions import AirflowTimetableInvalid

cron_presets = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
_CRONITER_WORDS = {"@midnight": "0 0 * * *", "@annually": "0 0 1 1 *"}
_MONTHS = {m: i + 1 for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
# (low, high, names) for minute, hour, day-of-month, month, day-of-week, second
_FIELDS = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 7, _DAYS),
           (0, 59, None))


def _value(tok, lo, hi, names, expr):
    t = tok.lower()
    if names and t in names:
        return names[t]
    if not t.isdigit():
        raise AirflowTimetableInvalid("[%s] is not acceptable" % expr)
    v = int(t)
    if v < lo or v > hi:
        raise AirflowTimetableInvalid("[%s] is not acceptable, out of range" % expr)
    return v


def _check_field(field, idx, expr):
    lo, hi, names = _FIELDS[idx]
    for part in field.split(","):
        if not part:
            raise AirflowTimetableInvalid("[%s] is not acceptable" % expr)
        base, slash, step = part.partition("/")
        if slash:
            if not step.isdigit() or int(step) == 0:
                raise AirflowTimetableInvalid("[%s] is not acceptable" % expr)
        low = base.lower()
        if base in ("*", "?") or (idx in (0, 1, 2, 4, 5) and low.startswith("h")):
            continue
        if idx == 2 and low in ("l", "lw"):
            continue
        if idx == 2 and low.endswith("w") and low[:-1].isdigit():
            _value(low[:-1], lo, hi, names, expr)
            continue
        if idx == 4 and "#" in base:
            d, _, n = base.partition("#")
            _value(d, lo, hi, names, expr)
            if not n.isdigit() or not 1 <= int(n) <= 5:
                raise AirflowTimetableInvalid("[%s] is not acceptable" % expr)
            continue
        if idx == 4 and low.startswith("l") and len(low) > 1:
            _value(low[1:], lo, hi, names, expr)
            continue
        if idx == 4 and low.endswith("l") and len(low) > 1:
            _value(low[:-1], lo, hi, names, expr)
            continue
        a, dash, b = base.partition("-")
        _value(a, lo, hi, names, expr)
        if dash:
            _value(b, lo, hi, names, expr)


def normalize(cron):
    return cron_presets.get(cron, cron)


def validate_cron(expr):
    if not isinstance(expr, str):
        raise AirflowTimetableInvalid("cron expression must be a string, not %s"
                                      % type(expr).__name__)
    e = expr.strip()
    e = cron_presets.get(e, _CRONITER_WORDS.get(e, e))
    if e.startswith("@"):
        raise AirflowTimetableInvalid("[%s] is not acceptable" % expr)
    fields = e.split()
    if len(fields) not in (5, 6):
        raise AirflowTimetableInvalid(
            "Exactly 5, 6 or 7 columns has to be specified for iterator expression.")
    for i, f in enumerate(fields):
        _check_field(f, i, expr)


# -- run time: the next fire time (used by LatestOnlyOperator in the task runtime) -----------
def _expand_field(field, idx):
    lo, hi, names = _FIELDS[idx]
    out = set()
    for part in field.split(","):
        base, slash, step = part.partition("/")
        step = int(step) if slash else 1
        low = base.lower()
        if base in ("*", "?"):
            a, b = lo, hi
        elif "-" in base:
            x, _, y = base.partition("-")
            a = names[x.lower()] if names and x.lower() in names else int(x)
            b = names[y.lower()] if names and y.lower() in names else int(y)
        else:
            a = names[low] if names and low in names else int(base)
            b = hi if slash else a
        if a > b:  # a wrapping range such as "fri-mon"
            vals = list(range(a, hi + 1)) + list(range(lo, b + 1))
        else:
            vals = range(a, b + 1)
        for i, v in enumerate(vals):
            if i % step == 0:
                out.add(v)
    if idx == 4 and 7 in out:
        out.discard(7)
        out.add(0)
    return out


def next_after(expr, after, tz):
    """The first fire time of the 5-field cron ``expr`` strictly after the aware datetime
    ``after``, evaluated in ``tz`` (a tzinfo). ``ValueError`` for syntax this helper does not
    evaluate (L, W, #, H, seconds)."""
    import datetime as _dt

    e = normalize(_CRONITER_WORDS.get(expr.strip(), expr.strip()))
    fields = e.split()
    if len(fields) != 5:
        raise ValueError("unsupported cron expression for next-run computation: %r" % expr)
    try:
        minutes, hours, doms, months, dows = (_expand_field(f, i) for i, f in enumerate(fields))
    except (ValueError, KeyError):
        raise ValueError("unsupported cron expression for next-run computation: %r" % expr) \
            from None
    dom_star = fields[2] in ("*", "?")
    dow_star = fields[4] in ("*", "?")
    local = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    cur = local + _dt.timedelta(minutes=1)
    limit = cur + _dt.timedelta(days=366 * 5)
    while cur < limit:
        if cur.month not in months:
            y, m = (cur.year + 1, 1) if cur.month == 12 else (cur.year, cur.month + 1)
            cur = _dt.datetime(y, m, 1)
            continue
        dom_ok = cur.day in doms
        dow_ok = (cur.weekday() + 1) % 7 in dows
        if dom_star and dow_star:
            day_ok = True
        elif dom_star:
            day_ok = dow_ok
        elif dow_star:
            day_ok = dom_ok
        else:
            day_ok = dom_ok or dow_ok
        if not day_ok:
            cur = _dt.datetime(cur.year, cur.month, cur.day) + _dt.timedelta(days=1)
            continue
        if cur.hour not in hours:
            cur = _dt.datetime(cur.year, cur.month, cur.day, cur.hour) + _dt.timedelta(hours=1)
            continue
        if cur.minute not in minutes:
            cur += _dt.timedelta(minutes=1)
            continue
        out = cur.replace(tzinfo=tz)
        if out <= after:
            cur += _dt.timedelta(minutes=1)
            continue
        return out
    raise ValueError("cron expression %r never fires" % expr)
