"""``LatestOnlyOperator``: skip downstream tasks unless this is the latest scheduled run."""
from airflow.providers.standard.operators.python import BaseBranchOperator
from leoflow_rt.unsupported import module_getattr


class LatestOnlyOperator(BaseBranchOperator):
    """Skip the direct downstream tasks unless this run is the latest scheduled one."""

    ui_color = "#e9ffdb"
    _lf_kind = "latest_only"

    def choose_branch(self, context):
        import pendulum

        dag_run = context["dag_run"]
        if str(getattr(dag_run, "run_type", "")) == "manual":
            self.log.info("Manually triggered DAG_Run: allowing execution to proceed.")
            return sorted(self.get_direct_relative_ids(upstream=False))
        dates = self._get_compare_dates(dag_run)
        if dates is None:
            self.log.info("Last scheduled execution: allowing execution to proceed.")
            return sorted(self.get_direct_relative_ids(upstream=False))
        now = pendulum.now("UTC")
        left_window, right_window = dates
        self.log.info("Checking latest only with left_window: %s right_window: %s now: %s",
                      left_window, right_window, now)
        if not left_window < now <= right_window:
            self.log.info("Not latest execution, skipping downstream.")
            return []
        self.log.info("Latest, allowing execution to proceed.")
        return sorted(self.get_direct_relative_ids(upstream=False))

    def _get_compare_dates(self, dag_run):
        """(this run's interval start, the next run's interval end), or None when the
        timetable has no next run (None/once/assets/custom timetables)."""
        import datetime as _dt

        date = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
        if date is None:
            return None
        start = getattr(dag_run, "data_interval_start", None) or date
        end = getattr(dag_run, "data_interval_end", None) or date
        tt = self.dag.timetable
        delta = getattr(tt, "_delta", None)
        if isinstance(delta, _dt.timedelta):
            return start, end + delta
        expr = getattr(tt, "_expression", None)
        if isinstance(expr, str):
            from airflow.timetables._cron import next_after

            try:
                nxt = next_after(expr, end, getattr(tt, "_timezone", None) or _dt.timezone.utc)
            except ValueError as e:
                self.log.warning("%s: allowing execution to proceed", e)
                return None
            return start, nxt
        return None


__getattr__ = module_getattr(__name__)
