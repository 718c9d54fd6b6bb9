"""``DependencyMixin`` (the ``>>`` / ``<<`` operators) and ``ResolveMixin``."""


def as_relatives(task_or_task_list):
    """Normalise the right-hand side of ``>>`` into a list of dependency objects."""
    if isinstance(task_or_task_list, DependencyMixin):
        return [task_or_task_list]
    if isinstance(task_or_task_list, (list, tuple)):
        items = list(task_or_task_list)
    elif isinstance(task_or_task_list, (set, frozenset)):
        items = list(task_or_task_list)
    else:
        try:
            items = list(task_or_task_list)
        except TypeError:
            raise TypeError(
                "Relationships can only be set between Operators; received %s"
                % type(task_or_task_list).__name__) from None
    for obj in items:
        if not isinstance(obj, DependencyMixin):
            raise TypeError(
                "Relationships can only be set between Operators; received %s"
                % type(obj).__name__)
    return items


class DependencyMixin:
    """Mixing in ``>>``, ``<<`` (and their reflected forms) for tasks, groups, XComArgs, labels."""

    @property
    def roots(self):
        raise NotImplementedError

    @property
    def leaves(self):
        raise NotImplementedError

    def set_upstream(self, other, edge_modifier=None):
        raise NotImplementedError

    def set_downstream(self, other, edge_modifier=None):
        raise NotImplementedError

    def as_setup(self):
        raise NotImplementedError

    def as_teardown(self, *, setups=None, on_failure_fail_dagrun=None):
        raise NotImplementedError

    def update_relative(self, other, upstream=True, edge_modifier=None):
        """Hook for the non-main side of a relationship (a no-op for tasks)."""

    def __lshift__(self, other):
        """``self << other``."""
        self.set_upstream(other)
        return other

    def __rshift__(self, other):
        """``self >> other``."""
        self.set_downstream(other)
        return other

    def __rrshift__(self, other):
        """``[a, b] >> self``."""
        self.__lshift__(other)
        return self

    def __rlshift__(self, other):
        """``[a, b] << self``."""
        self.__rshift__(other)
        return self


class ResolveMixin:
    """Objects resolved at run time (XComArg, DagParam...)."""

    def iter_references(self):
        return iter(())

    def resolve(self, context):
        raise NotImplementedError
