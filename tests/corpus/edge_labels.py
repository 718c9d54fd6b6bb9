"""Edge labels: a >> Label("x") >> b, with lists, groups and chain()."""
import datetime

from airflow.sdk import DAG, Label, TaskGroup, chain
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.utils.edgemodifier import Label as LegacyLabel

with DAG("edge_labels", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    check = EmptyOperator(task_id="check")
    ok = EmptyOperator(task_id="ok")
    bad = EmptyOperator(task_id="bad")
    check >> Label("valid") >> ok
    check >> LegacyLabel("invalid") >> bad
    report = EmptyOperator(task_id="report")
    [ok, bad] >> Label("always report") >> report
    with TaskGroup("grp") as grp:
        g1 = EmptyOperator(task_id="g1")
    report >> Label("into group") >> grp
    tail = EmptyOperator(task_id="tail")
    chain(grp, Label("chained"), tail)
    unlabeled = EmptyOperator(task_id="unlabeled")
    tail >> unlabeled
