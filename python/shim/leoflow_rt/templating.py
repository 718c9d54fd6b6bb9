"""Airflow's Jinja templating of task fields, at run time.

``make_renderer(dag)`` returns an object with ``render_string(source, context)`` and
``render_file(name, context)``. With ``jinja2`` installed it is Airflow's environment
(``SandboxedEnvironment`` or ``NativeEnvironment`` for ``render_template_as_native_obj``,
``StrictUndefined``, the ``ds``/``ts``... filters, ``user_defined_macros``/``filters``, a
``FileSystemLoader`` on the DAG folder + ``template_searchpath``). Without jinja2 it is a
stdlib subset: ``{{ expression }}`` (attribute/item access, calls, literals, arithmetic,
comparisons, ``~``, ``is defined``-style tests, the common filters), ``{# comments #}`` and
``-`` whitespace control; ``{% statements %}`` raise a clear error.
"""
import ast
import json
import os
import re


class TemplateError(Exception):
    """A template could not be compiled or rendered (the stdlib renderer's errors)."""


class TemplateSyntaxError(TemplateError):
    pass


class UndefinedError(TemplateError):
    pass


class TemplateNotFound(TemplateError):
    pass


class SecurityError(TemplateError):
    pass


# -- Airflow's filters -----------------------------------------------------------------------
def _ds(value):
    return value.strftime("%Y-%m-%d")


def _ds_nodash(value):
    return value.strftime("%Y%m%d")


def _ts(value):
    return value.isoformat()


def _ts_nodash(value):
    return value.strftime("%Y%m%dT%H%M%S")


def _ts_nodash_with_tz(value):
    return value.isoformat().replace("-", "").replace(":", "")


AIRFLOW_FILTERS = {"ds": _ds, "ds_nodash": _ds_nodash, "ts": _ts, "ts_nodash": _ts_nodash,
                   "ts_nodash_with_tz": _ts_nodash_with_tz}


def searchpath_for(dag):
    paths = []
    fileloc = getattr(dag, "fileloc", None)
    if fileloc:
        paths.append(os.path.dirname(fileloc))
    extra = getattr(dag, "template_searchpath", None)
    if isinstance(extra, str):
        extra = [extra]
    for p in extra or ():
        paths.append(os.fspath(p))
    return paths


def make_renderer(dag):
    native = bool(getattr(dag, "render_template_as_native_obj", False))
    try:
        import jinja2  # noqa: F401
    except ImportError:
        return MiniRenderer(dag, native)
    return JinjaRenderer(dag, native)


class JinjaRenderer:
    """Airflow's ``DAG.get_template_env()`` with the real jinja2."""

    engine = "jinja2"

    def __init__(self, dag, native):
        import jinja2
        import jinja2.nativetypes
        import jinja2.sandbox

        options = {
            "loader": jinja2.FileSystemLoader(searchpath_for(dag)),
            "undefined": getattr(dag, "template_undefined", None) or jinja2.StrictUndefined,
            "extensions": ["jinja2.ext.do"],
            "cache_size": 0,
        }
        extra = getattr(dag, "jinja_environment_kwargs", None)
        if extra:
            options.update(extra)
        if native:
            self.env = jinja2.nativetypes.NativeEnvironment(**options)
        else:
            self.env = jinja2.sandbox.SandboxedEnvironment(**options)
        self.env.filters.update(AIRFLOW_FILTERS)
        macros = getattr(dag, "user_defined_macros", None)
        if macros:
            self.env.globals.update(macros)
        filters = getattr(dag, "user_defined_filters", None)
        if filters:
            self.env.filters.update(filters)
        self._cache = {}
        self.native = native

    def render_string(self, source, context):
        tpl = self._cache.get(source)
        if tpl is None:
            tpl = self._cache[source] = self.env.from_string(source)
        return tpl.render(context)

    def render_file(self, name, context):
        return self.env.get_template(name).render(context)


# -- the stdlib renderer ---------------------------------------------------------------------
_TAG_RE = re.compile(r"\{\{(-?)(.*?)(-?)\}\}|\{%(-?)(.*?)(-?)%\}|\{#(-?).*?(-?)#\}", re.S)
_TESTS = ("defined", "undefined", "none", "number", "string", "mapping", "iterable",
          "sequence", "true", "false", "even", "odd", "boolean", "integer", "float")


class _Undefined(Exception):
    pass


def _strip_trailing_newline(source):
    if source.endswith("\r\n"):
        return source[:-2]
    if source.endswith("\n") or source.endswith("\r"):
        return source[:-1]
    return source


