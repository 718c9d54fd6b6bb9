"""``BaseOperator`` (subclassable by users), its defaults machinery, ``chain`` & co."""
import datetime as _dt
import functools

from airflow.sdk.definitions._internal.abstractoperator import (
    DEFAULT_OWNER,
    DEFAULT_POOL_SLOTS,
    DEFAULT_PRIORITY_WEIGHT,
    DEFAULT_QUEUE,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_DELAY_SECONDS,
    DEFAULT_TRIGGER_RULE,
    DEFAULT_WEIGHT_RULE,
    AbstractOperator,
)
from airflow.sdk.definitions._internal.mixins import DependencyMixin
from airflow.sdk.definitions._internal.node import validate_key
from airflow.sdk.definitions._internal.types import NOTSET
from airflow.sdk.exceptions import AirflowException
from leoflow_rt import registry
from leoflow_rt.sigbind import init_params

DEFAULT_RETRY_DELAY = _dt.timedelta(seconds=DEFAULT_RETRY_DELAY_SECONDS)

#: BaseOperator arguments (everything else a subclass receives is an "operator argument").
BASE_ARGS = frozenset((
    "task_id", "owner", "email", "email_on_retry", "email_on_failure", "retries", "retry_delay",
    "retry_exponential_backoff", "max_retry_delay", "start_date", "end_date", "depends_on_past",
    "ignore_first_depends_on_past", "wait_for_past_depends_before_skipping",
    "wait_for_downstream", "dag", "params", "default_args", "priority_weight", "weight_rule",
    "queue", "pool", "pool_slots", "execution_timeout", "on_execute_callback",
    "on_failure_callback", "on_success_callback", "on_retry_callback", "on_skipped_callback",
    "pre_execute", "post_execute", "trigger_rule", "resources", "run_as_user",
    "map_index_template", "max_active_tis_per_dag", "max_active_tis_per_dagrun", "executor",
    "executor_config", "do_xcom_push", "multiple_outputs", "inlets", "outlets", "task_group",
    "doc", "doc_md", "doc_json", "doc_yaml", "doc_rst", "task_display_name", "logger_name",
    "allow_nested_operators", "render_template_as_native_obj", "is_setup", "is_teardown",
    "on_failure_fail_dagrun",
))


def coerce_timedelta(value, key=None):
    if value is None or isinstance(value, _dt.timedelta):
        return value
    return _dt.timedelta(seconds=value)


def parse_retries(retries):
    if retries is None:
        return 0
    if isinstance(retries, bool):
        return int(retries)
    if isinstance(retries, int):
        return retries
    try:
        return int(retries)
    except (TypeError, ValueError):
        raise AirflowException("'retries' type must be int, not %s" % type(retries).__name__) from None


def validate_trigger_rule(trigger_rule, dag, task_id):
    from airflow.utils.trigger_rule import TriggerRule

    if isinstance(trigger_rule, TriggerRule):
        return trigger_rule
    if not TriggerRule.is_valid(trigger_rule):
        raise ValueError(
            "The trigger_rule must be one of %s,'%s.%s'; received '%s'."
            % ([r.value for r in TriggerRule], dag.dag_id if dag is not None else "", task_id,
               trigger_rule))
    return TriggerRule(trigger_rule)


def validate_weight_rule(weight_rule):
    from airflow.task.priority_strategy import PriorityWeightStrategy
    from airflow.utils.weight_rule import WeightRule

    if isinstance(weight_rule, PriorityWeightStrategy):
        return weight_rule
    if isinstance(weight_rule, type) and issubclass(weight_rule, PriorityWeightStrategy):
        return weight_rule()

    if isinstance(weight_rule, WeightRule):
        return weight_rule
    if not WeightRule.is_valid(weight_rule):
        raise ValueError(
            "Unknown priority strategy %r, expected one of %s"
            % (weight_rule, sorted(WeightRule.all_weight_rules())))
    return WeightRule(weight_rule)


