"""``Connection`` (``AIRFLOW_CONN_<ID>`` URI/JSON environment variables at parse time)."""
import json
import os

from leoflow_rt import registry


class Connection:
    def __init__(self, conn_id=None, conn_type=None, description=None, host=None, login=None,
                 password=None, schema=None, port=None, extra=None, uri=None):
        self.conn_id = conn_id
        self.conn_type = conn_type
        self.description = description
        self.host = host
        self.login = login
        self.password = password
        self.schema = schema
        self.port = port
        self.extra = extra if extra is None or isinstance(extra, str) else json.dumps(extra)
        if uri:
            self._parse_from_uri(uri)

    def __repr__(self):
        return "Connection(conn_id=%r, conn_type=%r, host=%r)" % (self.conn_id, self.conn_type,
                                                                  self.host)

    def _parse_from_uri(self, uri):
        from urllib.parse import parse_qsl, unquote, urlsplit

        parts = urlsplit(uri)
        scheme = parts.scheme
        self.conn_type = scheme.replace("-", "_")
        self.host = unquote(parts.hostname or "") or None
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        self.schema = unquote(path) or None
        self.login = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.port = parts.port
        if parts.query:
            q = dict(parse_qsl(parts.query, keep_blank_values=True))
            if "__extra__" in q:
                self.extra = q["__extra__"]
            else:
                self.extra = json.dumps(q)

    @property
    def extra_dejson(self):
        if not self.extra:
            return {}
        try:
            return json.loads(self.extra)
        except ValueError:
            return {}

    def get_uri(self):
        from urllib.parse import quote

        uri = "%s://" % (self.conn_type or "").replace("_", "-")
        if self.login:
            uri += quote(self.login, safe="")
            if self.password:
                uri += ":" + quote(self.password, safe="")
            uri += "@"
        uri += self.host or ""
        if self.port:
            uri += ":%d" % self.port
        if self.schema:
            uri += "/" + quote(self.schema, safe="")
        return uri

    def get_hook(self, *, hook_params=None):
        """The hook of this connection's type, from the provider that declares the type
        (``connection-types`` of an installed ``apache-airflow-providers-*`` package)."""
        from airflow.providers_manager import ProvidersManager
        from airflow.sdk.exceptions import AirflowException

        hook = ProvidersManager().hooks.get(self.conn_type)
        if hook is None:
            installed = ", ".join(sorted(ProvidersManager().hook_class_names)) or "none"
            raise AirflowException(
                "Unknown hook type %r of connection %r: no installed provider package declares "
                "it (connection types of installed providers: %s). Install the provider with "
                "the interpreter Lite runs tasks with (--python)." % (self.conn_type,
                                                                       self.conn_id, installed))
        from airflow.sdk.module_loading import import_string

        cls = import_string(hook.hook_class_name)
        return cls(**{hook.connection_id_attribute_name: self.conn_id}, **(hook_params or {}))

    def get_password(self):
        return self.password

    def get_extra(self):
        return self.extra

    def test_connection(self):
        try:
            hook = self.get_hook()
            if getattr(hook, "test_connection", None):
                return hook.test_connection()
            return False, "Hook %s doesn't implement or inherit test_connection" % (
                type(hook).__name__,)
        except Exception as e:  # noqa: BLE001
            return False, str(e)

    @classmethod
    def from_json(cls, value, conn_id=None):
        d = json.loads(value)
        extra = d.pop("extra", None)
        port = d.pop("port", None)
        return cls(conn_id=conn_id, extra=extra, port=int(port) if port else None, **d)

    @classmethod
    def get(cls, conn_id):
        if registry.connection_getter is not None:
            c = registry.connection_getter(conn_id)
            if c is not None:
                return c
        raw = os.environ.get("AIRFLOW_CONN_" + conn_id.upper())
        if raw is None:
            from airflow.sdk.exceptions import AirflowNotFoundException

            raise AirflowNotFoundException("The conn_id `%s` isn't defined" % conn_id)
        if raw.lstrip().startswith("{"):
            return cls.from_json(raw, conn_id=conn_id)
        return cls(conn_id=conn_id, uri=raw)
