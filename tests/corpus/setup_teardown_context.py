"""`with teardown(setup()):` links the block's roots after the setup and its leaves before
the teardown (task groups included)."""
import datetime

from airflow.sdk import DAG, setup, task, task_group, teardown

with DAG("setup_teardown_context", start_date=datetime.datetime(2024, 1, 1), schedule=None):

    @setup
    def create():
        return "resource-1"

    @teardown
    def destroy(resource):
        print("destroy", resource)

    @task
    def first():
        pass

    @task
    def second():
        pass

    @task_group
    def section():
        @task
        def inner_a():
            pass

        @task
        def inner_b():
            pass

        inner_a() >> inner_b()

    @task
    def outside():
        pass

    with destroy(create()):
        first() >> second()
        section()
    outside()
