"""A small JSON-schema validator for ``Param`` (the keywords DAG authors actually use).

Messages follow the ``jsonschema`` package ("3 is less than the minimum of 5").
Unknown keywords are ignored, as JSON schema requires.
"""


class ValidationError(Exception):
    pass


_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, (list, tuple)),
    "object": lambda v: isinstance(v, dict),
}


def _equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _check_format(fmt, v):
    if not isinstance(v, str):
        return True
    try:
        if fmt == "date":
            import datetime
            datetime.date.fromisoformat(v)
        elif fmt == "date-time":
            import datetime
            s = v[:-1] + "+00:00" if v[-1:] in ("Z", "z") else v
            if "T" not in s.upper() or (len(s) > 10 and s[10] not in "Tt"):
                return False
            d = datetime.datetime.fromisoformat(s)
            return d.tzinfo is not None
        elif fmt == "time":
            import datetime
            s = v[:-1] + "+00:00" if v[-1:] in ("Z", "z") else v
            datetime.time.fromisoformat(s)
        elif fmt == "email":
            return "@" in v
        elif fmt == "uri":
            return ":" in v
    except ValueError:
        return False
    return True


def iter_errors(value, schema):
    if schema is True or schema is None:
        return
    if schema is False:
        yield "False schema does not allow %r" % (value,)
        return
    if not isinstance(schema, dict):
        return
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_TYPES.get(x, lambda v: True)(value) for x in types):
            yield "%r is not of type %s" % (value, ", ".join(repr(x) for x in types))
            return
    if "enum" in schema:
        enum = schema["enum"]
        if not any(_equal(value, e) for e in enum):
            yield "%r is not one of %r" % (value, enum)
    if "const" in schema and not _equal(value, schema["const"]):
        yield "%r was expected" % (schema["const"],)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        m = schema.get("minimum")
        if isinstance(m, (int, float)) and value < m:
            yield "%r is less than the minimum of %r" % (value, m)
        m = schema.get("maximum")
        if isinstance(m, (int, float)) and value > m:
            yield "%r is greater than the maximum of %r" % (value, m)
        m = schema.get("exclusiveMinimum")
        if isinstance(m, (int, float)) and not isinstance(m, bool) and value <= m:
            yield "%r is less than or equal to the minimum of %r" % (value, m)
        m = schema.get("exclusiveMaximum")
        if isinstance(m, (int, float)) and not isinstance(m, bool) and value >= m:
            yield "%r is greater than or equal to the maximum of %r" % (value, m)
        m = schema.get("multipleOf")
        if isinstance(m, (int, float)) and m:
            q = value / m
            if q != int(q):
                yield "%r is not a multiple of %r" % (value, m)
    if isinstance(value, str):
        m = schema.get("minLength")
        if isinstance(m, int) and len(value) < m:
            yield "%r is too short" % (value,)
        m = schema.get("maxLength")
        if isinstance(m, int) and len(value) > m:
            yield "%r is too long" % (value,)
        p = schema.get("pattern")
        if isinstance(p, str):
            import re
            if not re.search(p, value):
                yield "%r does not match %r" % (value, p)
        fmt = schema.get("format")
        if isinstance(fmt, str) and not _check_format(fmt, value):
            yield "%r is not a %r" % (value, fmt)
    if isinstance(value, (list, tuple)):
        m = schema.get("minItems")
        if isinstance(m, int) and len(value) < m:
            yield "%r is too short" % (list(value),)
        m = schema.get("maxItems")
        if isinstance(m, int) and len(value) > m:
            yield "%r is too long" % (list(value),)
        if schema.get("uniqueItems"):
            seen = []
            for x in value:
                if any(_equal(x, y) for y in seen):
                    yield "%r has non-unique elements" % (list(value),)
                    break
                seen.append(x)
        items = schema.get("items")
        if isinstance(items, dict):
            for x in value:
                yield from iter_errors(x, items)
        elif isinstance(items, list):
            for x, s in zip(value, items):
                yield from iter_errors(x, s)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for r in schema.get("required") or ():
            if r not in value:
                yield "%r is a required property" % (r,)
        for k, v in value.items():
            if k in props:
                yield from iter_errors(v, props[k])
        addl = schema.get("additionalProperties", True)
        extra = [k for k in value if k not in props]
        if addl is False and extra:
            yield "Additional properties are not allowed (%s %s unexpected)" % (
                ", ".join(repr(k) for k in extra), "was" if len(extra) == 1 else "were")
        elif isinstance(addl, dict):
            for k in extra:
                yield from iter_errors(value[k], addl)
        m = schema.get("minProperties")
        if isinstance(m, int) and len(value) < m:
            yield "%r does not have enough properties" % (value,)
        m = schema.get("maxProperties")
        if isinstance(m, int) and len(value) > m:
            yield "%r has too many properties" % (value,)
    for sub in schema.get("allOf") or ():
        yield from iter_errors(value, sub)
    any_of = schema.get("anyOf")
    if any_of and not any(next(iter_errors(value, s), None) is None for s in any_of):
        yield "%r is not valid under any of the given schemas" % (value,)
    one_of = schema.get("oneOf")
    if one_of:
        n = sum(1 for s in one_of if next(iter_errors(value, s), None) is None)
        if n == 0:
            yield "%r is not valid under any of the given schemas" % (value,)
        elif n > 1:
            yield "%r is valid under each of several given schemas" % (value,)
    if "not" in schema and next(iter_errors(value, schema["not"]), None) is None:
        yield "%r should not be valid under %r" % (value, schema["not"])


def validate(value, schema):
    for err in iter_errors(value, schema):
        raise ValidationError(err)
