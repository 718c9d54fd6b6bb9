"""
### Data-aware scheduling with Assets

`produce_report` declares the asset it updates (`outlets`); `assets_consumer` has no
time schedule: it runs whenever that asset is updated by a successful producer run.
"""
import json
import os
import tempfile

import pendulum

from airflow.sdk import DAG, Asset, task

REPORT_PATH = os.path.join(tempfile.gettempdir(), "leoflow_example_report.json")
report_asset = Asset(f"file://{REPORT_PATH}", extra={"format": "json"})

with DAG(
    dag_id="assets_producer",
    schedule="@hourly",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "assets"],
):

    @task(outlets=[report_asset])
    def produce_report():
        report = {"generated_at": pendulum.now("UTC").to_iso8601_string(), "rows": 42}
        with open(REPORT_PATH, "w") as fh:
            json.dump(report, fh)
        print(f"Wrote {REPORT_PATH}: {report}")

    produce_report()

with DAG(
    dag_id="assets_consumer",
    schedule=[report_asset],
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "assets"],
):

    @task(inlets=[report_asset])
    def read_report():
        with open(REPORT_PATH) as fh:
            report = json.load(fh)
        print(f"Report generated at {report['generated_at']} has {report['rows']} rows")

    read_report()
