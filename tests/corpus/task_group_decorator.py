"""@task_group: return values bind dependencies; repeated calls get group__1 ids."""
import datetime

from airflow.sdk import DAG, task, task_group


@task
def make_list():
    return [1, 2, 3]


@task
def add_one(values):
    return [v + 1 for v in values]


@task
def total(values):
    return sum(values)


@task_group
def process(values):
    """Add one, then sum."""
    return total(add_one(values))


@task_group(group_id="side", tooltip="Side work")
def side_effects():
    @task
    def log_it():
        print("side")

    log_it()


with DAG("task_group_decorator", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    data = make_list()
    a = process(data)
    b = process(data)
    grp = side_effects()
    [a, b] >> grp
