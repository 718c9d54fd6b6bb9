"""XComArg resolution and dynamic task mapping for one task instance.

Owns how an ``XComArg`` becomes a value from this run's XComs (``TI.xcom``: a mapped upstream
gives the list of its map indexes' values; ``.map``/``.zip``/``.concat`` are Airflow's lazy
sequences) and a map index's share of the task's ``expand`` / ``expand_kwargs`` input:
``TI.map_kwargs`` with the PROTOCOL VALUE tags decoded, or Airflow's local expansion order.
Called by ``runner.py`` (it unmaps a mapped task with ``XComResolver.map_kwargs``) and
``rendering.py`` (``XComArg`` template fields go through ``XComResolver.resolve``).
See PROTOCOL.md, "What runs" (XComArgs, Mapped tasks).
"""
from collections.abc import Sequence as _Sequence

from leoflow_rt.context import _MISSING, RETURN_KEY, _parse_dt


# -- lazy XComArg results (Airflow's _MapResult / _ZipResult / _ConcatResult) ------------------
def _as_seq(value, what):
    if isinstance(value, dict):
        return list(value)
    if not isinstance(value, _Sequence):
        raise ValueError("XCom %s expects sequence or dict, not %s" % (what,
                                                                       type(value).__name__))
    return value


class _MapResult(_Sequence):
    def __init__(self, value, callables):
        self.value = _as_seq(value, "map")
        self.callables = callables

    def __len__(self):
        return len(self.value)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        value = self.value[index]
        for f in self.callables:
            value = f(value)
        return value

    def __iter__(self):
        for value in self.value:
            for f in self.callables:
                value = f(value)
            yield value

    def __repr__(self):
        return "_MapResult(%r, %s)" % (self.value, [getattr(f, "__name__", f)
                                                    for f in self.callables])


class _ZipResult(_Sequence):
    def __init__(self, values, fillvalue):
        from airflow.sdk.definitions._internal.types import ArgNotSet

        self.values = [_as_seq(v, "zip") for v in values]
        self.fillvalue = fillvalue
        self._longest = not isinstance(fillvalue, ArgNotSet)

    def __len__(self):
        lengths = [len(v) for v in self.values]
        return max(lengths) if self._longest else min(lengths)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return tuple(v[index] if index < len(v) else self.fillvalue for v in self.values)

    def __repr__(self):
        return "_ZipResult(%r)" % (self.values,)


