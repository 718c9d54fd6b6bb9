"""``BaseHook``: base class for hooks (connection lookup, a logger, the hook of a connection)."""
import logging


class BaseHook:
    conn_name_attr = None
    default_conn_name = "default_conn_id"
    conn_type = None
    hook_name = None

    def __init__(self, logger_name=None):
        self._log_config_logger_name = "airflow.task.hooks"
        self._logger_name = logger_name

    @property
    def log(self):
        name = self._logger_name or "%s.%s" % (type(self).__module__, type(self).__name__)
        return logging.getLogger("airflow.task.hooks." + name)

    @classmethod
    def get_connection(cls, conn_id):
        from airflow.sdk.definitions.connection import Connection

        return Connection.get(conn_id)

    @classmethod
    async def aget_connection(cls, conn_id):
        return cls.get_connection(conn_id)

    @classmethod
    def get_hook(cls, conn_id, hook_params=None):
        """The hook of connection ``conn_id``'s type (an installed provider's hook class)."""
        return cls.get_connection(conn_id).get_hook(hook_params=hook_params)

    def get_conn(self):
        raise NotImplementedError()

    @classmethod
    def get_connection_form_widgets(cls):
        return {}

    @classmethod
    def get_ui_field_behaviour(cls):
        return {}
