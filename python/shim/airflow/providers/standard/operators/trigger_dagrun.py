"""``TriggerDagRunOperator``: trigger a run of another DAG."""
import datetime as _dt

from airflow.sdk.bases.operator import BaseOperator
from airflow.sdk.definitions._internal.types import NOTSET, ArgNotSet
from leoflow_rt.unsupported import module_getattr


class TriggerDagRunOperator(BaseOperator):
    template_fields = ("trigger_dag_id", "trigger_run_id", "logical_date", "conf",
                       "wait_for_completion", "skip_when_already_exists")
    template_fields_renderers = {"conf": "py"}
    ui_color = "#ffefeb"
    _lf_kind = "trigger_dagrun"
    _lf_args = ("trigger_dag_id", "trigger_run_id", "conf", "logical_date", "reset_dag_run",
                "wait_for_completion", "poke_interval", "allowed_states", "failed_states",
                "skip_when_already_exists", "fail_when_dag_is_paused", "deferrable")

    def __init__(self, *, trigger_dag_id, trigger_run_id=None, conf=None, logical_date=NOTSET,
                 reset_dag_run=False, wait_for_completion=False, poke_interval=60,
                 allowed_states=None, failed_states=None, skip_when_already_exists=False,
                 fail_when_dag_is_paused=False, deferrable=False,
                 openlineage_inject_parent_info=True, note=None, run_after=None, **kwargs):
        super().__init__(**kwargs)
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.allowed_states = [str(s) for s in allowed_states] if allowed_states else ["success"]
        self.failed_states = [str(s) for s in failed_states] if failed_states else ["failed"]
        self.skip_when_already_exists = skip_when_already_exists
        self.fail_when_dag_is_paused = fail_when_dag_is_paused
        self.deferrable = deferrable
        self.openlineage_inject_parent_info = openlineage_inject_parent_info
        self.note = note
        self.run_after = run_after
        if logical_date is not None and not isinstance(logical_date, (str, _dt.datetime,
                                                                      ArgNotSet)):
            raise TypeError("Expected str, datetime.datetime, or None for parameter "
                            "'logical_date'. Got %s" % type(logical_date).__name__)
        self.logical_date = None if isinstance(logical_date, ArgNotSet) else logical_date
        self._lf_logical_date_unset = isinstance(logical_date, ArgNotSet)

    def execute(self, context):
        """Like Airflow 3: raise ``DagRunTriggerException``; the runtime reports the run to
        create (``trigger_dag_run`` in the task result) and the server creates it."""
        import json

        from airflow.sdk import timezone
        from airflow.sdk.exceptions import AirflowException, DagRunTriggerException

        if getattr(self, "_lf_logical_date_unset", False) and self.logical_date is None:
            parsed = timezone.utcnow()
        elif self.logical_date is None or isinstance(self.logical_date, _dt.datetime):
            parsed = self.logical_date
        elif isinstance(self.logical_date, str):
            parsed = timezone.parse(self.logical_date)
        else:
            parsed = None
        conf = self.conf or {}
        if not isinstance(conf, dict):
            raise AirflowException("conf must be a dict, got %s" % type(conf).__name__)
        try:
            json.dumps(conf)
        except TypeError:
            raise ValueError("conf parameter should be JSON Serializable") from None
        if self.trigger_run_id:
            run_id = str(self.trigger_run_id)
        else:
            run_id = "manual__%s" % (parsed or timezone.utcnow()).isoformat()
        raise DagRunTriggerException(
            trigger_dag_id=self.trigger_dag_id, dag_run_id=run_id, conf=conf,
            logical_date=parsed, reset_dag_run=self.reset_dag_run,
            skip_when_already_exists=self.skip_when_already_exists,
            wait_for_completion=self.wait_for_completion, allowed_states=self.allowed_states,
            failed_states=self.failed_states, poke_interval=self.poke_interval,
            deferrable=self.deferrable, note=getattr(self, "note", None))


__getattr__ = module_getattr(__name__)
