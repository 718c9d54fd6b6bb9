"""``AbstractOperator``: what plain and mapped operators share (relations, XCom output)."""
from airflow.sdk.definitions._internal.mixins import DependencyMixin, as_relatives
from airflow.sdk.definitions._internal.node import DAGNode

DEFAULT_OWNER = "airflow"
DEFAULT_POOL_SLOTS = 1
DEFAULT_PRIORITY_WEIGHT = 1
DEFAULT_QUEUE = "default"
DEFAULT_RETRIES = 0
DEFAULT_RETRY_DELAY_SECONDS = 300
DEFAULT_WEIGHT_RULE = "downstream"
DEFAULT_TRIGGER_RULE = "all_success"
DEFAULT_POOL_NAME = "default_pool"


class AbstractOperator(DAGNode):
    """Common base of ``BaseOperator`` and ``MappedOperator``."""

    template_fields = ()
    template_ext = ()
    template_fields_renderers = {}
    ui_color = "#fff"
    ui_fgcolor = "#000"
    operator_extra_links = ()
    is_setup = False
    is_teardown = False
    on_failure_fail_dagrun = False
    is_mapped = False
    _lf_lineno = None

    # -- DAG membership ----------------------------------------------------------------------
    @property
    def dag(self):
        return self.__dict__.get("_dag")

    @dag.setter
    def dag(self, dag):
        if dag is None:
            self._dag = None
            return
        current = self.__dict__.get("_dag")
        if current is not None and current is not dag:
            raise ValueError("The DAG assigned to %r can not be changed." % (self,))
        self._dag = dag
        if dag.task_dict.get(self.task_id) is not self:
            dag.add_task(self)

    @property
    def node_id(self):
        return self.task_id

    @property
    def roots(self):
        return [self]

    @property
    def leaves(self):
        return [self]

    @property
    def output(self):
        """The ``XComArg`` of this task's return value."""
        from airflow.sdk.definitions.xcom_arg import XComArg

        return XComArg(operator=self)

    def _set_relatives(self, task_or_task_list, upstream=False, edge_modifier=None):
        task_list = []
        for obj in as_relatives(task_or_task_list):
            obj.update_relative(self, not upstream, edge_modifier=edge_modifier)
            relatives = obj.leaves if upstream else obj.roots
            for task in relatives:
                if not isinstance(task, AbstractOperator):
                    raise TypeError(
                        "Relationships can only be set between Operators; received %s"
                        % type(task).__name__)
                task_list.append(task)
        dags = []
        for t in [self] + task_list:
            d = t.dag
            if d is not None and not any(d is x for x in dags):
                dags.append(d)
        if len(dags) > 1:
            raise RuntimeError(
                "Tried to set relationships between tasks in more than one DAG: %r" % (dags,))
        if len(dags) == 1:
            dag = dags[0]
        else:
            raise ValueError(
                "Tried to create relationships between tasks that don't have Dags yet. Set the "
                "Dag for at least one task and try again: %r" % ([self] + task_list,))
        if self.dag is None:
            self.dag = dag
        for task in task_list:
            if task.dag is None:
                task.dag = dag
            if upstream:
                task.downstream_task_ids.add(self.node_id)
                self.upstream_task_ids.add(task.node_id)
                if edge_modifier is not None:
                    edge_modifier.add_edge_info(dag, task.node_id, self.node_id)
            else:
                self.downstream_task_ids.add(task.node_id)
                task.upstream_task_ids.add(self.node_id)
                if edge_modifier is not None:
                    edge_modifier.add_edge_info(dag, self.node_id, task.node_id)

    def as_setup(self):
        self.is_setup = True
        return self

    def as_teardown(self, *, setups=None, on_failure_fail_dagrun=None):
        from airflow.utils.trigger_rule import TriggerRule

        self.is_teardown = True
        self.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS
        if on_failure_fail_dagrun is not None:
            self.on_failure_fail_dagrun = on_failure_fail_dagrun
        if setups is not None:
            setups = [setups] if isinstance(setups, DependencyMixin) else setups
            for s in setups:
                for root in s.roots:
                    root.is_setup = True
                s >> self
        return self

    @property
    def log(self):
        """A ``logging.Logger`` for the task (``self.log.info(...)`` in ``execute``)."""
        lg = self.__dict__.get("_lf_log")
        if lg is None:
            import logging

            lg = logging.getLogger("airflow.task.operators.%s.%s" % (
                type(self).__module__, type(self).__qualname__))
            self.__dict__["_lf_log"] = lg
        return lg

    @property
    def task_type(self):
        return type(self).__name__

    @property
    def operator_name(self):
        return getattr(self, "custom_operator_name", None) or self.task_type

    @property
    def inherits_from_empty_operator(self):
        from airflow.providers.standard.operators.empty import EmptyOperator

        return isinstance(self, EmptyOperator)

    def __repr__(self):
        return "<Task(%s): %s>" % (self.task_type, self.task_id)

    # -- ``with teardown_task:`` / ``with setup_task:`` ---------------------------------------
    def __enter__(self):
        from leoflow_rt import registry

        if self.is_teardown:
            setups = [t for t in self.upstream_list if t.is_setup]
            teardowns = [self]
        elif self.is_setup:
            setups = [self]
            teardowns = [t for t in self.downstream_list if t.is_teardown]
        else:
            from airflow.sdk.exceptions import AirflowException

            raise AirflowException("Only setup/teardown tasks can be used as context managers.")
        registry.setup_teardown_stack.append(
            {"setups": setups, "teardowns": teardowns, "nodes": []})
        return self

    def __exit__(self, *exc):
        from leoflow_rt import registry

        if not registry.setup_teardown_stack:
            return
        frame = registry.setup_teardown_stack.pop()
        if exc and exc[0] is not None:
            return
        nodes = frame["nodes"]
        if not nodes:
            return

        def no_up(n):
            return not n.upstream_task_ids and not getattr(n, "upstream_group_ids", None)

        def no_down(n):
            return not n.downstream_task_ids and not getattr(n, "downstream_group_ids", None)

        roots = [n for n in nodes if no_up(n)] or [nodes[0]]
        leaves = [n for n in nodes if no_down(n)] or [nodes[-1]]
        for s in frame["setups"]:
            s >> roots
        for t in frame["teardowns"]:
            leaves >> t
