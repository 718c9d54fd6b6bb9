"""cross_downstream() from the SDK and from airflow.utils.helpers."""
import datetime

from airflow.sdk import DAG, cross_downstream
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.utils.helpers import cross_downstream as legacy_cross

with DAG("cross_downstream", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    ups = [EmptyOperator(task_id=f"up{i}") for i in range(2)]
    mids = [EmptyOperator(task_id=f"mid{i}") for i in range(3)]
    downs = [EmptyOperator(task_id=f"down{i}") for i in range(2)]
    cross_downstream(ups, mids)
    legacy_cross(mids, downs)
