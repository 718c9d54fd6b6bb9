"""``PythonOperator``, ``BranchPythonOperator``, ``ShortCircuitOperator``."""
from airflow.sdk.bases.operator import BaseOperator
from airflow.sdk.definitions.context import get_current_context  # noqa: F401
from airflow.sdk.exceptions import AirflowException
from leoflow_rt.unsupported import module_getattr


def determine_kwargs(python_callable, op_args, context):
    """The keyword arguments ``python_callable`` wants from ``context`` (Airflow's rules)."""
    from leoflow_rt.sigbind import param_names

    pos, kwonly, _va, varkw = param_names(python_callable)
    for name in pos[:len(op_args)]:
        if name in context:
            raise ValueError("The key %r in args is a part of kwargs and therefore reserved."
                             % name)
    if varkw:
        return dict(context)
    wanted = tuple(pos) + tuple(kwonly)
    return {k: context[k] for k in wanted if k in context}


def context_merge(context, *args, **kwargs):
    for a in args:
        if a:
            context.update(a)
    context.update(kwargs)


class PythonOperator(BaseOperator):
    """Call ``python_callable(*op_args, **op_kwargs)`` (plus the context keys it asks for)."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers = {"templates_dict": "json", "op_args": "py", "op_kwargs": "py"}
    BLUE = "#ffefeb"
    ui_color = BLUE
    shallow_copy_attrs = ("python_callable", "op_kwargs")
    _lf_kind = "python"
    _lf_args = ("python_callable", "op_args", "op_kwargs", "templates_dict",
                "show_return_value_in_logs")

    def __init__(self, *, python_callable, op_args=None, op_kwargs=None, templates_dict=None,
                 templates_exts=None, show_return_value_in_logs=True, **kwargs):
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise AirflowException("`python_callable` param must be callable")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict
        if templates_exts:
            self.template_ext = templates_exts
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context):
        context_merge(context, self.op_kwargs, templates_dict=self.templates_dict)
        self.op_kwargs = self.determine_kwargs(context)
        self._lf_outlet_events = context.get("outlet_events")
        return_value = self.execute_callable()
        if self.show_return_value_in_logs:
            self.log.info("Done. Returned value was: %s", return_value)
        else:
            self.log.info("Done. Returned value not shown")
        return return_value

    def determine_kwargs(self, context):
        return determine_kwargs(self.python_callable, self.op_args, context)

    def execute_callable(self):
        return run_callable(self.python_callable, self.op_args, self.op_kwargs,
                            getattr(self, "_lf_outlet_events", None), self.log)


def run_callable(func, args, kwargs, outlet_events, log):
    """Call ``func``; a generator function is exhausted here, as the Task SDK's
    ``ExecutionCallableRunner`` does: each yielded ``Metadata`` updates the outlet event of its
    asset (and, with ``alias``, adds an event through that alias); anything else yielded is
    ignored with a warning. The generator's ``return`` value is the task's return value."""
    import inspect

    if not inspect.isgeneratorfunction(func):
        return func(*args, **kwargs)
    from airflow.sdk.definitions.asset.metadata import Metadata

    gen = func(*args, **kwargs)
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Metadata) and outlet_events is not None:
            outlet_events[item.asset].extra.update(item.extra)
            if item.alias:
                outlet_events[item.alias].add(item.asset, extra=item.extra)
        else:
            log.warning("Ignoring unknown data of %r received from task", type(item))


class ExternalPythonOperator(PythonOperator):
    """Run ``python_callable`` in another interpreter (``python``, an absolute path), in a
    subprocess; arguments and the return value travel as JSON, or pickled (``serializer``)."""

    template_fields = tuple({"python"}.union(PythonOperator.template_fields))
    _lf_args = ("python", "serializer", "string_args", "expect_airflow", "skip_on_exit_code",
                "env_vars", "inherit_env")
    BASE_SERIALIZABLE_CONTEXT_KEYS = {
        "ds", "ds_nodash", "expanded_ti_count", "inlets", "outlets", "run_id",
        "task_instance_key_str", "test_mode", "ts", "ts_nodash", "ts_nodash_with_tz",
        "tomorrow_ds", "tomorrow_ds_nodash", "yesterday_ds", "yesterday_ds_nodash",
    }

    def __init__(self, *, python, python_callable, serializer=None, use_dill=False,
                 op_args=None, op_kwargs=None, string_args=None, templates_dict=None,
                 templates_exts=None, expect_airflow=True, skip_on_exit_code=None,
                 env_vars=None, inherit_env=True, **kwargs):
        import inspect
        import types

        if not python:
            raise ValueError("Python Path must be defined in ExternalPythonOperator")
        if (not isinstance(python_callable, types.FunctionType)
                or python_callable.__name__ == "<lambda>"):
            raise ValueError("%s only supports functions for python_callable arg"
                             % type(self).__name__)
        if inspect.isgeneratorfunction(python_callable):
            raise ValueError("%s does not support using 'yield' in python_callable"
                             % type(self).__name__)
        super().__init__(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs,
                         templates_dict=templates_dict, templates_exts=templates_exts, **kwargs)
        if use_dill:
            serializer = "dill"
        if serializer not in (None, "json", "pickle", "dill", "cloudpickle"):
            raise AirflowException("Unsupported serializer %r. Expected one of 'pickle', "
                                   "'dill', 'cloudpickle' (or 'json')" % (serializer,))
        self.python = python
        self.serializer = serializer
        self.use_dill = serializer == "dill"
        self.string_args = list(string_args or [])
        self.expect_airflow = expect_airflow
        if skip_on_exit_code is None:
            self.skip_on_exit_code = []
        elif isinstance(skip_on_exit_code, int):
            self.skip_on_exit_code = [skip_on_exit_code]
        else:
            self.skip_on_exit_code = list(skip_on_exit_code)
        self.env_vars = env_vars
        self.inherit_env = inherit_env

    def execute(self, context):
        keep = {k: v for k, v in context.items() if k in self.BASE_SERIALIZABLE_CONTEXT_KEYS}
        return super().execute(keep)

    def execute_callable(self):
        from leoflow_rt import external

        return external.run(self, self.op_args, self.op_kwargs)


class PythonVirtualenvOperator(ExternalPythonOperator):
    """Run ``python_callable`` in a virtualenv with ``requirements``. Lite builds each
    requirement set's venv once and keeps it under its home (``home/venvs``, or
    ``venv_cache_path``), logging the build in the task log; the call then runs as
    ``ExternalPythonOperator`` does."""

    template_fields = tuple({"requirements", "index_urls", "venv_cache_path"}.union(
        PythonOperator.template_fields))
    _lf_args = ExternalPythonOperator._lf_args + (
        "requirements", "python_version", "system_site_packages", "pip_install_options",
        "index_urls", "venv_cache_path")

    def __init__(self, *, python_callable, requirements=None, python_version=None,
                 system_site_packages=True, pip_install_options=None, index_urls=None,
                 index_urls_from_connection_ids=None, venv_cache_path=None, **kwargs):
        if index_urls_from_connection_ids:
            raise AirflowException("index_urls_from_connection_ids is not supported by Leoflow "
                                   "Lite: pass index_urls")
        super().__init__(python="<virtualenv>", python_callable=python_callable, **kwargs)
        if isinstance(requirements, str):
            requirements = [requirements]
        self.requirements = list(requirements or [])
        self.python_version = python_version
        self.system_site_packages = system_site_packages
        self.pip_install_options = list(pip_install_options or [])
        self.index_urls = list(index_urls) if index_urls else None
        self.venv_cache_path = venv_cache_path

    def execute_callable(self):
        import os
        import tempfile

        from leoflow_rt import external, venvs

        cache = self.venv_cache_path or venvs.CACHE_DIR or os.path.join(
            tempfile.gettempdir(), "leoflow-venvs")
        self.python = venvs.ensure(
            str(cache), requirements=self.requirements, python_version=self.python_version,
            system_site_packages=self.system_site_packages,
            pip_install_options=self.pip_install_options, index_urls=self.index_urls,
            log=self.log.info)
        return external.run(self, self.op_args, self.op_kwargs)


XCOM_SKIPMIXIN_KEY = "skipmixin_key"
XCOM_SKIPMIXIN_SKIPPED = "skipped"
XCOM_SKIPMIXIN_FOLLOWED = "followed"


def _ensure_tasks(nodes):
    from airflow.sdk.definitions._internal.abstractoperator import AbstractOperator

    return [n for n in nodes if isinstance(n, AbstractOperator)]


class SkipMixin:
    """Airflow 3's SkipMixin: skipping raises ``DownstreamTasksSkipped`` (run time only)."""

    @staticmethod
    def _set_state_to_skipped(tasks, map_index):
        from airflow.sdk.exceptions import DownstreamTasksSkipped

        # Like Airflow, only unmapped task instances skip right away; the runtime records the
        # list either way (a ``skip`` key in the task result).
        if tasks and map_index == -1:
            raise DownstreamTasksSkipped(tasks=list(tasks))

    def skip(self, ti, tasks):
        task_list = _ensure_tasks(tasks)
        if not task_list:
            return
        task_ids = [t.task_id for t in task_list]
        if getattr(self, "task_id", None) is not None:
            ti.xcom_push(key=XCOM_SKIPMIXIN_KEY, value={XCOM_SKIPMIXIN_SKIPPED: task_ids})
        record = getattr(ti, "_lf_record_skip", None)
        if record is not None:
            record(task_ids)
        self._set_state_to_skipped(task_ids, ti.map_index)

    def skip_all_except(self, ti, branch_task_ids):
        import types
        from collections.abc import Iterable

        from airflow.sdk.exceptions import AirflowException

        if branch_task_ids and isinstance(branch_task_ids, types.GeneratorType):
            branch_task_ids = list(branch_task_ids)
        if isinstance(branch_task_ids, str):
            branch_task_id_set = {branch_task_ids}
        elif isinstance(branch_task_ids, Iterable):
            branch_task_id_set = set(branch_task_ids)
            invalid = {(b, type(b).__name__) for b in branch_task_id_set if not isinstance(b, str)}
            if invalid:
                raise AirflowException(
                    "Unable to branch to the specified tasks. The branching function returned "
                    "invalid 'branch_task_ids': %s. Please check that your function returns an "
                    "Iterable of valid task IDs that exist in your DAG." % (invalid,))
        elif branch_task_ids is None:
            branch_task_id_set = set()
        else:
            raise AirflowException(
                "'branch_task_ids' must be either None, a task ID, or an Iterable of IDs, but "
                "got %r." % type(branch_task_ids).__name__)
        self.log.info("Following branch %s", sorted(branch_task_id_set))
        task = ti.task
        dag = task.dag
        invalid_ids = branch_task_id_set - set(dag.task_ids)
        if invalid_ids:
            raise AirflowException("'branch_task_ids' must contain only valid task_ids. Invalid "
                                   "tasks found: %s." % (invalid_ids,))
        record = getattr(ti, "_lf_record_branch", None)
        if record is not None:
            record(sorted(branch_task_id_set))
        downstream = _ensure_tasks(task.downstream_list)
        if not downstream:
            return
        for bid in list(branch_task_id_set):
            branch_task_id_set.update(dag.get_task(bid).get_flat_relative_ids(upstream=False))
        skip_tasks = [t.task_id for t in downstream if t.task_id not in branch_task_id_set]
        follow = [t.task_id for t in downstream if t.task_id in branch_task_id_set]
        self.log.info("Skipping tasks %s", skip_tasks)
        ti.xcom_push(key=XCOM_SKIPMIXIN_KEY, value={XCOM_SKIPMIXIN_FOLLOWED: follow})
        record = getattr(ti, "_lf_record_skip", None)
        if record is not None:
            record(skip_tasks)
        self._set_state_to_skipped(skip_tasks, ti.map_index)


