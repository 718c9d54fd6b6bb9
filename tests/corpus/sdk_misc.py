"""Misc SDK names: get_current_context (inside tasks), timezone, Context, literal,
get_parsing_context, WeightRule, exceptions."""
import datetime

from airflow.sdk import (
    DAG,
    Context,
    WeightRule,
    get_current_context,
    get_parsing_context,
    literal,
    task,
    timezone,
)
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
)

assert issubclass(AirflowSkipException, AirflowException)
assert issubclass(AirflowFailException, AirflowException)
assert issubclass(AirflowSensorTimeout, AirflowException)
assert AirflowTaskTimeout
assert get_parsing_context().dag_id is None

with DAG("sdk_misc", start_date=timezone.datetime(2024, 1, 1), schedule=None):

    @task(weight_rule=WeightRule.UPSTREAM)
    def uses_context():
        ctx: Context = get_current_context()
        if ctx["ti"].try_number > 3:
            raise AirflowFailException("too many tries")
        raise AirflowSkipException("nothing to do")

    @task
    def show(value):
        print(value)

    uses_context() >> show(literal("{{ not rendered }}"))
