"""``@task.sensor``: the function is the poke (return bool or PokeReturnValue)."""
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk.bases.decorator import get_unique_task_id, task_decorator_factory


class DecoratedSensorOperator(PythonSensor):
    template_fields = ("op_args", "op_kwargs")
    template_fields_renderers = {"op_args": "py", "op_kwargs": "py"}
    custom_operator_name = "@task.sensor"
    shallow_copy_attrs = ("python_callable",)

    def __init__(self, *, task_id, **kwargs):
        kwargs["task_id"] = get_unique_task_id(task_id, kwargs.get("dag"), kwargs.get("task_group"))
        super().__init__(**kwargs)


def sensor_task(python_callable=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable, multiple_outputs=False,
                                  decorated_operator_class=DecoratedSensorOperator,
                                  decorator_name="task.sensor", **kwargs)
