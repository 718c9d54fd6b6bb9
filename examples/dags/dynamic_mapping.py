"""
### Dynamic task mapping

`list_files` decides at run time how many items there are; `process` is expanded into
one task instance per item (`expand`), with a fixed argument set by `partial`.
`summarize` receives the list of all mapped results.
"""
import pendulum

from airflow.sdk import DAG, task

with DAG(
    dag_id="dynamic_mapping",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "mapping"],
) as dag:

    @task
    def list_files() -> list:
        files = [f"part-{i:03d}.csv" for i in range(4)]
        print(f"Found {len(files)} files: {files}")
        return files

    @task
    def process(filename: str, multiplier: int) -> int:
        part = int(filename.split("-")[1].split(".")[0])
        rows = (part + 1) * multiplier
        print(f"{filename}: {rows} rows")
        return rows

    @task
    def summarize(row_counts) -> int:
        counts = list(row_counts)
        print(f"{len(counts)} files, {sum(counts)} rows in total")
        return sum(counts)

    summarize(process.partial(multiplier=3).expand(filename=list_files()))
