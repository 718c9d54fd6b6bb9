"""``DAG`` and the ``@dag`` decorator."""
import datetime as _dt
import functools
import sys

from airflow.sdk.definitions._internal.node import validate_key
from airflow.sdk.exceptions import (
    AirflowDagCycleException,
    AirflowException,
    DuplicateTaskIdFound,
    FailFastDagInvalidTriggerRule,
    ParamValidationError,
    TaskNotFound,
)
from airflow.sdk.definitions._internal.types import NOTSET as _NOTSET
from leoflow_rt import registry

DEFAULT_VIEW = "grid"


def _create_timetable(schedule, timezone):
    from airflow.sdk.definitions.asset import BaseAsset
    from airflow.timetables.base import Timetable

    if schedule is None:
        from airflow.timetables.simple import NullTimetable

        return NullTimetable()
    if isinstance(schedule, Timetable):
        return schedule
    if isinstance(schedule, BaseAsset) or (
            isinstance(schedule, (list, tuple, set, frozenset))):
        from airflow.timetables.simple import AssetTriggeredTimetable

        return AssetTriggeredTimetable(schedule)
    if isinstance(schedule, str):
        if schedule == "@once":
            from airflow.timetables.simple import OnceTimetable

            return OnceTimetable()
        if schedule == "@continuous":
            from airflow.timetables.simple import ContinuousTimetable

            return ContinuousTimetable()
        from airflow.timetables.trigger import CronTriggerTimetable

        return CronTriggerTimetable(schedule, timezone=timezone)
    if isinstance(schedule, _dt.timedelta):
        from airflow.timetables.trigger import DeltaTriggerTimetable

        return DeltaTriggerTimetable(schedule)
    if type(schedule).__name__ == "relativedelta":
        from leoflow_rt.unsupported import unsupported

        raise unsupported("relativedelta schedules (use a cron expression)")
    raise ValueError("%r is not a valid schedule." % (schedule,))


def _to_utc(value, tz):
    from airflow.sdk import timezone as tzmod

    if isinstance(value, str):
        value = tzmod.parse(value, timezone=tz)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return tzmod.convert_to_utc(value)
    if isinstance(value, _dt.date):
        import pendulum

        return pendulum.datetime(value.year, value.month, value.day, tz=tz).in_timezone("UTC")
    return value


