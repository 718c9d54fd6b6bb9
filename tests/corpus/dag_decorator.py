"""@dag: calling the decorated function creates the DAG; its arguments become params."""
import pendulum

from airflow.sdk import dag, task


@dag(
    schedule="0 6 * * 1-5",
    start_date=pendulum.datetime(2024, 3, 1, tz="Europe/Paris"),
    catchup=False,
    tags=["decorated"],
    default_args={"owner": "ops", "retries": 2},
)
def decorated_pipeline(email: str = "team@example.com", limit: int = 10):
    """### Decorated pipeline: the docstring becomes the DAG's doc_md."""

    @task
    def fetch(limit):
        return list(range(limit))

    @task
    def notify(rows, email):
        print(len(rows), email)

    notify(fetch(limit), email)


decorated_pipeline()


@dag(dag_id="explicit_id_dag", schedule=None)
def ignored_function_name():
    @task
    def only():
        pass

    only()


explicit = ignored_function_name()
