"""dotenv text -> environment variables, as Airflow's DockerOperator reads ``env_file``.

Owns the format of python-dotenv's (1.2) ``dotenv_values(stream=...)``, which Airflow calls on
the rendered ``env_file``: ``KEY=value`` lines, optional ``export``, ``# comments`` (inline after
whitespace for unquoted values), single-quoted values (``\\'`` and ``\\\\`` escapes), double-quoted
values (``\\n``, ``\\t``, ``\\"``... escapes), both possibly spanning lines, a key without ``=``
(value None), an unparsable statement skipped to the end of the line where it failed, and ``${NAME}`` / ``${NAME:-default}`` expanded from
the values above it and then the environment. Called by ``container.py``.
"""
import re

_SPACES = re.compile(r"\s*")
_BLANKS = re.compile(r"[^\S\r\n]*")
_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_QUOTED_KEY = re.compile(r"'([^']+)'")
_KEY = re.compile(r"([^=#\s]+)")
_EQUALS = re.compile(r"=[^\S\r\n]*")
_SINGLE = re.compile(r"'((?:\\'|[^'])*)'")
_DOUBLE = re.compile(r'"((?:\\"|[^"])*)"')
_LINE_REST = re.compile(r"[^\r\n]*")
_COMMENT = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_LINE_END = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_SKIP_LINE = re.compile(r"[^\r\n]*(?:\r|\n|\r\n)?")
_INLINE_COMMENT = re.compile(r"\s+#.*")
_SINGLE_ESCAPES = re.compile(r"\\[\\']")
_DOUBLE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
_ESCAPED = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t", "v": "\v"}
_VARIABLE = re.compile(r"\$\{(?P<name>[^}:]*)(?::-(?P<default>[^}]*))?\}")


class _Unparsable(Exception):
    """A statement that does not parse; ``pos`` is where (parsing resumes at that line's end)."""

    def __init__(self, pos):
        super().__init__(pos)
        self.pos = pos


def _match(regex, text, pos):
    m = regex.match(text, pos)
    if m is None:
        raise _Unparsable(pos)
    return m


def _unescape(regex, value):
    return regex.sub(lambda m: _ESCAPED[m.group(0)[1]], value)


def _value(text, pos):
    """(value, end) of the value starting at ``pos`` (just after ``=`` and its blanks)."""
    first = text[pos:pos + 1]
    if first == "'":
        m = _match(_SINGLE, text, pos)
        return _unescape(_SINGLE_ESCAPES, m.group(1)), m.end()
    if first == '"':
        m = _match(_DOUBLE, text, pos)
        return _unescape(_DOUBLE_ESCAPES, m.group(1)), m.end()
    if first in ("", "\n", "\r"):
        return "", pos
    m = _LINE_REST.match(text, pos)
    return _INLINE_COMMENT.sub("", m.group(0)).rstrip(), m.end()


def _binding(text, pos):
    """(key | None, value | None, end) of the statement at ``pos`` (a comment: key None)."""
    pos = _EXPORT.match(text, pos).end()
    key = None
    if text[pos:pos + 1] != "#":
        m = _match(_QUOTED_KEY if text[pos:pos + 1] == "'" else _KEY, text, pos)
        key, pos = m.group(1), m.end()
    pos = _BLANKS.match(text, pos).end()
    value = None
    if text[pos:pos + 1] == "=":
        value, pos = _value(text, _EQUALS.match(text, pos).end())
    pos = _COMMENT.match(text, pos).end()
    return key, value, _match(_LINE_END, text, pos).end()


def bindings(text):
    """``(key, value)`` pairs of a dotenv text, in order, before variable expansion."""
    pos = 0
    while True:
        pos = _SPACES.match(text, pos).end()
        if pos >= len(text):
            return
        try:
            key, value, pos = _binding(text, pos)
        except _Unparsable as e:
            pos = _SKIP_LINE.match(text, e.pos).end()
            continue
        if key is not None:
            yield key, value


def parse(text, environ):
    """``{key: value | None}`` of a dotenv text, ``${NAME}`` expanded like python-dotenv
    (earlier keys of the text win over ``environ``)."""
    out = {}
    for key, value in bindings(text):
        if value is not None:
            scope = dict(environ)
            scope.update(out)

            def lookup(m, scope=scope):
                found = scope.get(m.group("name"), m.group("default") or "")
                return "" if found is None else found

            value = _VARIABLE.sub(lookup, value)
        out[key] = value
    return out
