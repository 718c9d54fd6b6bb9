"""``Variable``: key/value configuration (``AIRFLOW_VAR_<KEY>`` environment variables at parse
time; a task runtime can install ``leoflow_rt.registry.variable_getter``)."""
import os

from airflow.sdk.definitions._internal.types import NOTSET
from leoflow_rt import registry

_local = {}


class Variable:
    def __init__(self, key=None, val=None, description=None):
        self.key, self.val, self.description = key, val, description

    def __repr__(self):
        return "Variable(key=%r)" % (self.key,)

    @staticmethod
    def _lookup(key):
        if key in _local:
            return _local[key]
        if registry.variable_getter is not None:
            v = registry.variable_getter(key)
            if v is not None:
                return v
        return os.environ.get("AIRFLOW_VAR_" + key.upper())

    @classmethod
    def get(cls, key, default=NOTSET, deserialize_json=False):
        value = cls._lookup(key)
        if value is None:
            if default is not NOTSET:
                return default
            raise KeyError("Variable %s does not exist" % key)
        if deserialize_json and isinstance(value, str):
            import json

            return json.loads(value)
        return value

    @classmethod
    def set(cls, key, value, description=None, serialize_json=False):
        if serialize_json:
            import json

            value = json.dumps(value, indent=2)
        _local[key] = value

    @classmethod
    def delete(cls, key):
        _local.pop(key, None)

    @classmethod
    def setdefault(cls, key, default, description=None, deserialize_json=False):
        obj = cls.get(key, default=None, deserialize_json=deserialize_json)
        if obj is None:
            if default is not None:
                cls.set(key, default, description=description, serialize_json=deserialize_json)
                return default
            raise ValueError("Default Value must be set")
        return obj
