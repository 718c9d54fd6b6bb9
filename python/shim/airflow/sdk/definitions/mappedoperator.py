"""Dynamic task mapping: ``Op.partial(...).expand(...)`` / ``.expand_kwargs(...)``.

Mapping is recorded, never expanded at parse time; ``MappedOperator.unmap(kwargs)`` builds the
real operator for one map index at run time.
"""
from airflow.sdk.bases.operator import (
    BASE_ARGS,
    coerce_timedelta,
    get_merged_defaults,
    parse_retries,
    validate_trigger_rule,
    validate_weight_rule,
)
from airflow.sdk.definitions._internal.abstractoperator import (
    DEFAULT_OWNER,
    DEFAULT_POOL_SLOTS,
    DEFAULT_PRIORITY_WEIGHT,
    DEFAULT_QUEUE,
    DEFAULT_RETRIES,
    DEFAULT_TRIGGER_RULE,
    DEFAULT_WEIGHT_RULE,
    AbstractOperator,
)
from airflow.sdk.definitions._internal.node import validate_key
from airflow.sdk.definitions._internal.types import NOTSET
from leoflow_rt import registry


def is_mappable(v):
    from airflow.sdk.definitions.xcom_arg import XComArg

    return isinstance(v, (XComArg, dict, list, tuple)) and not isinstance(v, str)


def validate_mapping_kwargs(op_class, func, value):
    unknown = dict(value)
    for klass in op_class.__mro__:
        names = getattr(klass.__dict__.get("__init__"), "__lf_param_names__", None)
        if names is None:
            continue
        for name in names:
            v = unknown.pop(name, NOTSET)
            if func != "expand" or v is NOTSET or is_mappable(v):
                continue
            raise ValueError("%s.expand() got an unexpected type %r for keyword argument %s"
                             % (op_class.__name__, type(v).__name__, name))
        if not unknown:
            return
    if not unknown:
        return
    if len(unknown) == 1:
        error = "an unexpected keyword argument %r" % (next(iter(unknown)),)
    else:
        error = "unexpected keyword arguments %s" % ", ".join(repr(n) for n in unknown)
    raise TypeError("%s.%s() got %s" % (op_class.__name__, func, error))


def prevent_duplicates(kwargs1, kwargs2, fail_reason):
    dup = set(kwargs1).intersection(kwargs2)
    if not dup:
        return
    if len(dup) == 1:
        raise TypeError("%s argument: %s" % (fail_reason, dup.pop()))
    raise TypeError("%s arguments: %s" % (fail_reason, ", ".join(sorted(dup))))


def ensure_xcomarg_return_value(arg):
    from airflow.sdk.definitions.xcom_arg import XCOM_RETURN_KEY, XComArg

    if isinstance(arg, XComArg):
        for operator, key in arg.iter_references():
            if key != XCOM_RETURN_KEY:
                raise ValueError("cannot map over XCom with custom key %r from %s"
                                 % (key, operator))
    elif isinstance(arg, dict):
        for v in arg.values():
            ensure_xcomarg_return_value(v)
    elif isinstance(arg, (list, tuple)):
        for v in arg:
            ensure_xcomarg_return_value(v)


class OperatorPartial:
    """The result of ``Op.partial(...)``: call ``.expand()`` or ``.expand_kwargs()`` on it."""

    @classmethod
    def create(cls, operator_class, kwargs):
        kwargs = dict(kwargs)
        if "task_id" not in kwargs:
            raise TypeError("partial() missing 1 required keyword-only argument: 'task_id'")
        validate_mapping_kwargs(operator_class, "partial",
                                {k: v for k, v in kwargs.items() if k not in BASE_ARGS})
        task_id = kwargs.pop("task_id")
        validate_key(task_id)
        dag = kwargs.pop("dag", None) or registry.current_dag()
        task_group = kwargs.pop("task_group", None)
        if task_group is None and dag is not None:
            task_group = registry.current_group(dag)
        default_args, params = get_merged_defaults(
            dag, task_group, kwargs.pop("params", None), kwargs.pop("default_args", None))
        op_names = set()
        for klass in operator_class.__mro__:
            op_names.update(getattr(klass.__dict__.get("__init__"), "__lf_param_names__", ()))
        for k, v in default_args.items():
            if k not in kwargs and (k in BASE_ARGS or k in op_names) and k not in (
                    "task_id", "dag", "task_group"):
                kwargs[k] = v
        self = cls()
        self.operator_class = operator_class
        self.kwargs = kwargs
        self.task_id = task_group.child_id(task_id) if task_group is not None else task_id
        self.dag = dag
        self.task_group = task_group
        self.params = params
        self._lf_lineno = registry.caller_lineno()
        return self

    def __repr__(self):
        return "%s.partial(task_id=%r)" % (self.operator_class.__name__, self.task_id)

    def expand(self, **mapped_kwargs):
        if not mapped_kwargs:
            raise TypeError("no arguments to expand against")
        validate_mapping_kwargs(self.operator_class, "expand", mapped_kwargs)
        prevent_duplicates(self.kwargs, mapped_kwargs, fail_reason="unmappable or already specified")
        ensure_xcomarg_return_value(mapped_kwargs)
        return self._expand(expand=mapped_kwargs, expand_kwargs=None)

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
        return MappedOperator(
            operator_class=self.operator_class, partial_kwargs=self.kwargs, expand=expand,
            expand_kwargs=expand_kwargs, task_id=self.task_id, dag=self.dag,
            task_group=self.task_group, params=self.params, lineno=self._lf_lineno)


