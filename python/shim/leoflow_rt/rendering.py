"""Template fields of the operator that runs, as Airflow renders and reports them.

Owns the walk over ``template_fields`` (strings through ``templating.py``'s Jinja or stdlib
renderer, template files by ``template_ext``, ``literal()``, ``XComArg``s resolved by
``mapping.py``, nested objects with their own ``template_fields``, a falsy rendered value
keeping the original) and ``rendered_fields`` (Airflow's serialisation, truncated, secrets
masked). Called by ``runner.py``: it renders the operator before ``execute`` (and again
through ``ti.render_templates()``) and renders ``map_index_template`` with its renderer.
See PROTOCOL.md, "What runs" (Templates) and "Result file" (rendered_fields).
"""
import json

from leoflow_rt.capture import _mask_json

MAX_TEMPLATED_FIELD_LENGTH = 4096


class FieldRenderer:
    """Renders template values for one task instance with its ``context``: ``XComArg``s via
    ``resolver``, secrets in ``rendered_fields`` masked by ``sink``."""

    def __init__(self, dag, context, resolver, sink):
        self.dag, self.context, self.resolver, self.sink = dag, context, resolver, sink
        self.renderer = None  # templating.make_renderer(dag), made on first use
        # ids of values left as they are: XCom values a map index got, objects rendered once
        self.seen_oids = set()

    def get_renderer(self):
        if self.renderer is None:
            from leoflow_rt.templating import make_renderer

            self.renderer = make_renderer(self.dag)
        return self.renderer

    def render_value(self, value, template_ext, depth=0):
        from airflow.sdk.definitions._internal.mixins import ResolveMixin
        from airflow.sdk.definitions.template import LiteralValue
        from leoflow_rt import templating

        if id(value) in self.seen_oids:
            return value
        if isinstance(value, str):
            if template_ext and value.endswith(tuple(template_ext)):
                return self.get_renderer().render_file(value, self.context)
            if templating.has_template_syntax(value):
                return self.get_renderer().render_string(value, self.context)
            return templating.render_plain(value, getattr(self.dag, "render_template_as_native_obj",
                                                          False))
        if isinstance(value, LiteralValue):
            return value.value
        if isinstance(value, ResolveMixin):
            return self.resolver.resolve(value)
        if depth > 50 or value is None or isinstance(value, (int, float, bool, bytes)):
            return value
        if isinstance(value, tuple):
            items = [self.render_value(v, template_ext, depth + 1) for v in value]
            if type(value) is not tuple and hasattr(value, "_fields"):
                return type(value)(*items)
            return tuple(items)
        if isinstance(value, list):
            return [self.render_value(v, template_ext, depth + 1) for v in value]
        if isinstance(value, dict):
            return {k: self.render_value(v, template_ext, depth + 1) for k, v in value.items()}
        if isinstance(value, (set, frozenset)):
            return type(value)(self.render_value(v, template_ext, depth + 1) for v in value)
        fields = getattr(value, "template_fields", None)
        if fields and isinstance(fields, (list, tuple)):
            from airflow.sdk.definitions._internal.node import DAGNode

            if not isinstance(value, DAGNode):
                self.seen_oids.add(id(value))
                self._render_fields(value, fields, getattr(value, "template_ext", ()) or ())
        return value

    def _render_fields(self, parent, fields, template_ext):
        for name in fields:
            try:
                value = getattr(parent, name)
            except AttributeError:
                raise AttributeError("%r is configured as a template field but %s does not have "
                                     "this attribute." % (name, type(parent).__name__)) from None
            rendered = self.render_value(value, template_ext)
            if rendered:  # Airflow keeps the original value when the rendered one is falsy
                setattr(parent, name, rendered)

    def render_templates(self, op):
        self._render_fields(op, op.template_fields, getattr(op, "template_ext", ()) or ())

    def rendered_fields(self, op):
        out = {}
        for name in op.template_fields:
            try:
                out[name] = _serialize_template_field(getattr(op, name, None))
            except Exception as e:  # noqa: BLE001
                out[name] = "<unserialisable: %s>" % (e,)
            if self.sink.secrets:
                out[name] = _mask_json(out[name], self.sink)
        return out
def _serialize_template_field(value):
    """Airflow's ``_serialize_template_field``: JSON as is (tuples as lists, dicts sorted),
    anything else ``str()``; long values are truncated."""
    def is_jsonable(x):
        try:
            json.dumps(x, allow_nan=False)
            return True
        except (TypeError, ValueError, RecursionError, OverflowError):
            return False

    def translate(obj):
        if isinstance(obj, (tuple, list)):
            return [translate(x) for x in obj]
        if isinstance(obj, dict):
            return {k: translate(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
        return obj

    def truncated(text):
        return ("Truncated. You can change this behaviour in [core]max_templated_field_length. "
                "%r... " % (text[:MAX_TEMPLATED_FIELD_LENGTH - 79],))

    if not is_jsonable(value):
        serialized = str(value)
        if len(serialized) > MAX_TEMPLATED_FIELD_LENGTH:
            return truncated(serialized)
        return serialized
    if not value and not isinstance(value, tuple):
        return value
    value = translate(value)
    serialized = str(value)
    if len(serialized) > MAX_TEMPLATED_FIELD_LENGTH:
        return truncated(serialized)
    return value
