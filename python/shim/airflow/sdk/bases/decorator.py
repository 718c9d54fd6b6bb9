"""TaskFlow machinery: ``DecoratedOperator``, ``_TaskDecorator``, ``task_decorator_factory``."""
import re

from airflow.sdk.bases.operator import BaseOperator, get_merged_defaults
from airflow.sdk.definitions._internal.types import NOTSET
from leoflow_rt import registry

KNOWN_CONTEXT_KEYS = frozenset((
    "conn", "dag", "dag_run", "data_interval_end", "data_interval_start", "ds", "ds_nodash",
    "exception", "expanded_ti_count", "inlets", "inlet_events", "logical_date", "macros",
    "map_index_template", "outlets", "outlet_events", "params",
    "prev_data_interval_start_success", "prev_data_interval_end_success",
    "prev_start_date_success", "prev_end_date_success", "reason", "run_id", "start_date",
    "task", "task_reschedule_count", "task_instance", "task_instance_key_str", "test_mode",
    "templates_dict", "ti", "triggering_asset_events", "try_number", "ts", "ts_nodash",
    "ts_nodash_with_tz", "var",
))


def get_unique_task_id(task_id, dag=None, task_group=None):
    """``name``, or ``name__1``, ``name__2``... when the id is already used in the DAG."""
    dag = dag or registry.current_dag()
    if dag is None:
        return task_id
    task_group = task_group or registry.current_group(dag)
    tg_task_id = task_group.child_id(task_id) if task_group is not None else task_id
    if tg_task_id not in dag.task_dict:
        return task_id
    prefix = re.split(r"__\d+$", tg_task_id)[0]
    pat = re.compile(r"^%s__(\d+)$" % re.escape(prefix))
    suffixes = [0]
    for tid in dag.task_dict:
        m = pat.match(tid)
        if m:
            suffixes.append(int(m.group(1)))
    core = re.split(r"__\d+$", task_id)[0]
    return "%s__%d" % (core, max(suffixes) + 1)


def check_callable_signature(python_callable, op_args, op_kwargs):
    """Bind the call like Airflow does (context keys may be omitted; they default to None)."""
    from leoflow_rt.sigbind import bind, defaults_of

    try:
        defaults = defaults_of(python_callable)
    except (TypeError, ValueError):
        return
    for name, default in defaults.items():
        if name in KNOWN_CONTEXT_KEYS and default is not None:
            raise ValueError("Context key parameter %s can't have a default other than None"
                             % name)
    try:
        bind(python_callable, op_args, op_kwargs, optional=KNOWN_CONTEXT_KEYS)
    except ValueError:
        return


class DecoratedOperator(BaseOperator):
    """Wraps a Python callable and captures args/kwargs when called for execution."""

    template_fields = ("op_args", "op_kwargs")
    template_fields_renderers = {"op_args": "py", "op_kwargs": "py"}
    shallow_copy_attrs = ("python_callable",)

    def __init__(self, *, python_callable, task_id, op_args=None, op_kwargs=None,
                 kwargs_to_upstream=None, **kwargs):
        task_id = get_unique_task_id(task_id, kwargs.get("dag"), kwargs.get("task_group"))
        self.python_callable = python_callable
        kwargs_to_upstream = kwargs_to_upstream or {}
        op_args = list(op_args or [])
        op_kwargs = dict(op_kwargs or {})
        check_callable_signature(python_callable, op_args, op_kwargs)
        self.op_args = op_args
        self.op_kwargs = op_kwargs
        super().__init__(task_id=task_id, **kwargs_to_upstream, **kwargs)


def _infer_multiple_outputs(function):
    """True when the return annotation is a Mapping type (``-> dict``, ``-> dict[str, int]``).

    String annotations (``from __future__ import annotations``) are evaluated in the
    function's globals, which avoids importing ``typing`` for the common cases."""
    ann = getattr(function, "__annotations__", None) or {}
    if "return" not in ann:
        return False
    rt = ann["return"]
    if isinstance(rt, str):
        try:
            rt = eval(rt, getattr(function, "__globals__", {}))  # noqa: S307 - like get_type_hints
        except Exception:  # noqa: BLE001
            return False
    ttype = getattr(rt, "__origin__", rt)
    if not isinstance(ttype, type):
        return False
    if ttype is dict or issubclass(ttype, dict):
        return True
    from collections.abc import Mapping

    try:
        return issubclass(ttype, Mapping)
    except TypeError:
        return False