def get_merged_defaults(dag, task_group, task_params, task_default_args):
    """(default_args, params) an operator inherits from its DAG, task group and own kwargs."""
    from airflow.sdk.definitions.param import ParamsDict

    if dag is None:
        args, params = {}, ParamsDict()
    else:
        args = dict(dag.default_args)
        params = dag.params.__copy__() if dag.params else ParamsDict()
        if task_group is not None and task_group.default_args:
            args.update(task_group.default_args)
    if task_params:
        if not isinstance(task_params, dict):
            raise TypeError("params must be a mapping, got %s" % type(task_params))
        params.update(task_params)
    if task_default_args:
        if not isinstance(task_default_args, dict):
            raise TypeError("default_args must be a mapping, got %s" % type(task_default_args))
        args.update(task_default_args)
        p = task_default_args.get("params")
        if p:
            params.update(p)
    args.pop("params", None)
    return args, params


def _apply_defaults(func):
    """Airflow's ``apply_defaults``: fill a level's named parameters from merged default_args."""
    names, required = init_params(func)

    @functools.wraps(func)
    def apply_defaults(self, *args, **kwargs):
        if args:
            raise TypeError("Use keyword arguments when initializing operators")
        dag = kwargs.get("dag")
        if dag is None:
            dag = registry.current_dag()
            if dag is not None:
                kwargs["dag"] = dag
        task_group = kwargs.get("task_group")
        if task_group is None:
            task_group = registry.current_group(dag)
            if task_group is not None:
                kwargs["task_group"] = task_group
        if dag is None and task_group is not None and task_group.dag is not None:
            dag = kwargs["dag"] = task_group.dag
        default_args, merged_params = get_merged_defaults(
            dag, task_group, kwargs.pop("params", None), kwargs.pop("default_args", None))
        for arg in names:
            if arg not in kwargs and arg in default_args:
                kwargs[arg] = default_args[arg]
        missing = sorted(required.difference(kwargs))
        if len(missing) == 1:
            raise TypeError("missing keyword argument %r" % (missing[0],))
        if missing:
            raise TypeError("missing keyword arguments %s" % ", ".join(repr(a) for a in missing))
        if merged_params:
            kwargs["params"] = merged_params
        d = self.__dict__
        depth = d.get("_lf_depth", 0)
        d["_lf_depth"] = depth + 1
        try:
            result = func(self, **kwargs, default_args=default_args)
        finally:
            d["_lf_depth"] = depth
        init_kwargs = d.setdefault("_lf_init_kwargs", {})
        init_kwargs.update(kwargs)
        if depth == 0:
            self._set_xcomargs_dependencies()
            d["_lf_instantiated"] = True
        return result

    apply_defaults.__lf_param_names__ = names
    return apply_defaults


class BaseOperatorMeta(type):
    """Wraps every ``__init__`` of the hierarchy with ``_apply_defaults``."""

    def __new__(mcls, name, bases, namespace, **kwargs):
        init = namespace.get("__init__")
        if init is not None and not hasattr(init, "__lf_param_names__"):
            namespace["__init__"] = _apply_defaults(init)
        return super().__new__(mcls, name, bases, namespace, **kwargs)


