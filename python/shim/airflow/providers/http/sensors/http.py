"""``HttpSensor``: poke an HTTP endpoint until ``response_check`` passes."""
from airflow.sdk.bases.sensor import BaseSensorOperator
from leoflow_rt.unsupported import module_getattr


class HttpSensor(BaseSensorOperator):
    template_fields = ("endpoint", "request_params", "headers")
    _lf_args = BaseSensorOperator._lf_args + ("http_conn_id", "endpoint", "method",
                                              "request_params", "headers", "response_check",
                                              "extra_options")

    def __init__(self, *, endpoint, http_conn_id="http_default", method="GET",
                 request_params=None, request_kwargs=None, headers=None, response_error_codes_allowlist=None,
                 response_check=None, extra_options=None, tcp_keep_alive=True,
                 tcp_keep_alive_idle=120, tcp_keep_alive_count=20, tcp_keep_alive_interval=30,
                 deferrable=False, **kwargs):
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.http_conn_id = http_conn_id
        self.method = method
        self.request_params = request_params or {}
        self.headers = headers or {}
        self.response_check = response_check
        self.extra_options = extra_options or {}
        self.deferrable = deferrable
        self.request_kwargs = request_kwargs or {}
        self.response_error_codes_allowlist = tuple(response_error_codes_allowlist or ("404",))

    def poke(self, context):
        from airflow.providers.standard.operators.python import determine_kwargs
        from airflow.sdk.exceptions import AirflowException
        from leoflow_rt import http

        self.log.info("Poking: %s", self.endpoint)
        try:
            response = http.run(self.http_conn_id, self.method, self.endpoint,
                                self.request_params, self.headers, self.extra_options,
                                log=self.log)
            if self.response_check:
                kw = determine_kwargs(self.response_check, [response], context)
                return self.response_check(response, **kw)
        except AirflowException as exc:
            if str(exc).startswith(self.response_error_codes_allowlist):
                return False
            raise
        return True


__getattr__ = module_getattr(__name__)
