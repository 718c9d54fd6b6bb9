"""Dynamic task mapping with TaskFlow: expand, partial().expand(), expand_kwargs, map()."""
import datetime

from airflow.sdk import DAG, task

with DAG("mapping_taskflow", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @task
    def numbers():
        return [1, 2, 3]

    @task
    def scale(x, factor):
        return x * factor

    @task
    def add(x, y):
        return x + y

    @task
    def summarize(values):
        return sum(values)

    literal = scale.partial(factor=10).expand(x=[1, 2, 3])
    from_xcom = scale.partial(factor=2).expand(x=numbers())
    pairs = add.expand_kwargs([{"x": 1, "y": 2}, {"x": 3, "y": 4}])
    doubled = numbers.override(task_id="more_numbers")().map(lambda v: v * 2)
    mapped_map = add.partial(y=1).expand(x=doubled)
    summarize(from_xcom) >> summarize.override(task_id="summarize_literal")(literal)
    [pairs, mapped_map]