class BaseOperator(AbstractOperator, metaclass=BaseOperatorMeta):
    """Base class of all operators; subclass it and implement ``execute(context)``."""

    template_fields = ()
    template_ext = ()
    ui_color = "#fff"
    ui_fgcolor = "#000"
    shallow_copy_attrs = ()
    custom_operator_name = None
    #: Leoflow kind of this class (see PROTOCOL.md); user subclasses become "other".
    _lf_kind = "other"
    #: Operator arguments recorded in TASK.args (besides the user's extra kwargs).
    _lf_args = ()

    def __init__(
        self,
        *,
        task_id,
        owner=DEFAULT_OWNER,
        email=None,
        email_on_retry=True,
        email_on_failure=True,
        retries=DEFAULT_RETRIES,
        retry_delay=DEFAULT_RETRY_DELAY,
        retry_exponential_backoff=0,
        max_retry_delay=None,
        start_date=None,
        end_date=None,
        depends_on_past=False,
        ignore_first_depends_on_past=False,
        wait_for_past_depends_before_skipping=False,
        wait_for_downstream=False,
        dag=None,
        params=None,
        default_args=None,
        priority_weight=DEFAULT_PRIORITY_WEIGHT,
        weight_rule=DEFAULT_WEIGHT_RULE,
        queue=DEFAULT_QUEUE,
        pool=None,
        pool_slots=DEFAULT_POOL_SLOTS,
        execution_timeout=None,
        on_execute_callback=None,
        on_failure_callback=None,
        on_success_callback=None,
        on_retry_callback=None,
        on_skipped_callback=None,
        pre_execute=None,
        post_execute=None,
        trigger_rule=DEFAULT_TRIGGER_RULE,
        resources=None,
        run_as_user=None,
        map_index_template=None,
        max_active_tis_per_dag=None,
        max_active_tis_per_dagrun=None,
        executor=None,
        executor_config=None,
        do_xcom_push=True,
        multiple_outputs=False,
        inlets=None,
        outlets=None,
        task_group=None,
        doc=None,
        doc_md=None,
        doc_json=None,
        doc_yaml=None,
        doc_rst=None,
        task_display_name=None,
        logger_name=None,
        allow_nested_operators=True,
        render_template_as_native_obj=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(
                "Invalid arguments were passed to %s (task_id: %s). Invalid arguments were:\n"
                "**kwargs: %s" % (type(self).__name__, task_id, kwargs))
        validate_key(task_id)
        self.__dict__.setdefault("_lf_init_kwargs", {})
        self._dag = None
        self.task_group = None
        self.upstream_task_ids = set()
        self.downstream_task_ids = set()
        self._lf_lineno = registry.caller_lineno()
        self.owner = owner
        self.email = email
        self.email_on_retry = email_on_retry
        self.email_on_failure = email_on_failure
        self.retries = parse_retries(retries)
        self.retry_delay = coerce_timedelta(retry_delay)
        self.retry_exponential_backoff = retry_exponential_backoff
        self.max_retry_delay = coerce_timedelta(max_retry_delay)
        self.start_date = start_date
        self.end_date = end_date
        self.depends_on_past = bool(depends_on_past) or bool(wait_for_downstream)
        self.ignore_first_depends_on_past = ignore_first_depends_on_past
        self.wait_for_past_depends_before_skipping = wait_for_past_depends_before_skipping
        self.wait_for_downstream = wait_for_downstream
        from airflow.sdk.definitions.param import ParamsDict

        self.params = params if isinstance(params, ParamsDict) else ParamsDict(params)
        if not isinstance(priority_weight, int) or isinstance(priority_weight, bool):
            raise TypeError("`priority_weight` for task '%s' only accepts integers, received '%s'."
                            % (task_id, type(priority_weight)))
        self.priority_weight = priority_weight
        self.weight_rule = validate_weight_rule(weight_rule)
        self.queue = queue
        self.pool = "default_pool" if pool is None else pool
        self.pool_slots = pool_slots
        if self.pool_slots < 1:
            raise ValueError("pool slots for %s%s cannot be less than 1" % (
                task_id, " in dag %s" % dag.dag_id if dag is not None else ""))
        if execution_timeout is not None and not isinstance(execution_timeout, _dt.timedelta):
            raise ValueError("execution_timeout must be timedelta object but passed as type: %s"
                             % type(execution_timeout))
        self.execution_timeout = execution_timeout
        self.on_execute_callback = on_execute_callback
        self.on_failure_callback = on_failure_callback
        self.on_success_callback = on_success_callback
        self.on_retry_callback = on_retry_callback
        self.on_skipped_callback = on_skipped_callback
        self._pre_execute_hook = pre_execute
        self._post_execute_hook = post_execute
        self.trigger_rule = validate_trigger_rule(trigger_rule, dag, task_id)
        self.resources = resources
        self.run_as_user = run_as_user
        self.map_index_template = map_index_template
        self.max_active_tis_per_dag = max_active_tis_per_dag
        self.max_active_tis_per_dagrun = max_active_tis_per_dagrun
        self.executor = executor
        self.executor_config = executor_config or {}
        self.do_xcom_push = do_xcom_push
        self.multiple_outputs = multiple_outputs
        self.inlets = as_list(inlets)
        self.outlets = as_list(outlets)
        self.doc = doc
        self.doc_md = doc_md
        self.doc_json = doc_json
        self.doc_yaml = doc_yaml
        self.doc_rst = doc_rst
        self._task_display_name = task_display_name
        self.logger_name = logger_name
        self.allow_nested_operators = allow_nested_operators
        self.render_template_as_native_obj = render_template_as_native_obj
        if task_group is None:
            task_group = registry.current_group(dag)
        if dag is None and task_group is not None:
            dag = task_group.dag
        if task_group is not None:
            self.task_id = task_group.child_id(task_id)
            task_group.add(self)
        else:
            self.task_id = task_id
        if dag is not None:
            self.dag = dag
        if registry.setup_teardown_stack:
            registry.st_register(self)

    @property
    def task_display_name(self):
        return self._task_display_name or self.task_id

    def _set_xcomargs_dependencies(self):
        from airflow.sdk.definitions.xcom_arg import XComArg

        for f in self.template_fields:
            arg = getattr(self, f, NOTSET)
            if arg is not NOTSET:
                XComArg.apply_upstream_relationship(self, arg)

    @classmethod
    def partial(cls, **kwargs):
        """Start a mapped task: ``Op.partial(task_id=..., **fixed).expand(arg=[...])``."""
        from airflow.sdk.definitions.mappedoperator import OperatorPartial

        return OperatorPartial.create(cls, kwargs)

    # -- run time (used by a task runtime, never at parse time) ------------------------------
    def defer(self, *, trigger, method_name, kwargs=None, timeout=None):
        """Airflow's deferral: the task waits for ``trigger`` without a process, then
        ``method_name`` is called. Leoflow Lite runs Human-in-the-loop triggers only."""
        from airflow.sdk.exceptions import TaskDeferred

        raise TaskDeferred(trigger=trigger, method_name=method_name, kwargs=kwargs,
                           timeout=timeout)

    def execute(self, context):
        raise NotImplementedError("%s must implement execute(context)" % type(self).__name__)

    def pre_execute(self, context):
        if self._pre_execute_hook is not None:
            self._pre_execute_hook(context)

    def post_execute(self, context, result=None):
        if self._post_execute_hook is not None:
            self._post_execute_hook(context, result)

    def on_kill(self):
        pass

    def get_template_env(self, dag=None):
        raise NotImplementedError("templates are rendered by the Leoflow runtime")


def as_list(x):
    """``[]`` for None, a list of a list/tuple/set/range's items, else ``[x]`` (inlets,
    outlets, ``skip_on_exit_code``)."""
    if x is None:
        return []
    if isinstance(x, (list, tuple, set, frozenset, range)):
        return list(x)
    return [x]


def chain(*tasks):
    """``chain(a, [b, c], [d, e], f)``: a >> [b, c]; b >> d; c >> e; [d, e] >> f."""
    for up_task, down_task in zip(tasks, tasks[1:]):
        if isinstance(up_task, DependencyMixin):
            up_task.set_downstream(down_task)
            continue
        if isinstance(down_task, DependencyMixin):
            down_task.set_upstream(up_task)
            continue
        if not isinstance(up_task, (list, tuple)) or not isinstance(down_task, (list, tuple)):
            raise TypeError("Chain not supported between instances of %s and %s"
                            % (type(up_task), type(down_task)))
        if len(up_task) != len(down_task):
            raise ValueError("Chain not supported for different length Iterable. Got %d and %d."
                             % (len(up_task), len(down_task)))
        for up_t, down_t in zip(up_task, down_task):
            up_t.set_downstream(down_t)


def chain_linear(*elements):
    """Every element of each group >> every element of the next group."""
    from airflow.sdk.definitions.edges import EdgeModifier

    if not elements:
        raise ValueError("No tasks provided; nothing to do.")
    prev_elem = None
    deps_set = False
    for curr_elem in elements:
        if isinstance(curr_elem, EdgeModifier):
            raise ValueError("Labels are not supported by chain_linear")
        if prev_elem is not None:
            for task in prev_elem:
                task >> curr_elem
                deps_set = True
        prev_elem = [curr_elem] if isinstance(curr_elem, DependencyMixin) else curr_elem
    if not deps_set:
        raise ValueError("No dependencies were set. Did you forget to expand with `*`?")


def cross_downstream(from_tasks, to_tasks):
    """Every task of ``from_tasks`` >> every task of ``to_tasks``."""
    for task in from_tasks:
        task.set_downstream(to_tasks)
