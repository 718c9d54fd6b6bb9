"""``BashSensor``: wait until a bash command exits 0."""
from airflow.sdk.bases.sensor import BaseSensorOperator
from leoflow_rt.unsupported import module_getattr


class BashSensor(BaseSensorOperator):
    template_fields = ("bash_command", "env")
    _lf_args = BaseSensorOperator._lf_args + ("bash_command", "env", "output_encoding",
                                              "retry_exit_code")

    def __init__(self, *, bash_command, env=None, output_encoding="utf-8", retry_exit_code=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code


__getattr__ = module_getattr(__name__)
