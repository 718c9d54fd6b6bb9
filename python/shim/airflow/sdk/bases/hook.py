"""``BaseHook``: base class for hooks (connection lookup)."""


class BaseHook:
    conn_name_attr = None
    default_conn_name = "default_conn_id"
    conn_type = None
    hook_name = None

    def __init__(self, logger_name=None):
        self._logger_name = logger_name

    @classmethod
    def get_connection(cls, conn_id):
        from airflow.sdk.definitions.connection import Connection

        return Connection.get(conn_id)

    @classmethod
    def get_hook(cls, conn_id, hook_params=None):
        raise NotImplementedError("hooks are not resolved by Leoflow Lite")

    def get_conn(self):
        raise NotImplementedError()
