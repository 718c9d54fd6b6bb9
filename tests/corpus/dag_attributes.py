"""DAG-level attributes."""
import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(
    dag_id="dag_attributes",
    description="All the DAG attributes",
    doc_md="# Title\nSome **markdown**.",
    schedule="0 */4 * * *",
    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    end_date=datetime.datetime(2030, 12, 31),
    catchup=True,
    max_active_runs=3,
    max_active_tasks=8,
    max_consecutive_failed_dag_runs=5,
    dagrun_timeout=datetime.timedelta(minutes=90),
    is_paused_upon_creation=False,
    render_template_as_native_obj=True,
    tags=["b", "a", "b"],
    owner_links={"ops": "https://example.com/ops"},
    dag_display_name="DAG with attributes",
    default_args={"owner": "ops"},
):
    EmptyOperator(task_id="only")