class BranchMixIn(SkipMixin):
    """``do_branch``: expand task groups to their roots, then skip everything else."""

    def do_branch(self, context, branches_to_execute):
        self.log.info("Branch into %s", branches_to_execute)
        branch_task_ids = list(self._expand_task_group_roots(context["ti"], branches_to_execute)) \
            if branches_to_execute is not None else None
        self.skip_all_except(context["ti"], branch_task_ids)
        return branches_to_execute

    def _expand_task_group_roots(self, ti, branches_to_execute):
        from collections.abc import Iterable

        dag = ti.task.dag
        if isinstance(branches_to_execute, str) or not isinstance(branches_to_execute, Iterable):
            branches_to_execute = [branches_to_execute]
        groups = dag.task_group.get_task_group_dict() if dag.task_group is not None else {}
        for branch in branches_to_execute:
            if branch in groups and branch is not None and branch not in dag.task_dict:
                tg = groups[branch]
                self.log.info("[%s] is a task group, expanding to %s", branch,
                              [t.task_id for t in tg.roots])
                for t in tg.roots:
                    yield t.task_id
            else:
                yield branch


class BaseBranchOperator(BaseOperator, BranchMixIn):
    """Branching: ``choose_branch`` returns the task id(s) to follow; others are skipped."""

    _lf_kind = "branch"
    inherits_from_skipmixin = True

    def choose_branch(self, context):
        raise NotImplementedError

    def execute(self, context):
        return self.do_branch(context, self.choose_branch(context))