class _TaskDecorator:
    """What ``@task`` returns: call it inside a DAG to create a task (returns an XComArg)."""

    _airflow_is_task_decorator = True

    def __init__(self, function, operator_class, multiple_outputs=NOTSET, kwargs=None,
                 decorator_name="task"):
        if not callable(function):
            raise TypeError("`python_callable` param must be callable")
        self.function = function
        self.operator_class = operator_class
        self.kwargs = dict(kwargs or {})
        self.decorator_name = decorator_name
        self.kwargs.setdefault("task_id", getattr(function, "__name__", "task"))
        if multiple_outputs is NOTSET or multiple_outputs is None:
            multiple_outputs = _infer_multiple_outputs(function)
        self.multiple_outputs = multiple_outputs
        self.is_setup = False
        self.is_teardown = False
        self.on_failure_fail_dagrun = False
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                setattr(self, attr, getattr(function, attr))
            except AttributeError:
                pass
        self.__wrapped__ = function

    def __repr__(self):
        return "<%s %s>" % (self.decorator_name, getattr(self.function, "__qualname__", "?"))

    def _copy(self, **changes):
        new = _TaskDecorator.__new__(_TaskDecorator)
        new.__dict__.update(self.__dict__)
        new.kwargs = dict(self.kwargs)
        new.__dict__.update(changes)
        return new

    # -- calling -----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        from airflow.sdk.definitions.xcom_arg import XComArg
        from airflow.utils.trigger_rule import TriggerRule

        task_kwargs = dict(self.kwargs)
        if self.is_teardown:
            if "trigger_rule" in task_kwargs:
                raise ValueError("Trigger rule not configurable for teardown tasks.")
            task_kwargs["trigger_rule"] = TriggerRule.ALL_DONE_SETUP_SUCCESS
        on_failure_fail_dagrun = task_kwargs.pop("on_failure_fail_dagrun",
                                                 self.on_failure_fail_dagrun)
        partial_op_kwargs = task_kwargs.pop("op_kwargs", None)
        if partial_op_kwargs:
            kwargs = dict(partial_op_kwargs, **kwargs)
        op = self.operator_class(python_callable=self.function, op_args=args, op_kwargs=kwargs,
                                 multiple_outputs=self.multiple_outputs, **task_kwargs)
        op.is_setup = self.is_setup
        op.is_teardown = self.is_teardown
        op.on_failure_fail_dagrun = on_failure_fail_dagrun
        if (self.is_setup or self.is_teardown) and registry.setup_teardown_stack:
            registry.st_unregister(op)
        doc = getattr(self.function, "__doc__", None)
        if doc and not any((op.doc, op.doc_json, op.doc_md, op.doc_rst, op.doc_yaml)):
            op.doc_md = doc
        return XComArg(op)

    def override(self, **kwargs):
        changes = {}
        if "multiple_outputs" in kwargs:
            changes["multiple_outputs"] = kwargs.pop("multiple_outputs")
        new = self._copy(**changes)
        new.kwargs.update(kwargs)
        return new

    # -- mapping -----------------------------------------------------------------------------
    def _validate_arg_names(self, func, kwargs):
        from airflow.sdk.definitions.mappedoperator import is_mappable
        from leoflow_rt.sigbind import param_names

        mapped_ctx = KNOWN_CONTEXT_KEYS.intersection(kwargs)
        if len(mapped_ctx) == 1:
            raise ValueError("cannot call %s() on task context variable %r"
                             % (func, next(iter(mapped_ctx))))
        if mapped_ctx:
            raise ValueError("cannot call %s() on task context variables %s"
                             % (func, ", ".join(repr(n) for n in sorted(mapped_ctx))))
        try:
            pos, kwonly, _va, varkw = param_names(self.function)
        except (TypeError, ValueError):
            return
        if varkw:
            return
        left = dict(kwargs)
        for name in tuple(pos) + tuple(kwonly):
            value = left.pop(name, NOTSET)
            if func == "expand" and value is not NOTSET and not is_mappable(value):
                raise ValueError("expand() got an unexpected type %r for keyword argument %r"
                                 % (type(value).__name__, name))
        if len(left) == 1:
            raise TypeError("%s() got an unexpected keyword argument %r" % (func, next(iter(left))))
        if left:
            raise TypeError("%s() got unexpected keyword arguments %s"
                            % (func, ", ".join(repr(n) for n in left)))

    def partial(self, **kwargs):
        from airflow.sdk.definitions.mappedoperator import prevent_duplicates

        self._validate_arg_names("partial", kwargs)
        old = self.kwargs.get("op_kwargs", {})
        prevent_duplicates(old, kwargs, fail_reason="duplicate partial")
        kwargs.update(old)
        new = self._copy()
        new.kwargs["op_kwargs"] = kwargs
        return new

    def expand(self, **map_kwargs):
        from airflow.sdk.definitions.mappedoperator import prevent_duplicates
        from airflow.sdk.definitions.xcom_arg import XComArg

        if not map_kwargs:
            raise TypeError("no arguments to expand against")
        if str(self.kwargs.get("trigger_rule")) == "always" and any(
                isinstance(v, XComArg) for v in map_kwargs.values()):
            raise ValueError("Task-generated mapping within a task using 'expand' is not allowed "
                             "with trigger rule 'always'.")
        self._validate_arg_names("expand", map_kwargs)
        prevent_duplicates(self.kwargs.get("op_kwargs", {}), map_kwargs,
                           fail_reason="mapping already partial")
        return self._expand(expand=map_kwargs, expand_kwargs=None)

    def expand_kwargs(self, kwargs, *, strict=True):
        from airflow.sdk.definitions.xcom_arg import XComArg

        if isinstance(kwargs, (list, tuple)):
            for item in kwargs:
                if not isinstance(item, (XComArg, dict)):
                    raise TypeError("expected XComArg or list[dict], not %s"
                                    % type(kwargs).__name__)
        elif not isinstance(kwargs, XComArg):
            raise TypeError("expected XComArg or list[dict], not %s" % type(kwargs).__name__)
        return self._expand(expand=None, expand_kwargs=kwargs)

    def _expand(self, expand, expand_kwargs):
        from airflow.sdk.bases.operator import BASE_ARGS
        from airflow.sdk.definitions.mappedoperator import (
            MappedOperator,
            ensure_xcomarg_return_value,
        )
        from airflow.sdk.definitions.xcom_arg import XComArg

        ensure_xcomarg_return_value(expand if expand is not None else expand_kwargs)
        task_kwargs = dict(self.kwargs)
        dag = task_kwargs.pop("dag", None) or registry.current_dag()
        task_group = task_kwargs.pop("task_group", None)
        if task_group is None and dag is not None:
            task_group = registry.current_group(dag)
        default_args, params = get_merged_defaults(
            dag, task_group, task_kwargs.pop("params", None), task_kwargs.pop("default_args", None))
        op_kwargs_partial = task_kwargs.pop("op_kwargs", {})
        partial_kwargs = {"is_setup": self.is_setup, "is_teardown": self.is_teardown,
                          "on_failure_fail_dagrun": self.on_failure_fail_dagrun}
        for k, v in default_args.items():
            if k in BASE_ARGS and k not in task_kwargs:
                partial_kwargs[k] = v
        partial_kwargs.update(task_kwargs)
        task_id = get_unique_task_id(partial_kwargs.pop("task_id"), dag, task_group)
        if task_group is not None:
            task_id = task_group.child_id(task_id)
        op = MappedOperator(
            operator_class=self.operator_class, partial_kwargs=partial_kwargs, expand=expand,
            expand_kwargs=expand_kwargs, task_id=task_id, dag=dag, task_group=task_group,
            params=params, lineno=registry.caller_lineno(), python_callable=self.function,
            op_kwargs_partial=op_kwargs_partial, multiple_outputs=self.multiple_outputs)
        doc = getattr(self.function, "__doc__", None)
        if doc and not op.doc_md:
            op.doc_md = doc
        return XComArg(op)


