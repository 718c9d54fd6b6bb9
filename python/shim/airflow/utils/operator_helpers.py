"""Airflow 2's ``airflow.utils.operator_helpers`` names."""
from airflow.sdk.bases.decorator import KeywordParameters, determine_kwargs  # noqa: F401
from airflow.sdk.execution_time.context import (  # noqa: F401
    AIRFLOW_VAR_NAME_FORMAT_MAPPING,
    context_to_airflow_vars,
)
