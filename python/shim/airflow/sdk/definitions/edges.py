"""Edge modifiers: ``Label``."""
from airflow.sdk.definitions._internal.mixins import DependencyMixin, as_relatives


class EdgeModifier(DependencyMixin):
    """Sits between tasks in ``a >> Label("x") >> b`` and attaches info to those edges."""

    def __init__(self, label=None):
        self.label = label
        self._upstream = []
        self._downstream = []

    @property
    def roots(self):
        return self._downstream

    @property
    def leaves(self):
        return self._upstream

    @staticmethod
    def _save_nodes(nodes, stream):
        from airflow.sdk.definitions._internal.abstractoperator import AbstractOperator
        from airflow.sdk.definitions.taskgroup import TaskGroup
        from airflow.sdk.definitions.xcom_arg import XComArg

        for node in as_relatives(nodes):
            if isinstance(node, (TaskGroup, AbstractOperator)):
                stream.append(node)
            elif isinstance(node, XComArg):
                stream.extend(node.roots)
            else:
                raise TypeError("Cannot use edge labels with %s, only tasks or task groups"
                                % type(node).__name__)

    def set_upstream(self, other, edge_modifier=None):
        self._save_nodes(other, self._upstream)
        for node in self._downstream:
            node.set_upstream(other, edge_modifier=self)

    def set_downstream(self, other, edge_modifier=None):
        self._save_nodes(other, self._downstream)
        for node in self._upstream:
            node.set_downstream(other, edge_modifier=self)

    def update_relative(self, other, upstream=True, edge_modifier=None):
        if upstream:
            self.set_upstream(other)
        else:
            self.set_downstream(other)

    def add_edge_info(self, dag, upstream_id, downstream_id):
        dag.set_edge_info(upstream_id, downstream_id, {"label": self.label})

    def __repr__(self):
        return "Label(%r)" % (self.label,)


def Label(label):  # noqa: N802 - Airflow's name
    """An edge modifier that only sets a label on the edge."""
    return EdgeModifier(label=label)
