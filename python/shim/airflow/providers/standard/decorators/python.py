"""``@task`` / ``@task.python``."""
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk.bases.decorator import DecoratedOperator, task_decorator_factory


class _PythonDecoratedOperator(DecoratedOperator, PythonOperator):
    template_fields = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers = {"templates_dict": "json", "op_args": "py", "op_kwargs": "py"}
    custom_operator_name = "@task"

    def __init__(self, *, python_callable, op_args, op_kwargs, **kwargs):
        kwargs_to_upstream = {"python_callable": python_callable, "op_args": op_args,
                              "op_kwargs": op_kwargs}
        super().__init__(kwargs_to_upstream=kwargs_to_upstream, python_callable=python_callable,
                         op_args=op_args, op_kwargs=op_kwargs, **kwargs)


def python_task(python_callable=None, multiple_outputs=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable,
                                  multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_PythonDecoratedOperator, **kwargs)
