"""Exceptions of the standard provider."""
from airflow.sdk.exceptions import AirflowException


class HITLTriggerEventError(Exception):
    """Raised when TriggerEvent contains error."""


class HITLTimeoutError(HITLTriggerEventError):
    """Raised when HITLOperator timeouts."""


class HITLRejectException(AirflowException):
    """Raised when an ApprovalOperator receives a "Reject" response when fail_on_reject is set
    to True."""
