"""``task`` (the ``@task`` decorator collection), ``setup``, ``teardown``."""
import types

from leoflow_rt.unsupported import unsupported


class TaskDecoratorCollection:
    """``@task``, ``@task.python``, ``@task.bash``, ``@task.branch``, ``@task.short_circuit``,
    ``@task.sensor``, ``@task.docker``, ``@task.external_python``."""

    @staticmethod
    def python(python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.providers.standard.decorators.python import python_task

        return python_task(python_callable, multiple_outputs, **kwargs)

    def __call__(self, python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.providers.standard.decorators.python import python_task

        return python_task(python_callable, multiple_outputs, **kwargs)

    @staticmethod
    def bash(python_callable=None, **kwargs):
        from airflow.providers.standard.decorators.bash import bash_task

        return bash_task(python_callable, **kwargs)

    @staticmethod
    def branch(python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.providers.standard.decorators.branch_python import branch_task

        return branch_task(python_callable, multiple_outputs, **kwargs)

    @staticmethod
    def short_circuit(python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.providers.standard.decorators.short_circuit import short_circuit_task

        return short_circuit_task(python_callable, multiple_outputs, **kwargs)

    @staticmethod
    def sensor(python_callable=None, **kwargs):
        from airflow.providers.standard.decorators.sensor import sensor_task

        return sensor_task(python_callable, **kwargs)

    @staticmethod
    def external_python(python=None, python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.providers.standard.decorators.external_python import external_python_task

        return external_python_task(python, python_callable, multiple_outputs, **kwargs)

    @staticmethod
    def virtualenv(python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.providers.standard.decorators.python_virtualenv import virtualenv_task

        return virtualenv_task(python_callable, multiple_outputs, **kwargs)

    @staticmethod
    def branch_external_python(python=None, python_callable=None, multiple_outputs=None,
                               **kwargs):
        from airflow.providers.standard.decorators.branch_external_python import (
            branch_external_python_task,
        )

        return branch_external_python_task(python, python_callable, multiple_outputs, **kwargs)

    @staticmethod
    def docker(python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.providers.docker.decorators.docker import docker_task

        return docker_task(python_callable, multiple_outputs, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported("@task.%s" % name)


task = TaskDecoratorCollection()


def setup(func):
    """Mark a ``@task`` (or plain function) as a setup task."""
    from airflow.sdk.definitions.decorators.task_group import _TaskGroupFactory

    if isinstance(func, types.FunctionType):
        func = task(func)
    if isinstance(func, _TaskGroupFactory):
        from airflow.sdk.exceptions import AirflowException

        raise AirflowException("Task groups cannot be marked as setup or teardown.")
    func.is_setup = True
    return func


def teardown(_func=None, *, on_failure_fail_dagrun=False):
    """Mark a ``@task`` (or plain function) as a teardown task."""

    def wrap(func):
        if isinstance(func, types.FunctionType):
            func = task(func)
        func.is_teardown = True
        func.on_failure_fail_dagrun = on_failure_fail_dagrun
        return func

    if _func is None:
        return wrap
    return wrap(_func)