class BranchPythonOperator(PythonOperator, BranchMixIn):
    """The callable returns the task id (or list of ids) to follow."""

    _lf_kind = "branch"
    inherits_from_skipmixin = True

    def execute(self, context):
        return self.do_branch(context, super().execute(context))


class BranchExternalPythonOperator(ExternalPythonOperator, BranchMixIn):
    """``ExternalPythonOperator`` whose callable returns the task id(s) to follow."""

    _lf_kind = "branch"
    inherits_from_skipmixin = True

    def execute(self, context):
        return self.do_branch(context, super().execute(context))


class ShortCircuitOperator(PythonOperator, SkipMixin):
    """Skip everything downstream when the callable returns a falsy value."""

    _lf_kind = "short_circuit"
    _lf_args = PythonOperator._lf_args + ("ignore_downstream_trigger_rules",)
    inherits_from_skipmixin = True

    def __init__(self, *, ignore_downstream_trigger_rules=True, **kwargs):
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context):
        condition = super().execute(context)
        self.log.info("Condition result is %s", condition)
        record = getattr(context.get("ti"), "_lf_record_short_circuit", None)
        if record is not None:
            record(bool(condition))
        if condition:
            self.log.info("Proceeding with downstream tasks...")
            return condition
        if not self.downstream_task_ids:
            self.log.info("No downstream tasks; nothing to do.")
            return condition
        task = context["task"]
        if self.ignore_downstream_trigger_rules is True:
            tasks = task.get_flat_relatives(upstream=False)
        else:
            tasks = task.get_direct_relatives(upstream=False)
        to_skip = [t for t in tasks if not t.is_teardown]
        self.log.info("Skipping downstream tasks")
        self.skip(ti=context["ti"], tasks=to_skip)
        self.log.info("Done.")
        return condition


__getattr__ = module_getattr(__name__)