class _ConcatResult(_Sequence):
    def __init__(self, values):
        self.values = [_as_seq(v, "concat") for v in values]

    def __len__(self):
        return sum(len(v) for v in self.values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        for v in self.values:
            if index < len(v):
                return v[index]
            index -= len(v)
        raise IndexError(index)

    def __repr__(self):
        return "_ConcatResult(%r)" % (self.values,)


# -- resolution and expansion ----------------------------------------------------------------
class XComResolver:
    """Resolves ``XComArg``s for ``ti`` (from its XCom store; anything else resolvable gets
    ``context``) and computes a mapped task's kwargs for one map index."""

    def __init__(self, ti, context):
        self.ti = ti
        self.context = context

    def resolve(self, arg):
        from airflow.sdk.definitions.xcom_arg import (
            ConcatXComArg,
            MapXComArg,
            PlainXComArg,
            ZipXComArg,
        )

        from airflow.sdk.definitions.taskgroup import MappedArgument

        if isinstance(arg, MappedArgument):
            return self._group_kwargs(arg.group)[arg._key]
        if isinstance(arg, PlainXComArg):
            op = arg.operator
            store = self.ti._store
            if getattr(op, "is_mapped", False):
                return store.get_all(op.task_id, arg.key) or []
            group = op.get_closest_mapped_task_group()
            if group is not None:
                # Airflow's relevant upstream map indexes: the same index within the same
                # mapped task group, every index from outside it.
                task = self.context.get("task") if self.context else None
                mine = task.get_closest_mapped_task_group() if task is not None else None
                if mine is group and self.ti.map_index >= 0:
                    v = store.get_one(op.task_id, arg.key, self.ti.map_index)
                    return None if v is _MISSING else v
                return store.get_all(op.task_id, arg.key) or []
            v = store.get_one(op.task_id, arg.key, None)
            if v is not _MISSING and v is not None:
                return v
            if arg.key == RETURN_KEY or getattr(op, "multiple_outputs", False):
                return None
            from airflow.sdk.exceptions import XComNotFound

            raise XComNotFound(self.ti.dag_id, op.task_id, arg.key)
        if isinstance(arg, MapXComArg):
            return _MapResult(self.resolve(arg.arg), arg.callables)
        if isinstance(arg, ZipXComArg):
            return _ZipResult([self.resolve(a) for a in arg.args], arg.fillvalue)
        if isinstance(arg, ConcatXComArg):
            return _ConcatResult([self.resolve(a) for a in arg.args])
        return arg.resolve(self.context)

    def _group_kwargs(self, group):
        """The function arguments of mapped task group ``group`` at this TI's map index."""
        if group is None:
            raise RuntimeError("a MappedArgument outside its mapped task group")
        cache = self.__dict__.setdefault("_groups", {})
        kwargs = cache.get(id(group))
        if kwargs is None:
            if self.ti.map_index < 0:
                raise RuntimeError("task %r is in mapped task group %r but runs without a "
                                   "map index" % (self.ti.task_id, group.group_id))
            kwargs = self._local_map_kwargs(group, self.ti.map_index)[0]
            cache[id(group)] = kwargs
        return kwargs

    def _resolve_nested(self, value, depth=0):
        from airflow.sdk.definitions._internal.mixins import ResolveMixin

        if isinstance(value, ResolveMixin):
            return self.resolve(value)
        if depth > 50:
            return value
        if isinstance(value, dict):
            return {k: self._resolve_nested(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve_nested(v, depth + 1) for v in value]
        return value

    def _local_map_kwargs(self, task, map_index):
        """Airflow's expansion of ``map_index`` from the live expand input + ``TI.xcom``:
        ``(kwargs, keys whose value came from an XCom)``."""
        from collections.abc import Mapping, Sized

        from airflow.sdk.definitions._internal.mixins import ResolveMixin

        expand = getattr(task, "_lf_expand", None)
        if expand is not None:
            resolved, literal = {}, set()
            for k, v in expand.items():
                if isinstance(v, ResolveMixin):
                    resolved[k] = self.resolve(v)
                else:
                    resolved[k] = v
                    literal.add(k)
                if not isinstance(resolved[k], Sized):
                    raise ValueError("can't map over value of type %s for argument %r"
                                     % (type(resolved[k]).__name__, k))
            total = 1
            for v in resolved.values():
                total *= len(v)
            if not 0 <= map_index < total:
                raise IndexError("map_index %d is out of range: %s expands to %d task "
                                 "instances" % (map_index, task.task_id, total))
            out = {}
            for key in expand:
                index = map_index
                found = -1
                for mk in reversed(list(expand)):
                    length = len(resolved[mk])
                    if length < 1:
                        raise RuntimeError("cannot expand field mapped to length %r" % length)
                    if mk == key:
                        found = index % length
                        break
                    index //= length
                value = resolved[key]
                if isinstance(value, dict):
                    out[key] = list(value.items())[found]
                else:
                    out[key] = value[found]
            return out, set(out) - literal
        value = getattr(task, "_lf_expand_kwargs", None)
        if isinstance(value, ResolveMixin):
            mappings = self.resolve(value)
            if not isinstance(mappings, _Sequence) or isinstance(mappings, str):
                raise ValueError("expand_kwargs() expects a list[dict], not %s"
                                 % type(mappings).__name__)
            mapping = mappings[map_index]
        else:
            mapping = value[map_index]
            if isinstance(mapping, ResolveMixin):
                mapping = self.resolve(mapping)
        if not isinstance(mapping, Mapping):
            raise ValueError("expand_kwargs() expects a list[dict], not list[%s]"
                             % type(mapping).__name__)
        out = {}
        for k, v in mapping.items():
            if not isinstance(k, str):
                raise ValueError("expand_kwargs() input dict keys must all be str, but %r is "
                                 "of type %s" % (k, type(k).__name__))
            out[k] = self._resolve_nested(v)
        return out, set(out)

    def map_kwargs(self, task, map_index, given):
        """``given`` (``TI.map_kwargs``, VALUE tags decoded) when not None, else the local
        expansion: ``(kwargs, keys whose value came from an XCom)``."""
        if given is None:
            return self._local_map_kwargs(task, map_index)
        from airflow.sdk.definitions._internal.mixins import ResolveMixin

        expand = getattr(task, "_lf_expand", None) or {}
        literal = {k for k, v in expand.items() if not isinstance(v, ResolveMixin)}
        out = {}
        local = None
        for k, v in given.items():
            if _has_opaque_tag(v):
                if local is None:
                    try:
                        local = self._local_map_kwargs(task, map_index)[0]
                    except Exception:  # noqa: BLE001 - keep the tagged value
                        local = {}
                if k in local:
                    out[k] = local[k]
                    continue
            out[k] = _decode_tags(v)
        return out, set(out) - literal


# -- TI.map_kwargs: PROTOCOL VALUE tags ------------------------------------------------------
_OPAQUE = ("__callable__", "__repr__")
_TAGS = ("__datetime__", "__timedelta__", "__date__", "__time__")


def _has_opaque_tag(v):
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v)) in _OPAQUE:
            return True
        return any(_has_opaque_tag(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_opaque_tag(x) for x in v)
    return False


def _decode_tags(v):
    """PROTOCOL VALUE tags back to Python values (datetime, timedelta, date, time)."""
    import datetime as dt

    if isinstance(v, list):
        return [_decode_tags(x) for x in v]
    if not isinstance(v, dict):
        return v
    if len(v) == 1:
        (k, x), = v.items()
        try:
            if k == "__datetime__":
                return _parse_dt(x)
            if k == "__timedelta__":
                return dt.timedelta(seconds=float(x))
            if k == "__date__":
                return dt.date.fromisoformat(x)
            if k == "__time__":
                return dt.time.fromisoformat(x)
        except (TypeError, ValueError):
            return v
    return {k: _decode_tags(x) for k, x in v.items()}
