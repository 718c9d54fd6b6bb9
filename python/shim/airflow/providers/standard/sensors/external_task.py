"""``ExternalTaskSensor`` (wait for a task/DAG in another DAG) and ``ExternalTaskMarker``."""
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk.bases.sensor import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException
from leoflow_rt.unsupported import module_getattr

_TASK_STATES = {"removed", "scheduled", "queued", "running", "success", "restarting", "failed",
                "up_for_retry", "up_for_reschedule", "upstream_failed", "skipped", "deferred",
                None}
_DAG_STATES = {"queued", "running", "success", "failed"}


class DuplicateStateError(AirflowException):
    pass


def _states(values, default):
    if not values:
        return list(default)
    return [None if s is None else str(getattr(s, "value", s)) for s in values]


class ExternalTaskSensor(BaseSensorOperator):
    template_fields = ("external_dag_id", "external_task_id", "external_task_ids",
                       "external_task_group_id")
    ui_color = "#4db7db"
    _lf_args = BaseSensorOperator._lf_args + (
        "external_dag_id", "external_task_id", "external_task_ids", "external_task_group_id",
        "allowed_states", "skipped_states", "failed_states", "execution_delta",
        "execution_date_fn", "check_existence", "poll_interval", "deferrable")

    def __init__(self, *, external_dag_id, external_task_id=None, external_task_ids=None,
                 external_task_group_id=None, allowed_states=None, skipped_states=None,
                 failed_states=None, execution_delta=None, execution_date_fn=None,
                 check_existence=False, poll_interval=2.0, deferrable=False, **kwargs):
        super().__init__(**kwargs)
        self.allowed_states = _states(allowed_states, ["success"])
        self.skipped_states = _states(skipped_states, [])
        self.failed_states = _states(failed_states, [])
        total = set(self.allowed_states + self.skipped_states + self.failed_states)
        if len(total) != len(self.allowed_states) + len(self.skipped_states) + len(
                self.failed_states):
            raise DuplicateStateError("Duplicate values provided across allowed_states, "
                                      "skipped_states and failed_states.")
        if not external_task_ids:
            external_task_ids = None
        if external_task_id is not None and external_task_ids is not None:
            raise ValueError("Only one of `external_task_id` or `external_task_ids` may be "
                             "provided to ExternalTaskSensor; use external_task_id or "
                             "external_task_ids or external_task_group_id.")
        if external_task_id is not None:
            external_task_ids = [external_task_id]
        if external_task_group_id is not None and external_task_ids is not None:
            raise ValueError("Only one of `external_task_group_id` or `external_task_ids` may be "
                             "provided to ExternalTaskSensor; use external_task_id or "
                             "external_task_ids or external_task_group_id.")
        if external_task_ids or external_task_group_id:
            if not total <= _TASK_STATES:
                raise ValueError("Valid values for `allowed_states`, `skipped_states` and "
                                 "`failed_states` when `external_task_id` or `external_task_ids` "
                                 "or `external_task_group_id` is not `None`: %s"
                                 % sorted(s for s in _TASK_STATES if s))
        elif not total <= _DAG_STATES:
            raise ValueError("Valid values for `allowed_states`, `skipped_states` and "
                             "`failed_states` when `external_task_id` and `external_task_group_id`"
                             " is `None`: %s" % sorted(_DAG_STATES))
        if execution_delta is not None and execution_date_fn is not None:
            raise ValueError("Only one of `execution_delta` or `execution_date_fn` may be "
                             "provided to ExternalTaskSensor; not both.")
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids = external_task_ids
        self.external_task_group_id = external_task_group_id
        self.check_existence = check_existence
        self.poll_interval = poll_interval
        self.deferrable = deferrable

    def poke(self, context):
        raise AirflowException("ExternalTaskSensor needs the scheduler's database; the Leoflow "
                               "Lite task runtime cannot evaluate it in the task process")


class ExternalTaskMarker(EmptyOperator):
    template_fields = ("external_dag_id", "external_task_id", "logical_date")
    ui_color = "#4db7db"
    _lf_args = ("external_dag_id", "external_task_id", "logical_date", "recursion_depth")

    def __init__(self, *, external_dag_id, external_task_id, logical_date="{{ logical_date.isoformat() }}",
                 recursion_depth=10, **kwargs):
        super().__init__(**kwargs)
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.logical_date = logical_date
        if recursion_depth <= 0:
            raise ValueError("recursion_depth should be a positive integer")
        self.recursion_depth = recursion_depth


__getattr__ = module_getattr(__name__)
