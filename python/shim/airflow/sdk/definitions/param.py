"""``Param`` / ``ParamsDict`` (JSON-schema validated DAG and task parameters) and ``DagParam``."""
from airflow.sdk.definitions._internal.mixins import ResolveMixin
from airflow.sdk.definitions._internal.types import NOTSET, ArgNotSet
from airflow.sdk.exceptions import ParamValidationError


class Param:
    """A DAG/task parameter: a default value plus JSON-schema keywords (type, minimum, enum...)."""

    __version__ = 1
    CLASS_IDENTIFIER = "__class"

    def __init__(self, default=NOTSET, description=None, **kwargs):
        if default is not NOTSET:
            self._check_json(default)
        self.value = default
        self.description = description
        self.schema = kwargs.pop("schema") if "schema" in kwargs else kwargs
        self.source = None

    def __copy__(self):
        p = Param.__new__(Param)
        p.__dict__.update(self.__dict__)
        return p

    def __repr__(self):
        return "Param(%r, description=%r, schema=%r)" % (self.value, self.description, self.schema)

    @staticmethod
    def _check_json(value):
        import json

        try:
            json.dumps(value)
        except Exception:
            raise ParamValidationError(
                "All provided parameters must be json-serializable. "
                "The value '%s' is not serializable." % (value,)) from None

    def resolve(self, value=NOTSET, suppress_exception=False):
        final_val = self.value if value is NOTSET else value
        if isinstance(final_val, ArgNotSet):
            if suppress_exception:
                return None
            raise ParamValidationError("No value passed and Param has no default value")
        try:
            import json

            json.dumps(final_val)
        except Exception:
            if suppress_exception:
                return None
            raise ParamValidationError(
                "All provided parameters must be json-serializable. "
                "The value '%s' is not serializable." % (final_val,)) from None
        from leoflow_rt.jsonschema_lite import ValidationError, validate

        try:
            validate(final_val, self.schema)
        except ValidationError as err:
            if suppress_exception:
                return None
            raise ParamValidationError(str(err)) from None
        self.value = final_val
        return final_val

    def dump(self):
        return {self.CLASS_IDENTIFIER: "airflow.sdk.definitions.param.Param",
                "value": None if self.value is NOTSET else self.value,
                "description": self.description, "schema": self.schema}

    @property
    def has_value(self):
        return self.value is not NOTSET and self.value is not None

    def serialize(self):
        return {"value": None if self.value is NOTSET else self.value,
                "description": self.description, "schema": self.schema, "source": self.source}


class ParamsDict(dict):
    """A dict of ``Param``; ``params["x"]`` returns the resolved value, like Airflow."""

    __version__ = 1
    __slots__ = ("suppress_exception",)

    def __init__(self, dict_obj=None, suppress_exception=False):
        super().__init__()
        self.suppress_exception = suppress_exception
        if dict_obj:
            for k, v in (dict_obj.items() if isinstance(dict_obj, dict) else dict_obj):
                dict.__setitem__(self, k, v if isinstance(v, Param) else Param(v))

    def __copy__(self):
        return ParamsDict({k: v.__copy__() for k, v in self.items_params()},
                          self.suppress_exception)

    def __deepcopy__(self, memo):
        import copy

        return ParamsDict({k: copy.deepcopy(v, memo) for k, v in self.items_params()},
                          self.suppress_exception)

    def __setitem__(self, key, value):
        if isinstance(value, Param):
            param = value
        elif dict.__contains__(self, key):
            param = dict.__getitem__(self, key)
            try:
                param.resolve(value=value, suppress_exception=self.suppress_exception)
            except ParamValidationError as ve:
                raise ParamValidationError("Invalid input for param %s: %s" % (key, ve)) from None
        else:
            param = Param(value)
        dict.__setitem__(self, key, param)

    def __getitem__(self, key):
        return dict.__getitem__(self, key).resolve(suppress_exception=self.suppress_exception)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def get_param(self, key):
        return dict.__getitem__(self, key)

    def items_params(self):
        return list(dict.items(self))

    def values(self):
        return [self[k] for k in self]

    def items(self):
        return [(k, self[k]) for k in self]

    def update(self, *args, **kwargs):
        if args and isinstance(args[0], ParamsDict):
            other = dict(dict.items(args[0]))
            other.update(kwargs)
        else:
            other = dict(*args, **kwargs)
        for k, v in other.items():
            self[k] = v

    def dump(self):
        return {k: v.resolve(suppress_exception=True) for k, v in dict.items(self)}

    def validate(self):
        resolved = {}
        k = None
        try:
            for k, v in dict.items(self):
                resolved[k] = v.resolve(suppress_exception=self.suppress_exception)
        except ParamValidationError as ve:
            raise ParamValidationError("Invalid input for param %s: %s" % (k, ve)) from None
        return resolved

    def deep_merge(self, data):
        if data is None:
            return
        for k, v in (data.items() if not isinstance(data, ParamsDict) else dict.items(data)):
            self[k] = v


class DagParam(ResolveMixin):
    """A ``@dag`` function argument: resolved from the DAG run's params at run time."""

    def __init__(self, current_dag, name, default=NOTSET):
        if default is not NOTSET:
            current_dag.params[name] = default
        self._name = name
        self._default = default
        self.current_dag = current_dag

    def __repr__(self):
        return "DagParam(%r)" % (self._name,)

    def __str__(self):
        return "{{ params.%s }}" % (self._name,)

    def iter_references(self):
        return iter(())

    def resolve(self, context):
        try:
            return context["dag_run"].conf[self._name]
        except (KeyError, TypeError, AttributeError):
            pass
        if self._default is not NOTSET:
            return self._default
        try:
            return context["params"][self._name]
        except KeyError:
            pass
        raise KeyError("No value could be resolved for parameter %s" % self._name)
