"""set_upstream / set_downstream, << and lists on either side."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("set_relatives", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    a, b, c, d, e, f, g = (EmptyOperator(task_id=x) for x in "abcdefg")
    b.set_upstream(a)
    b.set_downstream([c, d])
    e << [c, d]
    [c, d] << f
    g.set_upstream(e)
    a << f
