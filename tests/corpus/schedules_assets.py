"""Asset-triggered DAGs and producer tasks (outlets)."""
import datetime

from airflow.sdk import DAG, Asset, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

raw = Asset("s3://bucket/raw.csv")
clean = Asset(name="clean", uri="file:///data/clean.parquet")
report = Asset("report")

with DAG("asset_producer", start_date=datetime.datetime(2024, 1, 1), schedule="@daily"):

    @task(outlets=[raw, clean])
    def produce():
        pass

    produce()

with DAG("asset_consumer_list", start_date=datetime.datetime(2024, 1, 1), schedule=[raw, clean]):

    @task(inlets=[raw])
    def consume():
        pass

    consume()

with DAG("asset_consumer_any", schedule=(raw | report), start_date=datetime.datetime(2024, 1, 1)):

    @task
    def any_of():
        pass

    any_of()

with DAG("asset_consumer_all", schedule=raw & (clean | report)):

    @task
    def all_of():
        pass

    all_of()

with DAG("asset_or_time", start_date=datetime.datetime(2024, 1, 1),
         schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * *", timezone="UTC"),
                                      assets=[report])):

    @task
    def either():
        pass

    either()
