"""``@task.docker``: the decorated function runs inside a container of ``image``.

Owns the authoring surface (``docker_task``, ``_DockerDecoratedOperator``: DockerOperator's
parameters plus ``python_command``; the container command is built by the runtime, so
``command`` / ``retrieve_output*`` are not accepted). At run time ``leoflow_rt.container``
writes the function (decorators stripped) and its JSON arguments into the exchange folder and
the server runs it with the image's own Python. Imported by DAG files and by
``task.docker``. See PROTOCOL.md.
"""
from airflow.providers.docker.operators.docker import DockerOperator, check_parameters
from airflow.sdk.bases.decorator import DecoratedOperator, task_decorator_factory

SERIALIZERS = ("pickle", "dill", "cloudpickle")


class _DockerDecoratedOperator(DecoratedOperator, DockerOperator):
    custom_operator_name = "@task.docker"
    template_fields = DockerOperator.template_fields + ("op_args", "op_kwargs")
    template_fields_renderers = {"env_file": "yaml", "op_args": "py", "op_kwargs": "py"}
    _lf_args = ("python_command",)

    def __init__(self, *, python_command="python3", expect_airflow=True, serializer=None,
                 **kwargs):
        type(self)._lf_check_kwargs(kwargs)
        if serializer is not None and serializer not in SERIALIZERS:
            from airflow.sdk.exceptions import AirflowException

            raise AirflowException("Unsupported serializer %r. Expected one of %s"
                                   % (serializer, ", ".join(repr(s) for s in SERIALIZERS)))
        # Arguments and the return value always travel as JSON (``serializer`` is accepted
        # for compatibility; ``expect_airflow`` too: the image needs no Airflow).
        self.python_command = python_command
        self.expect_airflow = expect_airflow
        self.serializer = serializer or "pickle"
        super().__init__(command=None, retrieve_output=False, retrieve_output_path=None,
                         **kwargs)

    @classmethod
    def _lf_check_kwargs(cls, kwargs):
        """DockerOperator's refusals, and the arguments ``@task.docker`` sets itself (checked
        by ``docker_task``, the operator and ``MappedOperator``)."""
        for name in ("command", "retrieve_output", "retrieve_output_path"):
            if name in kwargs:
                raise TypeError("@task.docker does not accept %r: the container runs the "
                                "function with python_command and returns its value as JSON "
                                "(the function's return value is the XCom)" % name)
        check_parameters(cls, kwargs)


def docker_task(python_callable=None, multiple_outputs=None, **kwargs):
    """``@task.docker(image=..., ...)``: run the function in a container of ``image``."""
    _DockerDecoratedOperator._lf_check_kwargs(kwargs)
    return task_decorator_factory(python_callable=python_callable,
                                  multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_DockerDecoratedOperator,
                                  decorator_name="task.docker", **kwargs)