class DAG:
    """A workflow: tasks and their dependencies, plus scheduling attributes."""

    def __init__(
        self,
        dag_id,
        description=None,
        schedule=None,
        start_date=None,
        end_date=None,
        template_searchpath=None,
        template_undefined=None,
        user_defined_macros=None,
        user_defined_filters=None,
        default_args=None,
        max_active_tasks=16,
        max_active_runs=16,
        max_consecutive_failed_dag_runs=0,
        dagrun_timeout=None,
        catchup=False,
        on_success_callback=None,
        on_failure_callback=None,
        doc_md=None,
        params=None,
        access_control=None,
        is_paused_upon_creation=None,
        jinja_environment_kwargs=None,
        render_template_as_native_obj=False,
        tags=None,
        owner_links=None,
        auto_register=True,
        fail_fast=False,
        dag_display_name=None,
        disable_bundle_versioning=False,
        deadline=None,
        allowed_run_types=None,
    ):
        validate_key(dag_id)
        from airflow.sdk.definitions.param import ParamsDict
        from airflow.sdk.definitions.taskgroup import TaskGroup

        self.dag_id = dag_id
        self._lf_lineno = registry.caller_lineno()
        back = sys._getframe(1)
        self.fileloc = registry.current_file or (back.f_code.co_filename if back else "")
        if default_args is not None and not isinstance(default_args, dict):
            raise TypeError("default_args must be a dict")
        self.default_args = dict(default_args or {})
        self.params = ParamsDict(params)
        if "params" in self.default_args:
            self.params.update(self.default_args.pop("params") or {})

        # Timezone: start_date's (or default_args["start_date"]'s) zone, else UTC.
        import pendulum

        sd = start_date if start_date is not None else self.default_args.get("start_date")
        tz = getattr(sd, "tzinfo", None) if isinstance(sd, _dt.datetime) else None
        self.timezone = tz if tz is not None else pendulum.UTC
        for key in ("start_date", "end_date"):
            if self.default_args.get(key) is not None:
                self.default_args[key] = _to_utc(self.default_args[key], self.timezone)
        self.start_date = _to_utc(start_date, self.timezone)
        self.end_date = _to_utc(end_date, self.timezone)

        self.description = description
        self.template_searchpath = template_searchpath
        self.template_undefined = template_undefined
        self.user_defined_macros = user_defined_macros
        self.user_defined_filters = user_defined_filters
        self.max_active_tasks = max_active_tasks
        self.max_active_runs = max_active_runs
        self.max_consecutive_failed_dag_runs = max_consecutive_failed_dag_runs
        if dagrun_timeout is not None and not isinstance(dagrun_timeout, _dt.timedelta):
            raise TypeError("'dagrun_timeout' must be <class 'datetime.timedelta'> (got %r that "
                            "is a %r)." % (dagrun_timeout, type(dagrun_timeout)))
        self.dagrun_timeout = dagrun_timeout
        self.catchup = catchup
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.doc_md = self._get_doc_md(doc_md)
        self.access_control = access_control
        self.is_paused_upon_creation = is_paused_upon_creation
        self.jinja_environment_kwargs = jinja_environment_kwargs
        self.render_template_as_native_obj = render_template_as_native_obj
        self.tags = set()
        for tag in tags or ():
            if not isinstance(tag, str):
                raise TypeError("tags must be strings, got %r" % (tag,))
            if len(tag) > 100:
                raise AirflowException("tag cannot be longer than 100 characters")
            self.tags.add(tag)
        self.owner_links = dict(owner_links or {})
        self.auto_register = auto_register
        self.fail_fast = fail_fast
        self._dag_display_name = dag_display_name
        self.disable_bundle_versioning = disable_bundle_versioning
        self.deadline = deadline
        self.allowed_run_types = allowed_run_types

        self.schedule = schedule
        self.timetable = _create_timetable(schedule, self.timezone)
        limit = self.timetable.active_runs_limit
        if limit is not None and max_active_runs > limit:
            raise ValueError("Invalid max_active_runs: %s requires max_active_runs <= %d"
                                   % (type(self.timetable).__name__, limit))

        self.task_dict = {}
        self.edge_info = {}
        self.task_group = TaskGroup.create_root(self)
        registry.dags.append(self)

    # -- identity ----------------------------------------------------------------------------
    def __repr__(self):
        return "<DAG: %s>" % self.dag_id

    @property
    def dag_display_name(self):
        return self._dag_display_name or self.dag_id

    @property
    def owner(self):
        return ", ".join(sorted({t.owner for t in self.tasks})) or self.default_args.get(
            "owner", "airflow")

    @property
    def timetable_summary(self):
        return self.timetable.summary

    @property
    def relative_fileloc(self):
        import os

        return os.path.basename(self.fileloc)

    def _get_doc_md(self, doc_md):
        if doc_md is None or not isinstance(doc_md, str) or not doc_md.endswith(".md"):
            return doc_md
        import os

        for cand in (doc_md, os.path.join(os.path.dirname(self.fileloc or ""), doc_md)):
            try:
                with open(cand) as fh:
                    return fh.read()
            except OSError:
                continue
        return doc_md

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self):
        registry.dag_stack.append(self)
        if self.auto_register and not any(d is self for d in registry.auto_registered):
            registry.auto_registered.append(self)
        return self

    def __exit__(self, *exc):
        if registry.dag_stack and registry.dag_stack[-1] is self:
            registry.dag_stack.pop()

    # -- tasks -------------------------------------------------------------------------------
    @property
    def tasks(self):
        return list(self.task_dict.values())

    @property
    def task_ids(self):
        return list(self.task_dict)

    @property
    def roots(self):
        return [t for t in self.task_dict.values() if not t.upstream_task_ids]

    @property
    def leaves(self):
        return [t for t in self.task_dict.values() if not t.downstream_task_ids]

    def has_task(self, task_id):
        return task_id in self.task_dict

    def get_task(self, task_id):
        if task_id in self.task_dict:
            return self.task_dict[task_id]
        raise TaskNotFound("Task %s not found" % task_id)

    def add_task(self, task):
        if self.fail_fast and str(getattr(task, "trigger_rule", "all_success")) != "all_success":
            raise FailFastDagInvalidTriggerRule()
        task_id = task.node_id
        if task.task_group is None:
            tg = registry.current_group(self)
            if tg is not None:
                task_id = tg.child_id(task_id)
                task.task_id = task_id
                tg.add(task)
        existing = self.task_dict.get(task_id)
        if (existing is not None and existing is not task) or (
                existing is None and task_id in self.task_group.used_group_ids):
            raise DuplicateTaskIdFound("Task id '%s' has already been added to the DAG" % task_id)
        self.task_dict[task_id] = task
        task.__dict__["_dag"] = self
        self.task_group.used_group_ids.add(task_id)
        if task.start_date is None:
            task.start_date = self.start_date or self.default_args.get("start_date")

    def add_tasks(self, tasks):
        for t in tasks:
            self.add_task(t)

    def set_edge_info(self, upstream_task_id, downstream_task_id, info):
        self.edge_info.setdefault(upstream_task_id, {})[downstream_task_id] = info

    def get_edge_info(self, upstream_task_id, downstream_task_id):
        return self.edge_info.get(upstream_task_id, {}).get(downstream_task_id, {})

    def param(self, name, default=_NOTSET):
        """A ``DagParam`` for ``name`` (registers ``default`` in ``dag.params`` when given)."""
        from airflow.sdk.definitions.param import DagParam

        return DagParam(current_dag=self, name=name, default=default)

    # -- validation (run after the file is imported, like DagBag) ----------------------------
    def validate(self):
        self.timetable.validate()
        self.validate_schedule_and_params()
        self.check_cycle()

    def validate_schedule_and_params(self):
        if not self.timetable.can_be_scheduled:
            return
        try:
            self.params.validate()
        except ParamValidationError as pverr:
            raise AirflowException(
                "DAG is not allowed to define a Schedule, if there are any required params "
                "without default values or default values are not valid.") from pverr

    def check_cycle(self):
        visited = {}
        for root in self.task_dict:
            if root in visited:
                continue
            stack = [(root, iter(sorted(self.task_dict[root].downstream_task_ids)))]
            visited[root] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    visited[node] = 2
                    stack.pop()
                    continue
                state = visited.get(nxt)
                if state == 1:
                    raise AirflowDagCycleException(
                        "Cycle detected in DAG: %s. Faulty task: %s" % (self.dag_id, nxt))
                if state is None and nxt in self.task_dict:
                    visited[nxt] = 1
                    stack.append((nxt, iter(sorted(self.task_dict[nxt].downstream_task_ids))))

    def test(self, *args, **kwargs):
        raise NotImplementedError("dag.test() is not available under Leoflow Lite; "
                                  "use `leoflow dags test`")

    def cli(self):
        raise NotImplementedError("dag.cli() is not available under Leoflow Lite")


def dag(dag_id_or_func=None, **decorator_kwargs):
    """``@dag`` / ``@dag(...)``: calling the decorated function creates the DAG."""

    def wrapper(f):
        dag_id = decorator_kwargs.pop("dag_id", None)
        if isinstance(dag_id_or_func, str):
            dag_id = dag_id_or_func

        @functools.wraps(f)
        def factory(*args, **kwargs):
            from leoflow_rt.sigbind import bind

            f_args = bind(f, args, kwargs, apply_defaults=True)
            with DAG(dag_id or f.__name__, **decorator_kwargs) as dag_obj:
                if f.__doc__ and not dag_obj.doc_md:
                    dag_obj.doc_md = f.__doc__
                f_kwargs = {name: dag_obj.param(name, value) for name, value in f_args.items()}
                f(**f_kwargs)
            return dag_obj

        return factory

    if callable(dag_id_or_func) and not isinstance(dag_id_or_func, str):
        return wrapper(dag_id_or_func)
    return wrapper