def native_concat(values):
    """jinja2.nativetypes.native_concat."""
    if not values:
        return None
    if len(values) == 1:
        raw = values[0]
        if not isinstance(raw, str):
            return raw
    else:
        raw = "".join(str(v) for v in values)
    try:
        return ast.literal_eval(ast.parse(raw, mode="eval"))
    except (ValueError, SyntaxError, MemoryError, TypeError):
        return raw


def _noargs():
    return ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                         kwarg=None, defaults=[])


def _thunk(node):
    return ast.Lambda(args=_noargs(), body=node)


def _call(name, args, keywords=()):
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args),
                    keywords=list(keywords))


class _Rewrite(ast.NodeTransformer):
    """Jinja semantics on a Python AST: ``a.b``/``a[b]`` fall back to each other, ``x | f``
    is a filter, ``~`` (rewritten to ``@``) concatenates, ``x is defined`` is a test."""

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr.startswith("_"):
            raise SecurityError("access to attribute %r is unsafe" % node.attr)
        if not isinstance(node.ctx, ast.Load):
            raise TemplateSyntaxError("assignments are not allowed in templates")
        return _call("__lf_ga", [node.value, ast.Constant(node.attr)])

    def visit_Subscript(self, node):
        self.generic_visit(node)
        sl = node.slice
        if isinstance(sl, ast.Slice) or not isinstance(node.ctx, ast.Load):
            return node
        if hasattr(ast, "Index") and isinstance(sl, getattr(ast, "Index")):  # Python 3.8 AST
            sl = sl.value
        return _call("__lf_gi", [node.value, sl])

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.BitOr):
            right = node.right
            if isinstance(right, ast.Name):
                return _call("__lf_filter", [ast.Constant(right.id), _thunk(node.left)])
            if isinstance(right, ast.Call) and isinstance(right.func, ast.Name):
                return _call("__lf_filter", [ast.Constant(right.func.id), _thunk(node.left)]
                             + right.args, right.keywords)
            raise TemplateSyntaxError("expected a filter name after '|'")
        if isinstance(node.op, ast.MatMult):
            return _call("__lf_concat", [node.left, node.right])
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            comp = node.comparators[0]
            name = comp.id if isinstance(comp, ast.Name) else None
            if isinstance(comp, ast.Constant) and comp.value is None:
                name = "none"
            elif isinstance(comp, ast.Constant) and comp.value is True:
                name = "true"
            elif isinstance(comp, ast.Constant) and comp.value is False:
                name = "false"
            if name in _TESTS:
                return _call("__lf_test", [ast.Constant(name), _thunk(node.left),
                                           ast.Constant(isinstance(node.ops[0], ast.IsNot))])
        return node

    def visit_NamedExpr(self, node):
        raise TemplateSyntaxError("assignments are not allowed in templates")


def _jinja_to_python(src):
    """Token-level rewrites: binary ``~`` -> ``@``; ``true``/``false``/``none`` stay names."""
    if "~" not in src:
        return src
    import io
    import tokenize

    out = []
    prev = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.OP and tok.string == "~" and prev is not None and (
                    prev.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING) and
                    prev.string not in ("and", "or", "not", "in", "is", "if", "else")
                    or prev.type == tokenize.OP and prev.string in (")", "]", "}")):
                tok = tok._replace(string="@")
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT,
                                tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
                prev = tok
            out.append((tok.type, tok.string))
    except (tokenize.TokenError, IndentationError) as e:
        raise TemplateSyntaxError(str(e)) from None
    return tokenize.untokenize(out).strip()


_EXPR_CACHE = {}


def _compile_expr(src):
    code = _EXPR_CACHE.get(src)
    if code is not None:
        return code
    text = src.strip()
    if not text:
        raise TemplateSyntaxError("Expected an expression, got 'end of print statement'")
    try:
        tree = ast.parse(_jinja_to_python(text), mode="eval")
    except SyntaxError as e:
        raise TemplateSyntaxError("%s in {{ %s }}" % (e.msg, text)) from None
    tree = ast.fix_missing_locations(_Rewrite().visit(tree))
    code = _EXPR_CACHE[src] = compile(tree, "<template>", "eval")
    return code


def _type_desc(obj):
    if isinstance(obj, dict):
        return "dict object"
    return "%s object" % type(obj).__name__


def _ga(obj, name):
    try:
        return getattr(obj, name)
    except AttributeError:
        pass
    except _Undefined:
        raise
    except KeyError:
        pass
    try:
        return obj[name]
    except (TypeError, LookupError, AttributeError):
        raise _Undefined("'%s' has no attribute '%s'" % (_type_desc(obj), name)) from None


def _gi(obj, key):
    try:
        return obj[key]
    except (TypeError, LookupError, AttributeError):
        pass
    if isinstance(key, str) and not key.startswith("_"):
        try:
            return getattr(obj, key)
        except AttributeError:
            pass
    raise _Undefined("'%s' has no attribute '%s'" % (_type_desc(obj), key))