def task_decorator_factory(python_callable=None, *, multiple_outputs=None,
                           decorated_operator_class, decorator_name="task", **kwargs):
    """Build a TaskFlow decorator for ``decorated_operator_class``."""
    if python_callable is not None and not callable(python_callable):
        raise TypeError("No args allowed while using @task, use kwargs instead")
    mo = NOTSET if multiple_outputs is None else multiple_outputs

    if python_callable is not None:
        return _TaskDecorator(python_callable, decorated_operator_class, mo, kwargs,
                              decorator_name)

    def decorator_factory(fn):
        return _TaskDecorator(fn, decorated_operator_class, mo, kwargs, decorator_name)

    return decorator_factory


# Airflow name of the TaskDecorator protocol
TaskDecorator = _TaskDecorator


class KeywordParameters:
    """The keyword arguments a callable accepts out of a context (Airflow's helper)."""

    def __init__(self, kwargs):
        self._kwargs = kwargs

    @classmethod
    def determine(cls, func, args, kwargs):
        import inspect
        import itertools

        signature = inspect.signature(func)
        has_wildcard_kwargs = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
        for name, param in itertools.islice(signature.parameters.items(), len(args)):
            if param.kind == inspect.Parameter.VAR_POSITIONAL:
                break
            if param.kind == inspect.Parameter.VAR_KEYWORD:
                continue
            if name in kwargs:
                raise ValueError("The key %r in args is a part of kwargs and therefore reserved."
                                 % name)
        if has_wildcard_kwargs:
            return cls(kwargs)
        return cls({key: kwargs[key] for key in signature.parameters if key in kwargs})

    def unpacking(self):
        return self._kwargs


def determine_kwargs(func, args, kwargs):
    return KeywordParameters.determine(func, args, kwargs).unpacking()


def __getattr__(name):
    if name == "DecoratedMappedOperator":
        from airflow.sdk.definitions.mappedoperator import MappedOperator

        return MappedOperator
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
