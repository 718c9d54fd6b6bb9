"""Legacy ``airflow.decorators`` (Airflow 2 TaskFlow imports)."""
from airflow.sdk.definitions.decorators import (  # noqa: F401
    task,
    setup,
    teardown,
)
from airflow.sdk.definitions.decorators.task_group import (  # noqa: F401
    task_group,
)
from airflow.sdk.definitions.dag import (  # noqa: F401
    dag,
)
from airflow.sdk.bases.sensor import (  # noqa: F401
    PokeReturnValue,
)
from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
