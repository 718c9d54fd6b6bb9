"""``@task.short_circuit``: skip downstream when the function returns a falsy value."""
from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk.bases.decorator import task_decorator_factory


class _ShortCircuitDecoratedOperator(_PythonDecoratedOperator, ShortCircuitOperator):
    template_fields = ShortCircuitOperator.template_fields
    custom_operator_name = "@task.short_circuit"


def short_circuit_task(python_callable=None, multiple_outputs=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable,
                                  multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_ShortCircuitDecoratedOperator,
                                  decorator_name="task.short_circuit", **kwargs)
