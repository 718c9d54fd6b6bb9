"""``XComArg``: a reference to a task's (future) XCom value, also a dependency handle."""
from airflow.sdk.definitions._internal.mixins import DependencyMixin, ResolveMixin
from airflow.sdk.definitions._internal.types import NOTSET

XCOM_RETURN_KEY = "return_value"


class XComArg(ResolveMixin, DependencyMixin):
    """Reference to an XCom pushed by a task; ``XComArg(op)`` builds a plain one."""

    def __new__(cls, *args, **kwargs):
        if cls is XComArg:
            return PlainXComArg(*args, **kwargs)
        return super().__new__(cls)

    @staticmethod
    def iter_xcom_references(arg, _depth=0):
        """Yield ``(operator, key)`` for every XComArg found in ``arg`` (nested containers too)."""
        if _depth > 50:
            return
        if isinstance(arg, ResolveMixin):
            yield from arg.iter_references()
        elif isinstance(arg, (list, tuple, set, frozenset)):
            for elem in arg:
                yield from XComArg.iter_xcom_references(elem, _depth + 1)
        elif isinstance(arg, dict):
            for elem in arg.values():
                yield from XComArg.iter_xcom_references(elem, _depth + 1)
        elif isinstance(arg, (str, bytes, int, float, type(None))) or isinstance(arg, type):
            return
        else:
            from airflow.sdk.definitions._internal.node import DAGNode

            fields = getattr(arg, "template_fields", None)
            if fields and not isinstance(arg, DAGNode) and isinstance(fields, (list, tuple)):
                for attr in fields:
                    yield from XComArg.iter_xcom_references(getattr(arg, attr, None), _depth + 1)

    @staticmethod
    def apply_upstream_relationship(op, arg):
        for operator, _ in XComArg.iter_xcom_references(arg):
            op.set_upstream(operator)

    @property
    def roots(self):
        return [op for op, _ in self.iter_references()]

    @property
    def leaves(self):
        return [op for op, _ in self.iter_references()]

    def set_upstream(self, task_or_task_list, edge_modifier=None):
        for operator, _ in self.iter_references():
            operator.set_upstream(task_or_task_list, edge_modifier)

    def set_downstream(self, task_or_task_list, edge_modifier=None):
        for operator, _ in self.iter_references():
            operator.set_downstream(task_or_task_list, edge_modifier)

    def update_relative(self, other, upstream=True, edge_modifier=None):
        for operator, _ in self.iter_references():
            operator.update_relative(other, upstream, edge_modifier=edge_modifier)

    def __iter__(self):
        raise TypeError("'XComArg' object is not iterable")

    def map(self, f):
        return MapXComArg(self, [f])

    def zip(self, *others, fillvalue=NOTSET):
        return ZipXComArg([self, *others], fillvalue=fillvalue)

    def concat(self, *others):
        return ConcatXComArg([self, *others])

    def resolve(self, context):
        raise NotImplementedError


class PlainXComArg(XComArg):
    """``task.output`` / the value returned by calling a ``@task``."""

    def __init__(self, operator, key=XCOM_RETURN_KEY):
        self.operator = operator
        self.key = key

    def __eq__(self, other):
        if not isinstance(other, PlainXComArg):
            return NotImplemented
        return self.operator is other.operator and self.key == other.key

    def __hash__(self):
        return hash((id(self.operator), self.key))

    def __getitem__(self, item):
        if not isinstance(item, str):
            raise ValueError("XComArg only supports str lookup, received %s" % type(item).__name__)
        return PlainXComArg(operator=self.operator, key=item)

    def __repr__(self):
        if self.key == XCOM_RETURN_KEY:
            return "XComArg(%r)" % (self.operator,)
        return "XComArg(%r, %r)" % (self.operator, self.key)

    def __str__(self):
        parts = ["task_ids='%s'" % self.operator.task_id, "dag_id='%s'" % self.operator.dag_id]
        if self.key is not None:
            parts.append("key='%s'" % self.key)
        return "{{ task_instance.xcom_pull(%s) }}" % ", ".join(parts)

    def iter_references(self):
        yield self.operator, self.key

    def map(self, f):
        if self.key != XCOM_RETURN_KEY:
            raise ValueError("cannot map against non-return XCom")
        return super().map(f)

    def zip(self, *others, fillvalue=NOTSET):
        if self.key != XCOM_RETURN_KEY:
            raise ValueError("cannot map against non-return XCom")
        return super().zip(*others, fillvalue=fillvalue)

    def concat(self, *others):
        if self.key != XCOM_RETURN_KEY:
            raise ValueError("cannot concatenate non-return XCom")
        return super().concat(*others)

    def as_setup(self):
        self.operator.is_setup = True
        return self

    def as_teardown(self, *, setups=None, on_failure_fail_dagrun=None):
        from airflow.utils.trigger_rule import TriggerRule

        op = self.operator
        op.is_teardown = True
        op.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS
        if on_failure_fail_dagrun is not None:
            op.on_failure_fail_dagrun = on_failure_fail_dagrun
        if setups is not None:
            setups = [setups] if isinstance(setups, DependencyMixin) else setups
            for s in setups:
                for root in s.roots:
                    root.is_setup = True
                s >> op
        return self

    def __enter__(self):
        self.operator.__enter__()
        return self

    def __exit__(self, *exc):
        return self.operator.__exit__(*exc)

    def resolve(self, context):
        ti = context["ti"]
        return ti.xcom_pull(task_ids=self.operator.task_id, key=self.key, map_indexes=None)


class MapXComArg(XComArg):
    """``xcom_arg.map(f)``: apply ``f`` lazily to each mapped item."""

    def __init__(self, arg, callables):
        self.arg = arg
        self.callables = list(callables)

    def __repr__(self):
        names = ", ".join(getattr(c, "__name__", repr(c)) for c in self.callables)
        return "%r.map([%s])" % (self.arg, names)

    def iter_references(self):
        yield from self.arg.iter_references()

    def map(self, f):
        return MapXComArg(self.arg, [*self.callables, f])


class ZipXComArg(XComArg):
    def __init__(self, args, *, fillvalue=NOTSET):
        if not args:
            raise ValueError("At least one input is required")
        self.args = list(args)
        self.fillvalue = fillvalue

    def __repr__(self):
        return "%r.zip(%s)" % (self.args[0], ", ".join(repr(a) for a in self.args[1:]))

    def iter_references(self):
        for arg in self.args:
            yield from arg.iter_references()


class ConcatXComArg(XComArg):
    def __init__(self, args):
        if not args:
            raise ValueError("At least one input is required")
        self.args = list(args)

    def __repr__(self):
        return "%r.concat(%s)" % (self.args[0], ", ".join(repr(a) for a in self.args[1:]))

    def iter_references(self):
        for arg in self.args:
            yield from arg.iter_references()
