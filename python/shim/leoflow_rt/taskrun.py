"""Runs one try of one Python-executed task instance (``boot.py run-task REQUEST.json``).

The server writes REQUEST (see PROTOCOL.md, "Task runtime (run-task)"), starts this in the
task's own process group with an environment built from scratch, and streams its stdout and
stderr to the task log. This re-imports the DAG file under the shim (as Airflow's task runner
does), resolves XComArgs from the XCom values in REQUEST, runs the task with its context and
writes RESULT atomically. Exit codes: 0 success, 1 failed, 99 skipped.
"""
import json
import os
import sys
import traceback

XCOM_RETURN_KEY = "return_value"


class _TaskInstance:
    """The ``ti`` of the context: XCom pull/push over the values the server sent."""

    def __init__(self, req):
        self.task_id = req["task_id"]
        self.dag_id = req["dag_id"]
        self.run_id = req["run_id"]
        self.map_index = req.get("map_index", -1)
        self.try_number = req.get("try_number", 1)
        self._xcom = {}
        for x in req.get("xcom", []):
            self._xcom[(x["task_id"], x.get("map_index", -1), x["key"])] = x["value"]
        self.pushed = []

    def xcom_pull(self, task_ids=None, key=XCOM_RETURN_KEY, map_indexes=None, dag_id=None,
                  include_prior_dates=False, default=None):
        if task_ids is None:
            task_ids = self.task_id
        single = isinstance(task_ids, str)
        out = []
        for t in ([task_ids] if single else list(task_ids)):
            found = sorted(
                (m, v) for (tt, m, k), v in self._xcom.items()
                if tt == t and k == (key or XCOM_RETURN_KEY)
                and (map_indexes is None or m == map_indexes
                     or (isinstance(map_indexes, (list, tuple)) and m in map_indexes)))
            if not found:
                out.append(default)
            elif len(found) == 1 and found[0][0] == -1:
                out.append(found[0][1])
            else:
                out.append([v for _, v in found])
        return out[0] if single else out

    def xcom_push(self, key, value):
        self.pushed.append({"key": key, "value": value})


def _resolve(value, context):
    from airflow.sdk.definitions.xcom_arg import XComArg

    if isinstance(value, XComArg):
        return value.resolve(context)
    if isinstance(value, list):
        return [_resolve(v, context) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(v, context) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, context) for k, v in value.items()}
    return value


def _write(path, result):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh)
    os.replace(tmp, path)


def main(request_path):
    with open(request_path) as fh:
        req = json.load(fh)
    result = {"state": "failed", "xcom": [], "branch": None, "short_circuit": None,
              "error": None, "retryable": True}
    code = 1
    try:
        import airflow.sdk.exceptions as exc
        from leoflow_rt import loader, registry

        variables = req.get("variables") or {}
        registry.variable_getter = variables.get
        _, dags, errors = loader.load_file(req["dag_file"], req["dags_folder"])
        dag = next((d for d in dags if d.dag_id == req["dag_id"]), None)
        if dag is None:
            raise RuntimeError("DAG %r is no longer defined by %s: %s" % (
                req["dag_id"], req["dag_file"], "; ".join(e["message"] for e in errors) or "no error"))
        task = dag.task_dict.get(req["task_id"])
        if task is None:
            raise RuntimeError("task %r is no longer in DAG %r" % (req["task_id"], req["dag_id"]))
        ti = _TaskInstance(req)
        ti.task = task
        skipped = []
        ti._lf_record_skip = lambda ids: skipped.extend(i for i in ids if i not in skipped)
        ti._lf_record_branch = lambda ids: result.__setitem__("branch", list(ids))
        context = dict(req.get("context") or {})
        # Dates arrive as RFC 3339 strings; tasks expect pendulum DateTimes, as in Airflow.
        import pendulum
        for k in ("logical_date", "data_interval_start", "data_interval_end"):
            if isinstance(context.get(k), str):
                context[k] = pendulum.parse(context[k])
        context.update({"ti": ti, "task_instance": ti, "dag": dag, "task": task})
        registry.context_stack.append(context)
        for attr in ("op_args", "op_kwargs", "templates_dict"):
            if getattr(task, attr, None) is not None:
                setattr(task, attr, _resolve(getattr(task, attr), context))
        kind = req.get("kind")
        try:
            try:
                rv = task.execute(context)
            except exc.DownstreamTasksSkipped:
                # Branching and short-circuit skip their downstream tasks this way (Airflow 3).
                rv = None
        except exc.AirflowSkipException as e:
            print("Task skipped: %s" % e)
            result.update(state="skipped")
            code = 99
        else:
            pushed = list(ti.pushed)
            if getattr(task, "do_xcom_push", True) and rv is not None:
                try:
                    json.dumps(rv)
                except (TypeError, ValueError):
                    raise TypeError("the return value of %s is a %s, which is not JSON-serialisable; "
                                    "return plain data (dict, list, str, numbers) or a path"
                                    % (req["task_id"], type(rv).__name__))
                pushed.append({"key": XCOM_RETURN_KEY, "value": rv})
                if getattr(task, "multiple_outputs", False) and isinstance(rv, dict):
                    pushed.extend({"key": str(k), "value": v} for k, v in rv.items())
            result.update(state="success", xcom=pushed, skip=list(skipped))
            code = 0
    except BaseException as e:  # noqa: BLE001 - every failure becomes a result
        try:
            import airflow.sdk.exceptions as exc
            fail_types = (exc.AirflowFailException, getattr(exc, "AirflowSensorTimeout", ()))
            retryable = not isinstance(e, fail_types)
        except Exception:  # noqa: BLE001
            retryable = True
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        result.update(state="failed", retryable=retryable,
                      error={"type": type(e).__name__, "message": str(e), "traceback": tb})
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    _write(req["result_path"], result)
    return code
