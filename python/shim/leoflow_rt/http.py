"""A stdlib (urllib) stand-in for Airflow's ``HttpHook``, used by ``HttpOperator`` and
``HttpSensor`` in the task runtime. The response object has the ``requests.Response``
surface DAGs use: ``status_code``, ``reason``, ``ok``, ``text``, ``content``, ``headers``,
``url``, ``json()``, ``raise_for_status()``."""
import json


class Response:
    def __init__(self, url, status_code, reason, headers, content):
        self.url = url
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.content = content
        ctype = headers.get("Content-Type", "") if headers else ""
        self.encoding = "utf-8"
        if "charset=" in ctype:
            self.encoding = ctype.split("charset=", 1)[1].split(";")[0].strip() or "utf-8"

    @property
    def text(self):
        return self.content.decode(self.encoding, "replace")

    @property
    def ok(self):
        return self.status_code < 400

    def json(self, **kwargs):
        return json.loads(self.text, **kwargs)

    def raise_for_status(self):
        if self.status_code >= 400:
            from airflow.sdk.exceptions import AirflowException

            raise AirflowException("%s:%s" % (self.status_code, self.reason))

    def __repr__(self):
        return "<Response [%d]>" % self.status_code


def base_url(conn):
    host = (conn.host or "") if conn is not None else ""
    if "://" in host:
        url = host
    else:
        schema = (conn.schema if conn is not None else None) or "http"
        url = "%s://%s" % (schema, host) if host else ""
    if conn is not None and conn.port and "://" not in (conn.host or ""):
        url += ":%d" % int(conn.port)
    return url


def run(http_conn_id, method, endpoint, data=None, headers=None, extra_options=None,
        log=None):
    """``HttpHook(method, http_conn_id).run(endpoint, data, headers, extra_options)``."""
    import base64
    import urllib.error
    import urllib.parse
    import urllib.request

    from airflow.sdk.definitions.connection import Connection

    conn = None
    if http_conn_id:
        conn = Connection.get(http_conn_id)
    url = base_url(conn)
    endpoint = endpoint or ""
    if url and not url.endswith("/") and endpoint and not endpoint.startswith("/"):
        url += "/"
    url += endpoint
    method = (method or "GET").upper()
    hdrs = {}
    if conn is not None and conn.extra:
        extra = conn.extra_dejson
        if isinstance(extra, dict):
            hdrs.update({str(k): str(v) for k, v in extra.items()})
    hdrs.update({str(k): str(v) for k, v in (headers or {}).items()})
    if conn is not None and conn.login:
        token = base64.b64encode(("%s:%s" % (conn.login, conn.password or "")).encode()).decode()
        hdrs.setdefault("Authorization", "Basic " + token)
    body = None
    if method in ("GET", "HEAD"):
        if data:
            q = data if isinstance(data, str) else urllib.parse.urlencode(data, doseq=True)
            url += ("&" if "?" in url else "?") + q
    elif data is not None and data != {}:
        if isinstance(data, (bytes, bytearray)):
            body = bytes(data)
        elif isinstance(data, str):
            body = data.encode("utf-8")
        else:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    opts = extra_options or {}
    if log is not None:
        log.info("Sending '%s' to url: %s", method, url)
    req = urllib.request.Request(url, data=body, headers=hdrs, method=method)
    kwargs = {}
    if opts.get("timeout") is not None:
        kwargs["timeout"] = opts["timeout"]
    if opts.get("verify") is False and url.startswith("https"):
        import ssl

        kwargs["context"] = ssl._create_unverified_context()  # noqa: S323 - user asked
    try:
        with urllib.request.urlopen(req, **kwargs) as r:  # noqa: S310 - the DAG's URL
            resp = Response(r.geturl(), r.status, r.reason, dict(r.headers.items()), r.read())
    except urllib.error.HTTPError as e:
        resp = Response(url, e.code, e.reason, dict(e.headers.items()) if e.headers else {},
                        e.read() if hasattr(e, "read") else b"")
    except urllib.error.URLError as e:
        from airflow.sdk.exceptions import AirflowException

        raise AirflowException("HTTP request to %s failed: %s" % (url, e.reason)) from e
    if opts.get("check_response", True):
        if not resp.ok and log is not None:
            log.error("HTTP error: %s", resp.reason)
            log.error(resp.text)
        resp.raise_for_status()
    return resp
