"""Sentinels (``NOTSET``, ``SET_DURING_EXECUTION``)."""


class ArgNotSet:
    """Sentinel type for "argument not given" (distinct from ``None``)."""

    _inst = None

    def __new__(cls):
        if cls.__dict__.get("_inst") is None:
            cls._inst = object.__new__(cls)
        return cls._inst

    def __bool__(self):
        return False

    def __repr__(self):
        return "NOTSET"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (type(self), ())

    @staticmethod
    def is_arg_set(value):
        return not isinstance(value, ArgNotSet)

    def serialize(self):
        return "NOTSET"


NOTSET = ArgNotSet()


class SetDuringExecution(ArgNotSet):
    def __repr__(self):
        return "DYNAMIC (set during execution)"

    def serialize(self):
        return "DYNAMIC (set during execution)"


SET_DURING_EXECUTION = SetDuringExecution()


def is_arg_set(value):
    return not isinstance(value, ArgNotSet)
