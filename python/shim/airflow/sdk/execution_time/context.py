"""``context_to_airflow_vars``: the ``AIRFLOW_CTX_*`` variables of a task context."""
AIRFLOW_VAR_NAME_FORMAT_MAPPING = {
    "AIRFLOW_CONTEXT_DAG_ID": {"default": "airflow.ctx.dag_id",
                               "env_var_format": "AIRFLOW_CTX_DAG_ID"},
    "AIRFLOW_CONTEXT_TASK_ID": {"default": "airflow.ctx.task_id",
                                "env_var_format": "AIRFLOW_CTX_TASK_ID"},
    "AIRFLOW_CONTEXT_LOGICAL_DATE": {"default": "airflow.ctx.logical_date",
                                     "env_var_format": "AIRFLOW_CTX_LOGICAL_DATE"},
    "AIRFLOW_CONTEXT_TRY_NUMBER": {"default": "airflow.ctx.try_number",
                                   "env_var_format": "AIRFLOW_CTX_TRY_NUMBER"},
    "AIRFLOW_CONTEXT_DAG_RUN_ID": {"default": "airflow.ctx.dag_run_id",
                                   "env_var_format": "AIRFLOW_CTX_DAG_RUN_ID"},
    "AIRFLOW_CONTEXT_DAG_OWNER": {"default": "airflow.ctx.dag_owner",
                                  "env_var_format": "AIRFLOW_CTX_DAG_OWNER"},
    "AIRFLOW_CONTEXT_DAG_EMAIL": {"default": "airflow.ctx.dag_email",
                                  "env_var_format": "AIRFLOW_CTX_DAG_EMAIL"},
}


def context_to_airflow_vars(context, in_env_var_format=False):
    """The context's DAG id, task id, logical date, try number, run id, owner and email as
    ``airflow.ctx.*`` (or ``AIRFLOW_CTX_*``) strings."""
    params = {}
    key = "env_var_format" if in_env_var_format else "default"
    ti = context.get("ti") or context.get("task_instance")
    task = context.get("task")
    dag_run = context.get("dag_run")
    values = [
        ("AIRFLOW_CONTEXT_DAG_ID", getattr(ti, "dag_id", None)),
        ("AIRFLOW_CONTEXT_TASK_ID", getattr(ti, "task_id", None)),
        ("AIRFLOW_CONTEXT_LOGICAL_DATE",
         getattr(getattr(dag_run, "logical_date", None), "isoformat", lambda: None)()),
        ("AIRFLOW_CONTEXT_TRY_NUMBER", getattr(ti, "try_number", None)),
        ("AIRFLOW_CONTEXT_DAG_RUN_ID", getattr(dag_run, "run_id", None)),
    ]
    owner = getattr(task, "owner", None)
    if owner:
        values.append(("AIRFLOW_CONTEXT_DAG_OWNER",
                       owner if isinstance(owner, str) else ",".join(owner)))
    email = getattr(task, "email", None)
    if email:
        values.append(("AIRFLOW_CONTEXT_DAG_EMAIL",
                       email if isinstance(email, str) else ",".join(email)))
    for name, value in values:
        if value is not None:
            params[AIRFLOW_VAR_NAME_FORMAT_MAPPING[name][key]] = str(value)
    return params
