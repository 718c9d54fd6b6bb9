"""``HttpOperator`` (and the legacy alias ``SimpleHttpOperator``)."""
from airflow.sdk.bases.operator import BaseOperator
from leoflow_rt.unsupported import module_getattr


class HttpOperator(BaseOperator):
    template_fields = ("endpoint", "data", "headers")
    template_fields_renderers = {"headers": "json", "data": "py"}
    template_ext = ()
    ui_color = "#f4a460"
    _lf_kind = "http"
    _lf_args = ("http_conn_id", "endpoint", "method", "data", "headers", "response_check",
                "response_filter", "extra_options", "request_kwargs", "log_response",
                "auth_type", "tcp_keep_alive", "pagination_function", "deferrable")

    def __init__(self, *, endpoint=None, method="POST", data=None, headers=None,
                 pagination_function=None, response_check=None, response_filter=None,
                 extra_options=None, request_kwargs=None, http_conn_id="http_default",
                 log_response=False, auth_type=None, tcp_keep_alive=True, tcp_keep_alive_idle=120,
                 tcp_keep_alive_count=20, tcp_keep_alive_interval=30, deferrable=False,
                 retry_args=None, **kwargs):
        super().__init__(**kwargs)
        self.http_conn_id = http_conn_id
        self.method = method.upper() if isinstance(method, str) else method
        self.endpoint = endpoint
        self.headers = headers or {}
        self.data = data or {}
        self.pagination_function = pagination_function
        self.response_check = response_check
        self.response_filter = response_filter
        self.extra_options = extra_options or {}
        self.request_kwargs = request_kwargs or {}
        self.log_response = log_response
        self.auth_type = auth_type
        self.tcp_keep_alive = tcp_keep_alive
        self.tcp_keep_alive_idle = tcp_keep_alive_idle
        self.tcp_keep_alive_count = tcp_keep_alive_count
        self.tcp_keep_alive_interval = tcp_keep_alive_interval
        self.deferrable = deferrable
        self.retry_args = retry_args

    def execute(self, context):
        """Send the request (urllib) and return ``response_filter(response)`` or its text."""
        from leoflow_rt import http

        response = http.run(self.http_conn_id, self.method, self.endpoint, self.data,
                            self.headers, self.extra_options, log=self.log)
        return self.process_response(context=context, response=response)

    def process_response(self, context, response, **kwargs):
        from airflow.providers.standard.operators.python import determine_kwargs
        from airflow.sdk.exceptions import AirflowException

        if self.log_response:
            self.log.info(response.text)
        if self.response_check:
            kw = determine_kwargs(self.response_check, [response], context)
            if not self.response_check(response, **kw):
                raise AirflowException("Response check returned False.")
        if self.response_filter:
            kw = determine_kwargs(self.response_filter, [response], context)
            return self.response_filter(response, **kw)
        return response.text


SimpleHttpOperator = HttpOperator

__getattr__ = module_getattr(__name__)
