from pendulum.tz.timezone import (  # noqa: F401
    UTC,
    FixedTimezone,
    InvalidTimezone,
    Timezone,
    fixed_timezone,
    local_timezone,
    timezone,
)


def get_local_timezone():
    return local_timezone()
