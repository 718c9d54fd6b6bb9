"""``@task_group``: calling the decorated function creates a ``TaskGroup`` around its tasks;
``.partial(...).expand(...)`` / ``.expand_kwargs(...)`` create a ``MappedTaskGroup`` whose
function arguments are ``MappedArgument`` stubs (resolved per map index at run time)."""
import functools
import inspect

from airflow.sdk.definitions.taskgroup import MappedArgument, MappedTaskGroup, TaskGroup


class _TaskGroupFactory:
    def __init__(self, function, tg_kwargs, tg_class=TaskGroup, partial_kwargs=None):
        if not callable(function):
            raise TypeError("task_group expects a callable")
        self.function = function
        self.tg_kwargs = dict(tg_kwargs)
        self.tg_class = tg_class
        self.partial_kwargs = dict(partial_kwargs or {})
        self.tg_kwargs.setdefault("group_id", function.__name__)
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                setattr(self, attr, getattr(function, attr))
            except AttributeError:
                pass
        self.__wrapped__ = function

    def __call__(self, *args, **kwargs):
        return self._create_task_group(self.tg_class, *args, **kwargs)

    def _create_task_group(self, tg_factory, *args, **kwargs):
        with tg_factory(add_suffix_on_collision=True, **self.tg_kwargs) as task_group:
            if self.function.__doc__ and not task_group.tooltip:
                task_group.tooltip = self.function.__doc__
            for v in kwargs.values():
                if isinstance(v, MappedArgument):
                    v._group = task_group
            retval = self.function(*args, **kwargs)
        if retval is not None:
            return retval
        return task_group

    def override(self, **kwargs):
        return _TaskGroupFactory(self.function, dict(self.tg_kwargs, **kwargs), self.tg_class,
                                 self.partial_kwargs)

    @property
    def function_signature(self):
        return inspect.signature(self.function)

    def _validate_arg_names(self, func, kwargs):
        sig = self.function_signature
        if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            return
        names = set(sig.parameters)
        unknown = [k for k in kwargs if k not in names]
        if len(unknown) == 1:
            raise TypeError("%s() got an unexpected keyword argument %r" % (func, unknown[0]))
        if unknown:
            raise TypeError("%s() got unexpected keyword arguments %s"
                            % (func, ", ".join(repr(k) for k in unknown)))

    def partial(self, **kwargs):
        self._validate_arg_names("partial", kwargs)
        dup = set(self.partial_kwargs).intersection(kwargs)
        if dup:
            raise TypeError("duplicate partial arguments: %s" % ", ".join(sorted(dup)))
        return _TaskGroupFactory(self.function, self.tg_kwargs, self.tg_class,
                                 dict(self.partial_kwargs, **kwargs))

    def expand(self, **kwargs):
        from airflow.sdk.definitions.xcom_arg import PlainXComArg, XComArg

        if not kwargs:
            raise TypeError("no arguments to expand against")
        self._validate_arg_names("expand", kwargs)
        dup = set(self.partial_kwargs).intersection(kwargs)
        if dup:
            raise TypeError("mapping already partial arguments: %s" % ", ".join(sorted(dup)))
        for v in kwargs.values():
            for op, key in XComArg.iter_xcom_references(v):
                if key != "return_value":
                    raise ValueError("cannot map over XCom with custom key %r from %r"
                                     % (key, op))
            if isinstance(v, MappedArgument):
                raise ValueError("Nested Mapped TaskGroups are not yet supported")
            if not isinstance(v, (XComArg, PlainXComArg, list, tuple, dict)) and not hasattr(
                    v, "resolve"):
                raise ValueError("cannot map over value of type %s for argument %r: expand() "
                                 "accepts a list, a dict or an XComArg"
                                 % (type(v).__name__, next(k for k in kwargs if kwargs[k] is v)))
        factory = functools.partial(MappedTaskGroup, expand=dict(kwargs))
        return self._create_task_group(
            factory, **self.partial_kwargs,
            **{k: MappedArgument(k) for k in kwargs})

    def expand_kwargs(self, kwargs):
        from airflow.sdk.definitions.xcom_arg import XComArg

        if isinstance(kwargs, (list, tuple)):
            for item in kwargs:
                if not isinstance(item, (XComArg, dict)):
                    raise TypeError("expected XComArg or list[dict], not %s"
                                    % type(kwargs).__name__)
        elif not isinstance(kwargs, XComArg):
            raise TypeError("expected XComArg or list[dict], not %s" % type(kwargs).__name__)
        params = self.function_signature.parameters.values()
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            raise TypeError("calling expand_kwargs() on task group function with * or ** is "
                            "not supported")
        names = [k for k in self.function_signature.parameters if k not in self.partial_kwargs]
        factory = functools.partial(MappedTaskGroup, expand_kwargs=kwargs)
        return self._create_task_group(
            factory, **self.partial_kwargs, **{k: MappedArgument(k) for k in names})


def task_group(python_callable=None, **tg_kwargs):
    """``@task_group`` / ``@task_group(group_id=..., tooltip=..., prefix_group_id=...)``."""
    if callable(python_callable) and not tg_kwargs:
        return _TaskGroupFactory(python_callable, {})
    if isinstance(python_callable, str):
        tg_kwargs.setdefault("group_id", python_callable)

    def wrapper(f):
        return _TaskGroupFactory(f, tg_kwargs)

    return wrapper
