"""``@task.branch``: the function returns the task id(s) to follow."""
from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk.bases.decorator import task_decorator_factory


class _BranchPythonDecoratedOperator(_PythonDecoratedOperator, BranchPythonOperator):
    template_fields = BranchPythonOperator.template_fields
    custom_operator_name = "@task.branch"


def branch_task(python_callable=None, multiple_outputs=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable,
                                  multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_BranchPythonDecoratedOperator,
                                  decorator_name="task.branch", **kwargs)
