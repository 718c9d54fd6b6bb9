from pendulum.tz.timezone import InvalidTimezone  # noqa: F401


class NonExistingTime(ValueError):
    pass


class AmbiguousTime(ValueError):
    pass
