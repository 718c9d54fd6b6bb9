"""``@task.bash``: the function returns the bash command to run."""
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import context_merge, determine_kwargs
from airflow.sdk.bases.decorator import DecoratedOperator, task_decorator_factory
from airflow.sdk.definitions._internal.types import SET_DURING_EXECUTION


class _BashDecoratedOperator(DecoratedOperator, BashOperator):
    template_fields = ("op_args", "op_kwargs", "bash_command", "env", "cwd")
    template_fields_renderers = {"bash_command": "bash", "env": "json", "op_args": "py",
                                 "op_kwargs": "py"}
    custom_operator_name = "@task.bash"
    overwrite_rtif_after_execution = True

    def __init__(self, *, python_callable, op_args=None, op_kwargs=None, **kwargs):
        kwargs.pop("multiple_outputs", None)
        super().__init__(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs,
                         bash_command=SET_DURING_EXECUTION, multiple_outputs=False, **kwargs)

    def get_bash_command(self, context):
        """Call the function to obtain the command (a non-empty string)."""
        context_merge(context, self.op_kwargs)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        cmd = self.python_callable(*self.op_args, **kwargs)
        if not isinstance(cmd, str) or cmd.strip() == "":
            raise TypeError("The returned value from the TaskFlow callable must be a non-empty "
                            "string.")
        return cmd

    def execute(self, context):
        self.bash_command = self.get_bash_command(context)
        # Like Airflow: the returned command may itself hold Jinja, render the fields again.
        render = getattr(context.get("ti"), "render_templates", None)
        if render is not None:
            render(context=context)
        return BashOperator.execute(self, context)


def bash_task(python_callable=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable,
                                  decorated_operator_class=_BashDecoratedOperator,
                                  decorator_name="task.bash", **kwargs)