def _concat(a, b):
    return "%s%s" % (a, b)


# -- filters (value first) -------------------------------------------------------------------
def _f_default(thunk, default_value="", boolean=False):
    try:
        v = thunk()
    except (NameError, _Undefined):
        return default_value
    if boolean and not v:
        return default_value
    return v


def _f_int(value, default=0, base=10):
    try:
        if isinstance(value, str):
            return int(value, base)
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return default


def _f_float(value, default=0.0):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _f_join(value, d="", attribute=None):
    if attribute is not None:
        value = [_ga(v, attribute) for v in value]
    return str(d).join(str(v) for v in value)


def _f_replace(s, old, new, count=None):
    if count is None:
        return str(s).replace(old, new)
    return str(s).replace(old, new, count)


def _f_tojson(value, indent=None):
    out = json.dumps(value, indent=indent, sort_keys=True)
    return (out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("'", "\\u0027"))


def _f_round(value, precision=0, method="common"):
    import math

    if method == "common":
        return round(value, precision)
    func = math.ceil if method == "ceil" else math.floor
    return func(value * (10 ** precision)) / (10 ** precision)


def _f_sort(value, reverse=False, case_sensitive=False, attribute=None):
    def key(v):
        if attribute is not None:
            v = _ga(v, attribute)
        if not case_sensitive and isinstance(v, str):
            v = v.lower()
        return v

    return sorted(value, key=key, reverse=reverse)


def _f_unique(value, case_sensitive=False, attribute=None):
    seen = set()
    out = []
    for v in value:
        k = _ga(v, attribute) if attribute is not None else v
        if not case_sensitive and isinstance(k, str):
            k = k.lower()
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


def _f_escape(value):
    import html

    return html.escape(str(value), quote=True)


def _f_format(value, *args, **kwargs):
    if args and kwargs:
        raise TemplateError("can't handle positional and keyword arguments at the same time")
    return str(value) % (kwargs or args)


def _f_indent(s, width=4, first=False, blank=False):
    pad = " " * width if isinstance(width, int) else str(width)
    lines = str(s).split("\n")
    out = []
    for i, ln in enumerate(lines):
        if (i == 0 and not first) or (not ln.strip() and not blank):
            out.append(ln)
        else:
            out.append(pad + ln)
    return "\n".join(out)


def _f_truncate(s, length=255, killwords=False, end="...", leeway=None):
    s = str(s)
    leeway = 5 if leeway is None else leeway
    if len(s) <= length + leeway:
        return s
    if killwords:
        return s[:length - len(end)] + end
    result = s[:length - len(end)].rsplit(" ", 1)[0]
    return result + end


def _f_urlencode(value):
    from urllib.parse import quote, urlencode

    if isinstance(value, dict):
        return urlencode(value)
    return quote(str(value), safe="/")


FILTERS = {
    "default": _f_default, "d": _f_default,
    "upper": lambda v: str(v).upper(), "lower": lambda v: str(v).lower(),
    "title": lambda v: str(v).title(), "capitalize": lambda v: str(v).capitalize(),
    "trim": lambda v, chars=None: str(v).strip(chars), "strip": lambda v: str(v).strip(),
    "length": len, "count": len, "int": _f_int, "float": _f_float, "string": str,
    "list": list, "join": _f_join, "replace": _f_replace,
    "first": lambda v: next(iter(v)), "last": lambda v: list(v)[-1], "tojson": _f_tojson,
    "round": _f_round, "abs": abs, "sort": _f_sort, "unique": _f_unique,
    "reverse": lambda v: v[::-1] if isinstance(v, (str, list, tuple)) else list(reversed(
        list(v))),
    "sum": lambda v, attribute=None, start=0: sum(
        (_ga(x, attribute) for x in v) if attribute else v, start),
    "min": lambda v: min(v), "max": lambda v: max(v),
    "items": lambda v: list(v.items()), "dictsort": lambda v, case_sensitive=False, by="key",
    reverse=False: sorted(v.items(), key=lambda kv: kv[0 if by == "key" else 1],
                          reverse=reverse),
    "escape": _f_escape, "e": _f_escape, "safe": lambda v: v, "format": _f_format,
    "indent": _f_indent, "truncate": _f_truncate, "urlencode": _f_urlencode,
    "wordcount": lambda v: len(str(v).split()), "center": lambda v, width=80: str(v).center(
        width), "batch": lambda v, n, fill=None: [list(v)[i:i + n] for i in range(
            0, len(list(v)), n)],
    "bool": bool, "attr": lambda v, name: getattr(v, name),
}
FILTERS.update(AIRFLOW_FILTERS)


