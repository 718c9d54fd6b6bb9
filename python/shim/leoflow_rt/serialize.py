"""The parse-result JSON model of PROTOCOL.md (DAG, TASK and tagged VALUEs)."""
import datetime as _dt
import enum as _enum
import math as _math

_MAX_DEPTH = 25
_UNHANDLED = object()


def _callable_tag(fn):
    target = getattr(fn, "__func__", fn)
    code = getattr(target, "__code__", None)
    return {"__callable__": {
        "module": getattr(target, "__module__", None),
        "qualname": getattr(target, "__qualname__", None) or getattr(target, "__name__", None),
        "file": code.co_filename if code is not None else None,
        "lineno": code.co_firstlineno if code is not None else None,
        "parameters": list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
        if code is not None else [],
    }}


def _repr(v):
    try:
        r = repr(v)
    except Exception as e:  # noqa: BLE001 - user __repr__ may fail
        r = "<unrepresentable %s: %s>" % (type(v).__name__, e)
    if len(r) > 2000:
        r = r[:2000] + "..."
    return {"__repr__": r}


def td_seconds(td):
    return None if td is None else float(td.total_seconds())


def iso(d):
    if d is None:
        return None
    if isinstance(d, _dt.datetime):
        if d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        return _dt.datetime.isoformat(d)
    return d.isoformat()


