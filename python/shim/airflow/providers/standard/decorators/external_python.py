"""``@task.external_python(python=...)``."""
from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.providers.standard.operators.python import ExternalPythonOperator
from airflow.sdk.bases.decorator import task_decorator_factory


class _PythonExternalDecoratedOperator(_PythonDecoratedOperator, ExternalPythonOperator):
    """Wraps a Python callable and captures args/kwargs when called for execution."""

    template_fields = ExternalPythonOperator.template_fields
    custom_operator_name = "@task.external_python"


def external_python_task(python=None, python_callable=None, multiple_outputs=None, **kwargs):
    return task_decorator_factory(python=python, python_callable=python_callable,
                                  multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_PythonExternalDecoratedOperator,
                                  **kwargs)
