"""``@task_group``: calling the decorated function creates a ``TaskGroup`` around its tasks."""
from airflow.sdk.definitions.taskgroup import TaskGroup
from leoflow_rt.unsupported import unsupported


class _TaskGroupFactory:
    def __init__(self, function, tg_kwargs, tg_class=TaskGroup):
        if not callable(function):
            raise TypeError("task_group expects a callable")
        self.function = function
        self.tg_kwargs = dict(tg_kwargs)
        self.tg_class = tg_class
        self.tg_kwargs.setdefault("group_id", function.__name__)
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                setattr(self, attr, getattr(function, attr))
            except AttributeError:
                pass
        self.__wrapped__ = function

    def __call__(self, *args, **kwargs):
        with self.tg_class(add_suffix_on_collision=True, **self.tg_kwargs) as task_group:
            if self.function.__doc__ and not task_group.tooltip:
                task_group.tooltip = self.function.__doc__
            retval = self.function(*args, **kwargs)
        if retval is not None:
            return retval
        return task_group

    def override(self, **kwargs):
        return _TaskGroupFactory(self.function, dict(self.tg_kwargs, **kwargs), self.tg_class)

    def partial(self, **kwargs):
        raise unsupported("mapped task groups (@task_group ... .partial/.expand)")

    def expand(self, **kwargs):
        raise unsupported("mapped task groups (@task_group ... .expand)")

    def expand_kwargs(self, kwargs):
        raise unsupported("mapped task groups (@task_group ... .expand_kwargs)")


def task_group(python_callable=None, **tg_kwargs):
    """``@task_group`` / ``@task_group(group_id=..., tooltip=..., prefix_group_id=...)``."""
    if callable(python_callable) and not tg_kwargs:
        return _TaskGroupFactory(python_callable, {})
    if isinstance(python_callable, str):
        tg_kwargs.setdefault("group_id", python_callable)

    def wrapper(f):
        return _TaskGroupFactory(f, tg_kwargs)

    return wrapper
