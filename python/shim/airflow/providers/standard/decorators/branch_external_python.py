"""``@task.branch_external_python(python=...)``: the function, run in another interpreter,
returns the task id(s) to follow."""
from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.providers.standard.operators.python import BranchExternalPythonOperator
from airflow.sdk.bases.decorator import task_decorator_factory


class _BranchExternalPythonDecoratedOperator(_PythonDecoratedOperator,
                                             BranchExternalPythonOperator):
    template_fields = BranchExternalPythonOperator.template_fields
    custom_operator_name = "@task.branch_external_python"


def branch_external_python_task(python=None, python_callable=None, multiple_outputs=None,
                                **kwargs):
    return task_decorator_factory(python=python, python_callable=python_callable,
                                  multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_BranchExternalPythonDecoratedOperator,
                                  **kwargs)