def _t(name, value):
    if name == "none":
        return value is None
    if name == "number":
        return isinstance(value, (int, float, complex)) and not isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "float":
        return isinstance(value, float)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "mapping":
        from collections.abc import Mapping

        return isinstance(value, Mapping)
    if name == "iterable":
        try:
            iter(value)
            return True
        except TypeError:
            return False
    if name == "sequence":
        try:
            len(value)
            value.__getitem__  # noqa: B018
            return True
        except (TypeError, AttributeError):
            return False
    if name == "true":
        return value is True
    if name == "false":
        return value is False
    if name == "even":
        return value % 2 == 0
    if name == "odd":
        return value % 2 == 1
    raise TemplateError("No test named %r" % name)


class MiniRenderer:
    """The stdlib subset of Jinja (see the module docstring)."""

    engine = "builtin"

    def __init__(self, dag, native):
        self.native = native
        self.searchpath = searchpath_for(dag)
        self.filters = dict(FILTERS)
        self.filters.update(getattr(dag, "user_defined_filters", None) or {})
        self.globals = {"range": range, "dict": dict, "lipsum": lambda *a, **k: "",
                        "true": True, "false": False, "none": None, "True": True,
                        "False": False, "None": None}
        self.globals.update(getattr(dag, "user_defined_macros", None) or {})
        self._cache = {}

    # -- parsing --
    def _parse(self, source):
        parts = self._cache.get(source)
        if parts is not None:
            return parts
        src = _strip_trailing_newline(source)
        parts = []
        pos = 0
        strip_next = False
        for m in _TAG_RE.finditer(src):
            text = src[pos:m.start()]
            if strip_next:
                text = text.lstrip()
            lstrip = m.group(1) or m.group(4) or m.group(7)
            if lstrip:
                text = text.rstrip()
            if text:
                parts.append((False, text))
            if m.group(5) is not None:
                raise TemplateSyntaxError(
                    "Jinja statement '{%%%s%%}' is not supported by Leoflow's built-in template "
                    "engine (only {{ expressions }}); install jinja2 for the task's Python to "
                    "use statements" % m.group(5))
            if m.group(2) is not None:
                parts.append((True, _compile_expr(m.group(2))))
            strip_next = bool(m.group(3) or m.group(6) or m.group(8))
            pos = m.end()
        text = src[pos:]
        if strip_next:
            text = text.lstrip()
        if text:
            parts.append((False, text))
        if "{{" in text or "{%" in text:
            raise TemplateSyntaxError("unclosed template tag in %r" % (text[:80],))
        self._cache[source] = parts
        return parts

    def _namespace(self, context):
        ns = dict(self.globals)
        ns.update(context)
        filters = self.filters

        def apply_filter(name, thunk, *args, **kwargs):
            f = filters.get(name)
            if f is None:
                raise TemplateError("No filter named %r." % name)
            if f is _f_default:
                return f(thunk, *args, **kwargs)
            return f(thunk(), *args, **kwargs)

        def apply_test(name, thunk, negate):
            if name in ("defined", "undefined"):
                try:
                    thunk()
                    ok = True
                except (NameError, _Undefined):
                    ok = False
                res = ok if name == "defined" else not ok
            else:
                res = _t(name, thunk())
            return not res if negate else res

        ns.update(__builtins__={}, __lf_ga=_ga, __lf_gi=_gi, __lf_filter=apply_filter,
                  __lf_test=apply_test, __lf_concat=_concat)
        return ns

    def _render_parts(self, parts, context):
        ns = None
        values = []
        for is_expr, item in parts:
            if not is_expr:
                values.append(item)
                continue
            if ns is None:
                ns = self._namespace(context)
            try:
                values.append(eval(item, ns))  # noqa: S307 - rewritten, builtins-free AST
            except NameError as e:
                name = str(e).split("'")[1] if "'" in str(e) else str(e)
                raise UndefinedError("'%s' is undefined" % name) from None
            except _Undefined as e:
                raise UndefinedError(str(e)) from None
        if self.native:
            return native_concat(values)
        return "".join(v if isinstance(v, str) else str(v) for v in values)

    def render_string(self, source, context):
        return self._render_parts(self._parse(source), context)

    def render_file(self, name, context):
        pieces = name.split("/")
        if any(p == ".." for p in pieces):
            raise TemplateNotFound(name)
        for base in self.searchpath:
            path = os.path.join(base, *[p for p in pieces if p and p != "."])
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as fh:
                    source = fh.read()
                return self.render_string(source, context)
        raise TemplateNotFound(name)


def has_template_syntax(s):
    return "{{" in s or "{%" in s or "{#" in s


def render_plain(s, native):
    """What rendering a string without any template tag yields (jinja semantics)."""
    s = _strip_trailing_newline(s)
    if native and s:
        return native_concat([s])
    return s
