"""``PythonSensor``: wait until a callable returns True."""
from airflow.providers.standard.operators.python import determine_kwargs
from airflow.sdk.bases.sensor import BaseSensorOperator, PokeReturnValue  # noqa: F401
from leoflow_rt.unsupported import module_getattr


class PythonSensor(BaseSensorOperator):
    template_fields = ("templates_dict", "op_args", "op_kwargs")
    _lf_args = BaseSensorOperator._lf_args + ("python_callable", "op_args", "op_kwargs",
                                              "templates_dict")

    def __init__(self, *, python_callable, op_args=None, op_kwargs=None, templates_dict=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict

    def poke(self, context):
        context.update(self.op_kwargs)
        context["templates_dict"] = self.templates_dict
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        return self.python_callable(*self.op_args, **kwargs)


__getattr__ = module_getattr(__name__)
