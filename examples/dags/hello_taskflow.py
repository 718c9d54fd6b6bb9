"""
### Hello, TaskFlow

The smallest useful Leoflow DAG: two Python tasks connected by an XCom.
`say_hello` returns a greeting, `shout` receives it as an argument and logs it.
"""
import pendulum

from airflow.sdk import dag, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "taskflow"],
)
def hello_taskflow():
    @task
    def say_hello(name: str = "Leoflow") -> str:
        greeting = f"Hello, {name}!"
        print(f"Built the greeting: {greeting!r}")
        return greeting

    @task
    def shout(greeting: str) -> str:
        loud = greeting.upper()
        print(f"Shouting: {loud}")
        return loud

    shout(say_hello())


hello_taskflow()
