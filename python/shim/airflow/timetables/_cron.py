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
