"""Airflow 3 task-SDK exceptions (``airflow.sdk.exceptions``)."""


class AirflowException(Exception):
    """Base class for all Airflow errors."""

    status_code = 500


class AirflowBadRequest(AirflowException):
    status_code = 400


class AirflowNotFoundException(AirflowException):
    status_code = 404


class AirflowConfigException(AirflowException):
    pass


class AirflowSensorTimeout(AirflowException):
    """Sensor ran out of time."""


class AirflowRescheduleException(AirflowException):
    def __init__(self, reschedule_date=None):
        super().__init__()
        self.reschedule_date = reschedule_date


class AirflowSkipException(AirflowException):
    """Mark the task instance as skipped."""


class AirflowFailException(AirflowException):
    """Fail the task instance without retrying."""


class AirflowTaskTerminated(BaseException):
    """The task was terminated externally."""


class AirflowTaskTimeout(BaseException):
    """The task (or a DAG-file import) exceeded its time limit."""


class AirflowDagCycleException(AirflowException):
    pass


class AirflowDagDuplicatedIdException(AirflowException):
    pass


class AirflowClusterPolicyViolation(AirflowException):
    pass


class AirflowTimetableInvalid(AirflowException):
    pass


class DuplicateTaskIdFound(AirflowException):
    """A task (or task group) id is already used in the DAG."""


class TaskAlreadyInTaskGroup(AirflowException):
    def __init__(self, task_id, existing_group_id, new_group_id):
        super().__init__(task_id, new_group_id)
        self.task_id = task_id
        self.existing_group_id = existing_group_id
        self.new_group_id = new_group_id

    def __str__(self):
        if self.existing_group_id is None:
            existing = "the DAG's root group"
        else:
            existing = "group %r" % self.existing_group_id
        return "cannot add %r to %r (already in %s)" % (self.task_id, self.new_group_id, existing)


class TaskNotFound(AirflowNotFoundException):
    pass


class ParamValidationError(AirflowException):
    """A Param value does not satisfy its schema."""


class XComNotFound(AirflowException):
    def __init__(self, dag_id=None, task_id=None, key=None):
        super().__init__()
        self.dag_id, self.task_id, self.key = dag_id, task_id, key

    def __str__(self):
        return 'XComArg result from %s at %s with key="%s" is not found!' % (
            self.task_id, self.dag_id, self.key)


class UnmappableXComTypePushed(AirflowException):
    """A task pushed a value that a downstream mapped task cannot map over."""

    def __init__(self, value, *values):
        super().__init__(value, *values)

    def __str__(self):
        typename = type(self.args[0]).__qualname__
        for arg in self.args[1:]:
            typename = "%s[%s]" % (typename, type(arg).__qualname__)
        return "unmappable return type %r" % (typename,)


class XComForMappingNotPushed(AirflowException):
    """A task a downstream mapped task maps over returned nothing."""

    def __str__(self):
        return "did not push XCom for task mapping"


class UnmappableXComLengthPushed(AirflowException):
    pass


class TaskDeferred(BaseException):
    def __init__(self, *, trigger=None, method_name=None, kwargs=None, timeout=None):
        super().__init__()
        self.trigger, self.method_name, self.kwargs, self.timeout = trigger, method_name, kwargs, timeout


class TaskDeferralError(AirflowException):
    pass


class DagRunTriggerException(AirflowException):
    """Raised by ``TriggerDagRunOperator``: the runtime reports the run to create."""

    def __init__(self, *, trigger_dag_id, dag_run_id, conf, logical_date, reset_dag_run,
                 skip_when_already_exists, wait_for_completion, allowed_states, failed_states,
                 poke_interval, deferrable, note=None):
        super().__init__()
        self.trigger_dag_id = trigger_dag_id
        self.dag_run_id = dag_run_id
        self.conf = conf
        self.logical_date = logical_date
        self.reset_dag_run = reset_dag_run
        self.skip_when_already_exists = skip_when_already_exists
        self.wait_for_completion = wait_for_completion
        self.allowed_states = allowed_states
        self.failed_states = failed_states
        self.poke_interval = poke_interval
        self.deferrable = deferrable
        self.note = note


class DownstreamTasksSkipped(AirflowException):
    def __init__(self, *, tasks):
        super().__init__()
        self.tasks = tasks


class AirflowRuntimeError(Exception):
    def __init__(self, error=None, *args):
        super().__init__(error, *args)
        self.error = error


class RemovedInAirflow4Warning(DeprecationWarning):
    pass


class AirflowProviderDeprecationWarning(DeprecationWarning):
    pass


class FailFastDagInvalidTriggerRule(AirflowException):
    def __str__(self):
        return "A 'fail_fast' dag can only have the 'all_success' trigger rule"


class AirflowOptionalProviderFeatureException(AirflowException):
    """Raise by providers when imports are missing for optional provider features."""