def encode(v, depth=0):
    """Plain JSON for ``v``, with the tagged objects of PROTOCOL.md where needed."""
    if v is None or v is True or v is False:
        return v
    t = type(v)
    if t is str or t is int:
        return v
    if t is float:
        return v if _math.isfinite(v) else _repr(v)
    if depth > _MAX_DEPTH:
        return _repr(v)
    if t is list or t is tuple:
        return [encode(x, depth + 1) for x in v]
    if t is dict:
        return {(k if type(k) is str else str(encode(k, depth + 1))): encode(x, depth + 1)
                for k, x in v.items()}
    if isinstance(v, _enum.Enum):
        return encode(v.value, depth + 1)
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return encode(float(v), depth)
    if isinstance(v, _dt.datetime):
        return {"__datetime__": iso(v)}
    if isinstance(v, _dt.date):
        return {"__date__": v.isoformat()}
    if isinstance(v, _dt.time):
        return {"__time__": v.isoformat()}
    if isinstance(v, _dt.timedelta):
        return {"__timedelta__": float(v.total_seconds())}
    mod = t.__module__ or ""
    if mod.startswith("airflow."):
        tagged = _encode_airflow(v, depth)
        if tagged is not _UNHANDLED:
            return tagged
    if isinstance(v, dict):
        return {(k if type(k) is str else str(encode(k, depth + 1))): encode(x, depth + 1)
                for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [encode(x, depth + 1) for x in v]
    if isinstance(v, (set, frozenset)):
        items = [encode(x, depth + 1) for x in v]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(v, bytes):
        return _repr(v)
    if isinstance(v, type) or (callable(v) and hasattr(v, "__qualname__")):
        return _callable_tag(v)
    if hasattr(v, "__func__") and callable(v):
        return _callable_tag(v)
    return _repr(v)


def _encode_airflow(v, depth):
    from airflow.sdk.definitions._internal.types import ArgNotSet
    from airflow.sdk.definitions.param import DagParam, Param
    from airflow.sdk.definitions.xcom_arg import (
        ConcatXComArg,
        MapXComArg,
        PlainXComArg,
        ZipXComArg,
    )

    if isinstance(v, ArgNotSet):
        return None
    if isinstance(v, PlainXComArg):
        return {"__xcomarg__": {"task_id": v.operator.task_id, "key": v.key}}
    if isinstance(v, MapXComArg):
        base = encode(v.arg, depth + 1)
        if isinstance(base, dict) and "__xcomarg__" in base:
            inner = dict(base["__xcomarg__"])
            inner["map"] = inner.get("map", []) + [_callable_tag(c) for c in v.callables]
            return {"__xcomarg__": inner}
        return base
    if isinstance(v, (ZipXComArg, ConcatXComArg)):
        first = encode(v.args[0], depth + 1)
        inner = dict(first.get("__xcomarg__", {})) if isinstance(first, dict) else {}
        key = "zip" if isinstance(v, ZipXComArg) else "concat"
        inner[key] = [encode(a, depth + 1) for a in v.args[1:]]
        return {"__xcomarg__": inner}
    from airflow.sdk.definitions.taskgroup import MappedArgument

    if isinstance(v, MappedArgument):
        gid = v.group.group_id if v.group is not None else None
        return {"__mapped_arg__": {"group_id": gid, "key": v._key}}
    if isinstance(v, DagParam):
        return {"__dagparam__": {"name": v._name, "default": encode(v._default, depth + 1)}}
    if isinstance(v, Param):
        return encode(v.value, depth + 1)
    return _UNHANDLED


# -- DAG / TASK ------------------------------------------------------------------------------
def op_kind(cls):
    """Leoflow kind of an operator class: the shim ancestor's kind, or "other" when a user
    class in between overrides ``execute``."""
    for klass in cls.__mro__:
        mod = klass.__module__ or ""
        if mod == "airflow" or mod.startswith("airflow."):
            return klass.__dict__.get("_lf_kind") or getattr(klass, "_lf_kind", "other")
        if "execute" in klass.__dict__:
            return "other"
    return "other"


def _arg_names(cls):
    names = []
    for klass in reversed(cls.__mro__):
        for n in klass.__dict__.get("_lf_args", ()):
            if n not in names:
                names.append(n)
    return names


def masked(value):
    """A secret argument (``private_environment``): its keys stay visible, every value is
    ``{"__repr__": "***"}``; never the plain secret."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {(k if type(k) is str else str(k)): {"__repr__": "***"} for k in value}
    return {"__repr__": "***"}


def _arg_encoder(cls):
    """``encode``, or the operator class's ``_lf_arg_json(name, value)`` when it has one."""
    hook = getattr(cls, "_lf_arg_json", None)
    if hook is None:
        return lambda _name, value: encode(value)
    return hook


def task_args(task):
    from airflow.sdk.bases.operator import BASE_ARGS

    if task.is_mapped:
        arg = _arg_encoder(task.operator_class)
        out = {}
        if task._lf_decorated:
            out["python_callable"] = encode(task.python_callable)
            out["op_args"] = []
            out["op_kwargs"] = encode(task.op_kwargs_partial)
        for k, v in task.partial_kwargs.items():
            if k not in BASE_ARGS and k not in out:
                out[k] = arg(k, v)
        return out
    arg = _arg_encoder(type(task))
    out = {}
    skip = {"kwargs_to_upstream"}
    for n in _arg_names(type(task)):
        out[n] = arg(n, getattr(task, n, None))
    for k, v in task.__dict__.get("_lf_init_kwargs", {}).items():
        if k not in BASE_ARGS and k not in out and k not in skip:
            out[k] = arg(k, v)
    for f in task.template_fields:
        if f not in out:
            out[f] = arg(f, getattr(task, f, None))
    return out


def _mapped(task):
    if not task.is_mapped:
        return None
    from airflow.sdk.bases.operator import BASE_ARGS

    if task._lf_decorated:
        partial = encode(task.op_kwargs_partial)
        expand = encode(task._lf_expand) if task._lf_expand is not None else {}
    else:
        arg = _arg_encoder(task.operator_class)
        partial = {k: arg(k, v) for k, v in task.partial_kwargs.items() if k not in BASE_ARGS}
        expand = {}
        for k, v in (task._lf_expand or {}).items():
            expand[k] = [arg(k, x) for x in v] if isinstance(v, (list, tuple)) else encode(v)
    return {
        "expand": expand,
        "expand_kwargs": encode(task._lf_expand_kwargs)
        if task._lf_expand_kwargs is not None else None,
        "partial": partial,
    }


def task_image(task):
    """The image a task asked to run in: ``executor_config={"image": ...}`` or Airflow's older
    ``{"KubernetesExecutor": {"image": ...}}``; None otherwise."""
    if task.is_mapped:
        config = task.partial_kwargs.get("executor_config")
    else:
        config = getattr(task, "executor_config", None)
    if not isinstance(config, dict):
        return None
    image = config.get("image")
    legacy = config.get("KubernetesExecutor")
    if image is None and isinstance(legacy, dict):
        image = legacy.get("image")
    return image if isinstance(image, str) and image else None


def _lineage(task, name):
    items = getattr(task, name, None)
    return items if isinstance(items, (list, tuple)) else []


def _asset_uris(items):
    out = []
    for a in items or ():
        uri = getattr(a, "uri", None)
        if isinstance(uri, str):
            out.append(uri)
        elif isinstance(a, str):
            out.append(a)
    return out


def _asset_defs(items):
    """Task inlets/outlets as PROTOCOL.md ASSET_LIKE objects (other lineage objects left out)."""
    from airflow.timetables.simple import asset_json

    out = []
    for a in items or ():
        j = asset_json(a)
        if j is not None:
            out.append(j)
    return out


def _mapped_group_id(task):
    g = task.get_closest_mapped_task_group()
    return g.group_id if g is not None else None


def _group_mapping(g):
    """A mapped task group's expand input, in the shape of TASK ``mapped``."""
    if not getattr(g, "is_mapped", False):
        return None
    return {
        "expand": encode(g._lf_expand) if g._lf_expand is not None else {},
        "expand_kwargs": encode(g._lf_expand_kwargs)
        if g._lf_expand_kwargs is not None else None,
        "partial": {},
    }


def _weight_rule(rule):
    from airflow.task.priority_strategy import PriorityWeightStrategy

    if isinstance(rule, PriorityWeightStrategy):
        return "%s.%s" % (type(rule).__module__, type(rule).__qualname__)
    return str(getattr(rule, "value", rule))


def _priority_weight(task):
    """The task's priority weight; a custom strategy (plugin) evaluated for the first try."""
    from airflow.task.priority_strategy import PriorityWeightStrategy, parse_time_weight

    if isinstance(task.weight_rule, PriorityWeightStrategy):
        return parse_time_weight(task.weight_rule, task)
    return task.priority_weight


def task_to_json(task, dag):
    cls = task.operator_class if task.is_mapped else type(task)
    tg = task.task_group
    tg_id = tg.group_id if tg is not None else None
    upstream = sorted(task.upstream_task_ids)
    labels = {}
    for up in upstream:
        info = dag.edge_info.get(up, {}).get(task.task_id)
        if info and info.get("label") is not None:
            labels[up] = str(info["label"])
    owner = task.owner
    return {
        "task_id": task.task_id,
        "operator": cls.__name__,
        "kind": op_kind(cls),
        "task_group": tg_id,
        "lineno": task._lf_lineno,
        "upstream": upstream,
        "edge_labels": labels,
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
        "retries": task.retries,
        "retry_delay": td_seconds(task.retry_delay),
        "retry_exponential_backoff": bool(task.retry_exponential_backoff),
        "max_retry_delay": td_seconds(task.max_retry_delay),
        "execution_timeout": td_seconds(task.execution_timeout),
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "priority_weight": _priority_weight(task),
        "weight_rule": _weight_rule(task.weight_rule),
        "queue": task.queue,
        "owner": owner if isinstance(owner, str) else str(owner),
        "do_xcom_push": bool(task.do_xcom_push),
        "multiple_outputs": bool(task.multiple_outputs),
        "depends_on_past": bool(task.depends_on_past),
        "doc_md": task.doc_md if isinstance(task.doc_md, str) or task.doc_md is None
        else str(task.doc_md),
        "template_fields": list(task.template_fields),
        "args": task_args(task),
        "mapped": _mapped(task),
        # -- extension keys (see PROTOCOL.md) --
        "operator_name": getattr(cls, "custom_operator_name", None) or cls.__name__,
        "operator_module": cls.__module__,
        "ui_color": cls.ui_color,
        "ui_fgcolor": cls.ui_fgcolor,
        "wait_for_downstream": bool(getattr(task, "wait_for_downstream", False)),
        "is_setup": bool(task.is_setup),
        "is_teardown": bool(task.is_teardown),
        "on_failure_fail_dagrun": bool(getattr(task, "on_failure_fail_dagrun", False)),
        "mapped_group": _mapped_group_id(task),
        "max_active_tis_per_dag": getattr(task, "max_active_tis_per_dag", None),
        "max_active_tis_per_dagrun": getattr(task, "max_active_tis_per_dagrun", None),
        "map_index_template": getattr(task, "map_index_template", None),
        "start_date": iso(getattr(task, "start_date", None))
        if isinstance(getattr(task, "start_date", None), _dt.datetime) else None,
        "inlets": _asset_uris(getattr(task, "inlets", None)),
        "outlets": _asset_uris(getattr(task, "outlets", None)),
        "inlet_assets": _asset_defs(_lineage(task, "inlets")),
        "outlet_assets": _asset_defs(_lineage(task, "outlets")),
        "image": task_image(task),
        "extra_links": _extra_links(task),
    }


def _extra_links(task):
    """The names of the operator's extra links (``operator_extra_links``), sorted."""
    names = set()
    for link in getattr(task, "operator_extra_links", None) or ():
        name = getattr(link, "name", None)
        if isinstance(name, str) and name:
            names.add(name)
    return sorted(names)


def _default_args(default_args):
    out = encode(default_args)
    if "private_environment" in default_args:
        out["private_environment"] = masked(default_args["private_environment"])
    return out


def params_to_json(params):
    out = {}
    for name, p in params.items_params():
        out[name] = {
            "value": encode(p.value),
            "schema": encode(p.schema),
            "description": p.description if p.description is None else str(p.description),
        }
    return out


def dag_to_json(dag):
    from airflow.sdk.timezone import tz_name

    tz = tz_name(dag.timezone)
    start = dag.start_date or dag.default_args.get("start_date")
    end = dag.end_date or dag.default_args.get("end_date")
    owner = dag.default_args.get("owner") or "airflow"
    groups = []
    for g in dag.task_group.iter_task_groups():
        parent = g.parent_group
        groups.append({
            "group_id": g.group_id,
            "parent": parent.group_id if parent is not None and not parent.is_root else None,
            "tooltip": g.tooltip if isinstance(g.tooltip, str) else str(g.tooltip),
            "prefix_group_id": bool(g.prefix_group_id),
            "ui_color": g.ui_color,
            "ui_fgcolor": g.ui_fgcolor,
            "mapped": _group_mapping(g),
        })
    return {
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "lineno": dag._lf_lineno,
        "description": dag.description,
        "doc_md": dag.doc_md,
        "owner": owner if isinstance(owner, str) else str(owner),
        "tags": sorted(dag.tags),
        "schedule": dag.timetable._lf_schedule(tz),
        "timetable_summary": dag.timetable.summary,
        "start_date": iso(start) if isinstance(start, _dt.datetime) else None,
        "end_date": iso(end) if isinstance(end, _dt.datetime) else None,
        "timezone": tz,
        "catchup": bool(dag.catchup),
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "max_consecutive_failed_dag_runs": dag.max_consecutive_failed_dag_runs,
        "dagrun_timeout": td_seconds(dag.dagrun_timeout),
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "render_template_as_native_obj": bool(dag.render_template_as_native_obj),
        "default_args": _default_args(dag.default_args),
        "params": params_to_json(dag.params),
        "task_groups": groups,
        "tasks": [task_to_json(t, dag) for t in dag.task_dict.values()],
        # -- extension keys (see PROTOCOL.md) --
        "dag_display_name": dag.dag_display_name,
        "owner_links": encode(dag.owner_links),
        "fail_fast": bool(dag.fail_fast),
        "template_searchpath": encode(dag.template_searchpath),
        "has_on_success_callback": dag.on_success_callback is not None,
        "has_on_failure_callback": dag.on_failure_callback is not None,
    }
