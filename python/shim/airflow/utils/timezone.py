"""Legacy ``airflow.utils.timezone``."""
from airflow.sdk.timezone import *  # noqa: F401,F403
from airflow.sdk.timezone import (  # noqa: F401
    TIMEZONE, coerce_datetime, convert_to_utc, datetime, is_localized, is_naive, make_aware,
    make_naive, parse, parse_timezone, td_format, utc, utcnow, local_timezone, from_timestamp,
)
