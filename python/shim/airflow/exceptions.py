"""Legacy ``airflow.exceptions`` (re-exports the task-SDK exceptions)."""
from airflow.sdk.exceptions import *  # noqa: F401,F403
from airflow.sdk.exceptions import (  # noqa: F401
    AirflowException, AirflowSkipException, AirflowFailException, AirflowSensorTimeout,
    AirflowTaskTimeout, AirflowTaskTerminated, AirflowRescheduleException, DuplicateTaskIdFound,
    TaskNotFound, ParamValidationError, AirflowNotFoundException, AirflowBadRequest,
    AirflowConfigException, AirflowDagCycleException, AirflowTimetableInvalid, XComNotFound,
    TaskDeferred, DownstreamTasksSkipped, AirflowDagDuplicatedIdException, RemovedInAirflow4Warning,
    AirflowProviderDeprecationWarning, TaskAlreadyInTaskGroup, AirflowClusterPolicyViolation,
    AirflowOptionalProviderFeatureException, AirflowSecretsBackendAccessDenied,
    TaskDeferralTimeout, TaskAlreadyRunningError,
)


class AirflowWebServerTimeout(AirflowException):
    pass


class DagNotFound(AirflowNotFoundException):
    pass


class DagRunNotFound(AirflowNotFoundException):
    pass


class DagRunAlreadyExists(AirflowBadRequest):
    pass


class SerializationError(AirflowException):
    pass

from airflow.sdk.exceptions import AirflowOptionalProviderFeatureException  # noqa: E402,F401