class MappedOperator(AbstractOperator):
    """A task expanded at run time into one task instance per mapped value."""

    is_mapped = True

    def __init__(self, *, operator_class, partial_kwargs, expand, expand_kwargs, task_id, dag,
                 task_group, params, lineno, python_callable=None, op_kwargs_partial=None,
                 multiple_outputs=False):
        check = getattr(operator_class, "_lf_check_kwargs", None)
        if check is not None:  # an operator refusing some values (DockerOperator)
            check(partial_kwargs)
            for k, v in (expand or {}).items():
                for item in v if isinstance(v, (list, tuple)) else ():
                    check({k: item})
        self.operator_class = operator_class
        self.partial_kwargs = dict(partial_kwargs)
        self.expand_input = expand if expand is not None else expand_kwargs
        self.expand_input_type = "dict-of-lists" if expand is not None else "list-of-dicts"
        self._lf_expand = expand
        self._lf_expand_kwargs = expand_kwargs
        self._lf_lineno = lineno if lineno is not None else registry.caller_lineno()
        self.python_callable = python_callable
        self._lf_decorated = python_callable is not None
        self.op_kwargs_partial = dict(op_kwargs_partial or {})
        self.template_fields = operator_class.template_fields
        self.template_ext = operator_class.template_ext
        self.ui_color = operator_class.ui_color
        self.ui_fgcolor = operator_class.ui_fgcolor
        self.custom_operator_name = getattr(operator_class, "custom_operator_name", None)
        self.params = params
        pk = self.partial_kwargs
        self.owner = pk.get("owner", DEFAULT_OWNER)
        self.retries = parse_retries(pk.get("retries", DEFAULT_RETRIES))
        self.retry_delay = coerce_timedelta(pk.get("retry_delay", 300))
        self.retry_exponential_backoff = pk.get("retry_exponential_backoff", 0)
        self.max_retry_delay = coerce_timedelta(pk.get("max_retry_delay"))
        self.execution_timeout = pk.get("execution_timeout")
        self.pool = pk.get("pool") or "default_pool"
        self.pool_slots = pk.get("pool_slots", DEFAULT_POOL_SLOTS)
        if self.pool_slots < 1:
            raise ValueError("pool slots for %s cannot be less than 1" % task_id)
        self.priority_weight = pk.get("priority_weight", DEFAULT_PRIORITY_WEIGHT)
        self.weight_rule = validate_weight_rule(pk.get("weight_rule", DEFAULT_WEIGHT_RULE))
        self.queue = pk.get("queue", DEFAULT_QUEUE)
        self.wait_for_downstream = bool(pk.get("wait_for_downstream", False))
        self.depends_on_past = bool(pk.get("depends_on_past", False)) or self.wait_for_downstream
        self.do_xcom_push = pk.get("do_xcom_push", True)
        self.multiple_outputs = multiple_outputs or pk.get("multiple_outputs", False)
        self.doc_md = pk.get("doc_md")
        self.start_date = pk.get("start_date")
        self.end_date = pk.get("end_date")
        self.inlets = list(pk.get("inlets") or [])
        self.outlets = list(pk.get("outlets") or [])
        self.max_active_tis_per_dag = pk.get("max_active_tis_per_dag")
        self.max_active_tis_per_dagrun = pk.get("max_active_tis_per_dagrun")
        self.map_index_template = pk.get("map_index_template")
        self.is_setup = bool(pk.get("is_setup", False))
        self.is_teardown = bool(pk.get("is_teardown", False))
        self.trigger_rule = validate_trigger_rule(pk.get("trigger_rule", DEFAULT_TRIGGER_RULE),
                                                  dag, task_id)
        self.upstream_task_ids = set()
        self.downstream_task_ids = set()
        self.task_group = None
        self.task_id = task_id
        if task_group is not None:
            task_group.add(self)
            if self.get_closest_mapped_task_group() is not None:
                from leoflow_rt.unsupported import unsupported

                raise unsupported("mapped tasks (.expand) inside a mapped task group (%s in %s)"
                                  % (task_id, self.get_closest_mapped_task_group().group_id))
        if dag is not None:
            self.dag = dag
        if registry.setup_teardown_stack:
            registry.st_register(self)
        from airflow.sdk.definitions.xcom_arg import XComArg

        XComArg.apply_upstream_relationship(self, self.expand_input)
        for k, v in self.partial_kwargs.items():
            if k in self.template_fields or k in ("op_args", "op_kwargs"):
                XComArg.apply_upstream_relationship(self, v)
        XComArg.apply_upstream_relationship(self, self.op_kwargs_partial)

    @property
    def task_type(self):
        return self.operator_class.__name__

    def __repr__(self):
        return "<Mapped(%s): %s>" % (self.task_type, self.task_id)

    def unmap(self, mapped_kwargs):
        """Build the concrete operator for one map index (``mapped_kwargs`` already resolved)."""
        kwargs = {k: v for k, v in self.partial_kwargs.items()
                  if k not in ("dag", "task_group", "is_setup", "is_teardown",
                               "on_failure_fail_dagrun")}
        if self._lf_decorated:
            op_kwargs = dict(self.op_kwargs_partial)
            op_kwargs.update(mapped_kwargs)
            kwargs.update(python_callable=self.python_callable, op_args=[], op_kwargs=op_kwargs,
                          multiple_outputs=self.multiple_outputs)
        else:
            kwargs.update(mapped_kwargs)
        saved = registry.dag_stack[:], registry.group_stack[:]
        del registry.dag_stack[:], registry.group_stack[:]
        try:
            op = self.operator_class(task_id=self.task_id, **kwargs)
        finally:
            registry.dag_stack[:], registry.group_stack[:] = saved
        op.__dict__["_dag"] = self.dag
        return op
