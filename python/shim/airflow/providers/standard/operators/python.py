"""``PythonOperator``, ``BranchPythonOperator``, ``ShortCircuitOperator``."""
from airflow.sdk.bases.operator import BaseOperator
from airflow.sdk.definitions.context import get_current_context  # noqa: F401
from airflow.sdk.exceptions import AirflowException
from leoflow_rt.unsupported import module_getattr


def determine_kwargs(python_callable, op_args, context):
    """The keyword arguments ``python_callable`` wants from ``context`` (Airflow's rules)."""
    from leoflow_rt.sigbind import param_names

    pos, kwonly, _va, varkw = param_names(python_callable)
    for name in pos[:len(op_args)]:
        if name in context:
            raise ValueError("The key %r in args is a part of kwargs and therefore reserved."
                             % name)
    if varkw:
        return dict(context)
    wanted = tuple(pos) + tuple(kwonly)
    return {k: context[k] for k in wanted if k in context}


def context_merge(context, *args, **kwargs):
    for a in args:
        if a:
            context.update(a)
    context.update(kwargs)


class PythonOperator(BaseOperator):
    """Call ``python_callable(*op_args, **op_kwargs)`` (plus the context keys it asks for)."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers = {"templates_dict": "json", "op_args": "py", "op_kwargs": "py"}
    BLUE = "#ffefeb"
    ui_color = BLUE
    shallow_copy_attrs = ("python_callable", "op_kwargs")
    _lf_kind = "python"
    _lf_args = ("python_callable", "op_args", "op_kwargs", "templates_dict",
                "show_return_value_in_logs")

    def __init__(self, *, python_callable, op_args=None, op_kwargs=None, templates_dict=None,
                 templates_exts=None, show_return_value_in_logs=True, **kwargs):
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise AirflowException("`python_callable` param must be callable")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict
        if templates_exts:
            self.template_ext = templates_exts
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context):
        context_merge(context, self.op_kwargs, templates_dict=self.templates_dict)
        self.op_kwargs = self.determine_kwargs(context)
        return self.execute_callable()

    def determine_kwargs(self, context):
        return determine_kwargs(self.python_callable, self.op_args, context)

    def execute_callable(self):
        return self.python_callable(*self.op_args, **self.op_kwargs)


class BaseBranchOperator(BaseOperator):
    """Branching: ``choose_branch`` returns the task id(s) to follow; others are skipped."""

    _lf_kind = "branch"
    inherits_from_skipmixin = True

    def choose_branch(self, context):
        raise NotImplementedError

    def execute(self, context):
        return self.choose_branch(context)


class BranchPythonOperator(PythonOperator):
    """The callable returns the task id (or list of ids) to follow."""

    _lf_kind = "branch"
    inherits_from_skipmixin = True


class ShortCircuitOperator(PythonOperator):
    """Skip everything downstream when the callable returns a falsy value."""

    _lf_kind = "short_circuit"
    _lf_args = PythonOperator._lf_args + ("ignore_downstream_trigger_rules",)
    inherits_from_skipmixin = True

    def __init__(self, *, ignore_downstream_trigger_rules=True, **kwargs):
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules


__getattr__ = module_getattr(__name__)
