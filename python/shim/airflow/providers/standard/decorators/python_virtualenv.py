"""``@task.virtualenv(requirements=[...])``."""
from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.providers.standard.operators.python import PythonVirtualenvOperator
from airflow.sdk.bases.decorator import task_decorator_factory


class _PythonVirtualenvDecoratedOperator(_PythonDecoratedOperator, PythonVirtualenvOperator):
    """Wraps a Python callable and captures args/kwargs when called for execution."""

    template_fields = PythonVirtualenvOperator.template_fields
    custom_operator_name = "@task.virtualenv"


def virtualenv_task(python_callable=None, multiple_outputs=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable,
                                  multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_PythonVirtualenvDecoratedOperator,
                                  **kwargs)
