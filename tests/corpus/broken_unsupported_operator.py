"""A provider operator Leoflow Lite does not ship."""
import datetime

from airflow.sdk import DAG
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator

with DAG("broken_unsupported_operator", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="bucket", bucket_name="b")
