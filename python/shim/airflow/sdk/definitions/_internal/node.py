"""``DAGNode``: the common base of tasks and task groups; id validation."""
from airflow.sdk.definitions._internal.mixins import DependencyMixin

_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_GROUP_KEY_CHARS = _KEY_CHARS - {"."}


def validate_key(k, max_length=250):
    """Validate a dag_id / task_id as Airflow does (``^[a-zA-Z0-9_.-]+$``, <= 250 chars)."""
    if not isinstance(k, str):
        raise TypeError("The key has to be a string and is %s:%s" % (type(k), k))
    if len(k) > max_length:
        raise ValueError("The key has to be less than %d characters, not %d" % (max_length, len(k)))
    if not k or not _KEY_CHARS.issuperset(k):
        raise ValueError(
            "The key %r has to be made of alphanumeric characters, dashes, dots, and "
            "underscores exclusively" % (k,))


def validate_group_key(k, max_length=200):
    """Validate a task group id (no dots)."""
    if not isinstance(k, str):
        raise TypeError("The key has to be a string and is %s:%s" % (type(k), k))
    if len(k) > max_length:
        raise ValueError("The key has to be less than %d characters, not %d" % (max_length, len(k)))
    if not k or not _GROUP_KEY_CHARS.issuperset(k):
        raise ValueError(
            "The key %r has to be made of alphanumeric characters, dashes, and underscores "
            "exclusively" % (k,))


class DAGNode(DependencyMixin):
    """A node of the DAG graph: an operator (possibly mapped) or a task group."""

    dag = None
    task_group = None
    upstream_task_ids = None
    downstream_task_ids = None

    @property
    def node_id(self):
        raise NotImplementedError

    @property
    def label(self):
        tg = self.task_group
        if tg is not None and tg.node_id and tg.prefix_group_id:
            prefix = tg.node_id + "."
            if self.node_id.startswith(prefix):
                return self.node_id[len(prefix):]
        return self.node_id

    def get_closest_mapped_task_group(self):
        """The innermost mapped task group this node is in, or None."""
        group = self.task_group
        while group is not None:
            if getattr(group, "is_mapped", False):
                return group
            group = group.parent_group
        return None

    def iter_mapped_task_groups(self):
        group = self.task_group
        while group is not None:
            if getattr(group, "is_mapped", False):
                yield group
            group = group.parent_group

    def has_dag(self):
        return self.dag is not None

    def get_dag(self):
        return self.dag

    @property
    def dag_id(self):
        return self.dag.dag_id if self.dag is not None else "_in_memory_dag_"

    def set_downstream(self, task_or_task_list, edge_modifier=None):
        self._set_relatives(task_or_task_list, upstream=False, edge_modifier=edge_modifier)

    def set_upstream(self, task_or_task_list, edge_modifier=None):
        self._set_relatives(task_or_task_list, upstream=True, edge_modifier=edge_modifier)

    @property
    def upstream_list(self):
        return [self.dag.get_task(t) for t in sorted(self.upstream_task_ids)] if self.dag else []

    @property
    def downstream_list(self):
        return [self.dag.get_task(t) for t in sorted(self.downstream_task_ids)] if self.dag else []

    def get_direct_relative_ids(self, upstream=False):
        return self.upstream_task_ids if upstream else self.downstream_task_ids

    def get_direct_relatives(self, upstream=False):
        return self.upstream_list if upstream else self.downstream_list

    # -- run time (task runtime) -------------------------------------------------------------
    def get_flat_relative_ids(self, *, upstream=False):
        """Every task id upstream (or downstream) of this node, transitively."""
        dag = self.dag
        if dag is None:
            return set()
        seen = set()
        todo = list(self.get_direct_relative_ids(upstream))
        while todo:
            tid = todo.pop()
            if tid in seen:
                continue
            seen.add(tid)
            t = dag.task_dict.get(tid)
            if t is not None:
                todo.extend(t.get_direct_relative_ids(upstream))
        return seen

    def get_flat_relatives(self, upstream=False):
        dag = self.dag
        if dag is None:
            return []
        return [dag.task_dict[t] for t in sorted(self.get_flat_relative_ids(upstream=upstream))
                if t in dag.task_dict]
