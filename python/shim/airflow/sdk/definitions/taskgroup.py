"""``TaskGroup``: a named, nestable group of tasks (ids prefixed ``group.task``)."""
import re

from airflow.sdk.definitions._internal.mixins import ResolveMixin, as_relatives
from airflow.sdk.definitions._internal.node import DAGNode, validate_group_key
from airflow.sdk.exceptions import AirflowException, DuplicateTaskIdFound, TaskAlreadyInTaskGroup
from leoflow_rt import registry


class TaskGroup(DAGNode):
    """Group tasks in the UI; use as a context manager or via ``@task_group``."""

    def __init__(
        self,
        group_id=None,
        prefix_group_id=True,
        parent_group=None,
        dag=None,
        default_args=None,
        tooltip="",
        ui_color="CornflowerBlue",
        ui_fgcolor="#000",
        add_suffix_on_collision=False,
        group_display_name="",
    ):
        self.prefix_group_id = prefix_group_id
        if default_args is not None and not isinstance(default_args, dict):
            raise TypeError("default_args must be a mapping")
        self.default_args = dict(default_args or {})
        self.tooltip = tooltip
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.group_display_name = group_display_name
        self.children = {}
        self.upstream_group_ids = set()
        self.downstream_group_ids = set()
        self.upstream_task_ids = set()
        self.downstream_task_ids = set()
        self._lf_lineno = registry.caller_lineno()
        self.is_mapped = False
        if group_id is None:
            if parent_group is not None:
                raise AirflowException("Root TaskGroup cannot have parent_group")
            self._group_id = None
            self._parent_group = None
            self.dag = dag
            self.used_group_ids = set()
            return
        validate_group_key(group_id)
        if parent_group is None:
            dag = dag or registry.current_dag()
            parent_group = registry.current_group(dag)
        if parent_group is None:
            raise RuntimeError("TaskGroup can only be used inside a dag")
        self._parent_group = parent_group
        self.dag = parent_group.dag
        self.used_group_ids = parent_group.used_group_ids
        self._group_id = group_id
        self._check_for_group_id_collisions(add_suffix_on_collision)
        self.used_group_ids.add(self.group_id)
        parent_group.add(self)
        if registry.setup_teardown_stack:
            registry.st_register(self)
        if parent_group.default_args:
            self.default_args = dict(parent_group.default_args, **self.default_args)

    @classmethod
    def create_root(cls, dag):
        return cls(group_id=None, dag=dag)

    def _check_for_group_id_collisions(self, add_suffix_on_collision):
        if self.group_id not in self.used_group_ids:
            return
        if not add_suffix_on_collision:
            raise DuplicateTaskIdFound("group_id '%s' has already been added to the DAG"
                                       % self._group_id)
        base = re.split(r"__\d+$", self._group_id)[0]
        n = 1
        while True:
            self._group_id = "%s__%d" % (base, n)
            if self.group_id not in self.used_group_ids:
                return
            n += 1

    # -- ids ---------------------------------------------------------------------------------
    @property
    def parent_group(self):
        return self._parent_group

    @property
    def group_id(self):
        p = self._parent_group
        if p is not None and p.prefix_group_id and p._group_id:
            return p.child_id(self._group_id)
        return self._group_id

    @property
    def node_id(self):
        return self.group_id

    @property
    def label(self):
        return self._group_id

    @property
    def is_root(self):
        return self._group_id is None

    def child_id(self, label):
        if self.prefix_group_id:
            gid = self.group_id
            if gid:
                return "%s.%s" % (gid, label)
        return label

    @property
    def upstream_join_id(self):
        return "%s.upstream_join_id" % self.group_id

    @property
    def downstream_join_id(self):
        return "%s.downstream_join_id" % self.group_id

    # -- membership --------------------------------------------------------------------------
    def add(self, task):
        from airflow.sdk.definitions._internal.abstractoperator import AbstractOperator

        existing = task.task_group
        if isinstance(task, AbstractOperator) and existing is not None and existing is not self:
            raise TaskAlreadyInTaskGroup(task.node_id, existing.node_id, self.node_id)
        task.task_group = self
        key = task.node_id
        if key in self.children:
            node_type = "Task" if hasattr(task, "task_id") else "Task Group"
            raise DuplicateTaskIdFound("%s id '%s' has already been added to the DAG"
                                       % (node_type, key))
        if isinstance(task, TaskGroup) and task.children:
            raise ValueError("Cannot add a non-empty TaskGroup")
        self.children[key] = task
        return task

    def __iter__(self):
        for child in list(self.children.values()):
            if isinstance(child, TaskGroup):
                yield from child
            else:
                yield child

    def iter_tasks(self):
        return iter(self)

    def iter_task_groups(self):
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield child
                yield from child.iter_task_groups()

    def get_task_group_dict(self):
        out = {self.group_id: self}
        for g in self.iter_task_groups():
            out[g.group_id] = g
        return out

    def get_child_by_label(self, label):
        return self.children[self.child_id(label)]

    def has_task(self, task):
        return any(t is task for t in self)

    # -- relations ---------------------------------------------------------------------------
    @property
    def roots(self):
        return list(self.get_roots())

    @property
    def leaves(self):
        return list(self.get_leaves())

    def get_roots(self):
        tasks = list(self)
        ids = {t.task_id for t in tasks}
        for task in tasks:
            if task.upstream_task_ids.isdisjoint(ids):
                yield task

    def get_leaves(self):
        tasks = list(self)
        ids = {t.task_id for t in tasks}

        def has_non_teardown_downstream(task, exclude):
            for down in task.downstream_list:
                if down.task_id == exclude or down.task_id not in ids:
                    continue
                if not down.is_teardown:
                    return True
            return False

        def first_non_teardown(task):
            for up in task.upstream_list:
                if up.task_id not in ids:
                    continue
                if up.is_teardown:
                    yield from first_non_teardown(up)
                elif task.is_teardown and up.is_setup:
                    continue
                elif not has_non_teardown_downstream(up, exclude=task.task_id):
                    yield up

        for task in tasks:
            if not task.downstream_task_ids.isdisjoint(ids):
                continue
            if not task.is_teardown:
                yield task
            else:
                yield from first_non_teardown(task)

    def update_relative(self, other, upstream=True, edge_modifier=None):
        if isinstance(other, TaskGroup):
            if upstream:
                parent, child = self, other
            else:
                parent, child = other, self
            parent.upstream_group_ids.add(child.group_id)
            child.downstream_group_ids.add(parent.group_id)
        else:
            for task in other.roots:
                if task is self:
                    continue
                if upstream:
                    self.upstream_task_ids.add(task.node_id)
                else:
                    self.downstream_task_ids.add(task.node_id)

    def _set_relatives(self, task_or_task_list, upstream=False, edge_modifier=None):
        items = as_relatives(task_or_task_list)

        def find_leaves(group):
            while group is not None:
                leaves = list(group.get_leaves())
                if leaves:
                    return leaves
                if group.upstream_task_ids and self.dag is not None:
                    return [self.dag.get_task(t) for t in sorted(group.upstream_task_ids)]
                group = group.parent_group
            return []

        leaves = find_leaves(self)
        for task_like in items:
            self.update_relative(task_like, upstream, edge_modifier=edge_modifier)
        if upstream:
            for task in self.get_roots():
                task.set_upstream(items, edge_modifier=edge_modifier)
        else:
            for task in leaves:
                task.set_downstream(items, edge_modifier=edge_modifier)

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self):
        registry.group_stack.append(self)
        return self

    def __exit__(self, *exc):
        if registry.group_stack and registry.group_stack[-1] is self:
            registry.group_stack.pop()
        else:
            try:
                registry.group_stack.remove(self)
            except ValueError:
                pass

    def __repr__(self):
        return "<TaskGroup: %s>" % (self.group_id,)


class MappedTaskGroup(TaskGroup):
    """A task group expanded at run time (``@task_group`` ... ``.expand()`` /
    ``.expand_kwargs()``): each of its tasks gets one task instance per map index."""

    def __init__(self, *args, expand=None, expand_kwargs=None, **kwargs):
        from leoflow_rt.unsupported import unsupported

        if expand is None and expand_kwargs is None:
            raise TypeError("MappedTaskGroup is created by @task_group ... .expand(); "
                            "instantiate TaskGroup for a plain group")
        super().__init__(*args, **kwargs)
        parent = self.parent_group
        while parent is not None:
            if getattr(parent, "is_mapped", False):
                raise unsupported("mapped task groups nested in a mapped task group "
                                  "(%s inside %s)" % (self.group_id, parent.group_id))
            parent = parent.parent_group
        self.is_mapped = True
        self._lf_expand = expand
        self._lf_expand_kwargs = expand_kwargs
        self.task_id = self.group_id

    def iter_references(self):
        from airflow.sdk.definitions.xcom_arg import XComArg

        value = self._lf_expand if self._lf_expand is not None else self._lf_expand_kwargs
        yield from XComArg.iter_xcom_references(value)

    def iter_mapped_dependencies(self):
        for op, _ in self.iter_references():
            yield op

    def __iter__(self):
        from airflow.utils.trigger_rule import TriggerRule

        for child in list(self.children.values()):
            if getattr(child, "trigger_rule", None) == TriggerRule.ALWAYS:
                raise ValueError("Task-generated mapping within a mapped task group is not "
                                 "allowed with trigger rule 'always'")
            if isinstance(child, TaskGroup):
                yield from child
            else:
                yield child

    def __exit__(self, *exc):
        if not (exc and exc[0] is not None):
            for op in {id(o): o for o in self.iter_mapped_dependencies()}.values():
                self.set_upstream(op)
        return super().__exit__(*exc)


class MappedArgument(ResolveMixin):
    """A mapped task group's function argument: resolved per map index at run time (the
    group's ``expand`` value at this task instance's map index)."""

    def __init__(self, key, group=None):
        self._key = key
        self._group = group

    @property
    def group(self):
        return self._group

    def iter_references(self):
        if self._group is not None:
            yield from self._group.iter_references()

    def resolve(self, context):
        from leoflow_rt.mapping import XComResolver

        return XComResolver(context["ti"], context).resolve(self)

    def __repr__(self):
        gid = self._group.group_id if self._group is not None else None
        return "MappedArgument(group=%r, key=%r)" % (gid, self._key)
