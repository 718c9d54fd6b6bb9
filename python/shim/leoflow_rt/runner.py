"""Running one task instance, and its outcome.

Owns ``Runner``: load the DAG file and find the task, build the context (``context.py``),
unmap a mapped task (``mapping.py``), render its template fields (``rendering.py``), then
Airflow's ``pre_execute`` / ``on_execute_callback`` / ``execute`` / ``post_execute`` (for a
``docker`` task, instead of ``execute``: the container request, ``container.py``), the
``return_value`` / ``multiple_outputs`` XCom push, what ends the run (skip, branch,
short-circuit, ``DownstreamTasksSkipped``, ``TriggerDagRunOperator``, failure and
``retryable``), the ``on_*_callback``s, ``map_index_template``, and the result dict, written
by ``write_result``. Called by ``child.py`` (the forked child runs one ``Runner`` and writes
its result; the spare's warm-up runs its steps on an in-memory DAG).
See PROTOCOL.md, "Result file" and "What runs".
"""
import functools
import json
import os
import time
from collections.abc import Sequence as _Sequence

from leoflow_rt.container import ContainerConfigError, is_container_task
from leoflow_rt.container import build as build_container
from leoflow_rt.context import (
    _MISSING,
    RETURN_KEY,
    RuntimeTaskInstance,
    XComStore,
    build_context,
    check_json,
    enter_task_context,
    install_getters,
    leave_task_context,
)
from leoflow_rt.mapping import XComResolver
from leoflow_rt.rendering import FieldRenderer

_HERE = os.path.dirname(os.path.abspath(__file__))
#: The runtime's own modules (all once task.py): their frames are cut from the top of a
#: task's traceback.
_OWN_MODULES = frozenset(os.path.join(_HERE, m) for m in ("task", "capture", "context",
                                                             "mapping", "rendering", "runner",
                                                             "child", "container"))


# -- small helpers ---------------------------------------------------------------------------
def _one_line(exc):
    msg = str(exc)
    text = "%s: %s" % (type(exc).__name__, msg) if msg else type(exc).__name__
    return " ".join(text.split()) if "\n" in text else text


def _format_tb(exc):
    """The traceback of ``exc`` without the runtime's own frames at the top."""
    import traceback

    tb = exc.__traceback__
    while tb is not None and os.path.splitext(tb.tb_frame.f_code.co_filename)[0] in _OWN_MODULES:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


# -- the run ---------------------------------------------------------------------------------
class _Failure(Exception):
    """Start-up failure with a clear message (no user traceback)."""

    def __init__(self, message, type_name="TaskRuntimeError", retryable=True, traceback=""):
        super().__init__(message)
        self.type_name = type_name
        self.retryable = retryable
        self.tb = traceback


class Runner:
    def __init__(self, spec, sink):
        self.spec = spec
        self.sink = sink
        self.dag = None
        self.task = None      # the DAG's task (possibly a MappedOperator)
        self.op = None        # the operator that runs (unmapped for mapped tasks)
        self.ti = None
        self.context = None
        self.resolver = None  # XComResolver, with the context
        self.fields = None    # FieldRenderer, with the context
        self.result = {"state": "failed", "xcom": [], "branch": None, "short_circuit": None,
                       "error": None, "retryable": True, "rendered_fields": {}, "skip": [],
                       "rendered_map_index": None}
        self.timings = {}
        self._last = time.perf_counter()

    def mark(self, phase):
        now = time.perf_counter()
        self.timings[phase + "_ms"] = round((now - self._last) * 1000.0, 3)
        self._last = now

    def log(self, message, level="info"):
        self.sink.emit_text("leoflow", message, level)

    # -- set-up ------------------------------------------------------------------------------
    def _load(self):
        from leoflow_rt.loader import load_file

        spec = self.spec
        dag_file = spec.get("dag_file")
        dag_id = spec.get("dag_id")
        task_id = spec.get("task_id")
        os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = str(dag_id)
        os.environ["_AIRFLOW_PARSING_CONTEXT_TASK_ID"] = str(task_id)
        try:
            _module, dags, errors = load_file(dag_file, spec.get("dags_folder"))
        finally:
            os.environ.pop("_AIRFLOW_PARSING_CONTEXT_DAG_ID", None)
            os.environ.pop("_AIRFLOW_PARSING_CONTEXT_TASK_ID", None)
        dag = None
        for d in dags:
            if d.dag_id == dag_id:
                dag = d
        if dag is None:
            if errors:
                e = errors[0]
                raise _Failure("Failed to import DAG file %s: %s" % (dag_file, e["message"]),
                               type_name=e["message"].split(":", 1)[0].strip() or
                               "ImportError", traceback=e.get("traceback") or "")
            raise _Failure("DAG %r not found in %s (the file defines: %s)" % (
                dag_id, dag_file, ", ".join(sorted(d.dag_id for d in dags)) or "no DAG"),
                type_name="DagNotFound")
        task = dag.task_dict.get(task_id)
        if task is None:
            raise _Failure("Task %r not found in DAG %r" % (task_id, dag_id),
                           type_name="TaskNotFound")
        self.dag, self.task = dag, task

    def _build_context(self):
        self.context = build_context(self.spec, self.dag, self.task, self.ti)
        self.resolver = XComResolver(self.ti, self.context)
        self.fields = FieldRenderer(self.dag, self.context, self.resolver, self.sink)

    # -- the task ----------------------------------------------------------------------------
    def _prepare(self):
        task, ti = self.task, self.ti
        if getattr(task, "is_mapped", False):
            if ti.map_index < 0:
                raise _Failure("Task %r is mapped: the task instance needs a map_index >= 0"
                               % task.task_id)
            given = self.spec.get("map_kwargs")
            if given is not None and not isinstance(given, dict):
                raise _Failure("TI.map_kwargs must be an object, got %s" % type(given).__name__)
            kwargs, resolved_keys = self.resolver.map_kwargs(task, ti.map_index, given)
            op = task.unmap(kwargs)
            op.upstream_task_ids = set(task.upstream_task_ids)
            op.downstream_task_ids = set(task.downstream_task_ids)
            if task.task_group is not None:
                op.__dict__["task_group"] = task.task_group
            if getattr(task, "_lf_decorated", False):
                self.fields.seen_oids.update(id(op.op_kwargs.get(k)) for k in resolved_keys
                                             if k in op.op_kwargs)
            else:
                self.fields.seen_oids.update(id(getattr(op, k, None)) for k in resolved_keys)
            ti.is_mapped = True
        else:
            in_mapped_group = task.get_closest_mapped_task_group() is not None
            if ti.map_index >= 0 and not in_mapped_group:
                raise _Failure("Task %r is not mapped but map_index is %d"
                               % (task.task_id, ti.map_index))
            op = task
            ti.is_mapped = in_mapped_group
        self.op = op
        ti.task = op
        self.context["task"] = op
        ti._rerender = functools.partial(self.fields.render_templates, op)
        self.fields.render_templates(op)
        self.result["rendered_fields"] = self.fields.rendered_fields(op)

    def _execute(self, container=False):
        """``execute`` between Airflow's hooks; with ``container``, the container request of a
        ``docker`` task instead (the server runs it; ``post_execute`` does not run here)."""
        op, context = self.op, self.context
        enter_task_context(context)
        try:
            op.pre_execute(context)
            self._callbacks("on_execute_callback")
            if container:
                try:
                    return build_container(op, self.spec, self.sink)
                except ContainerConfigError as e:
                    raise _Failure(str(e), type_name="ContainerConfigError",
                                   retryable=False) from None
            resume = self.spec.get("resume")
            if resume:
                # A deferred try resuming (Airflow's next_method / next_kwargs).
                from leoflow_rt.mapping import _decode_tags

                method = getattr(op, resume.get("method") or "execute_complete")
                result = method(context, _decode_tags(resume.get("event") or {}))
            else:
                result = op.execute(context)
            op.post_execute(context, result)
        finally:
            leave_task_context()
        return result

    def _mapped_dependants(self):
        from airflow.sdk.definitions.xcom_arg import XComArg

        for t in self.dag.task_dict.values():
            if not getattr(t, "is_mapped", False) or t is self.task:
                continue
            for operator, _key in XComArg.iter_xcom_references(t.expand_input):
                if operator.task_id == self.task.task_id:
                    return True
        for g in self.dag.task_group.iter_task_groups():
            if getattr(g, "is_mapped", False):
                for operator, _key in g.iter_references():
                    if operator.task_id == self.task.task_id:
                        return True
        return False

    def _push_return(self, value):
        """Airflow's ``_push_xcom_if_needed``."""
        from collections.abc import Mapping

        from airflow.sdk.exceptions import UnmappableXComTypePushed, XComForMappingNotPushed

        op, ti = self.op, self.ti
        xcom_value = value if op.do_xcom_push else None
        has_mapped_dep = not ti.is_mapped and self._mapped_dependants()
        if xcom_value is None:
            if has_mapped_dep:
                raise XComForMappingNotPushed()
            return
        if has_mapped_dep and (isinstance(xcom_value, str) or not isinstance(
                xcom_value, (_Sequence, dict))):
            raise UnmappableXComTypePushed(xcom_value)
        check_json(xcom_value, "The value returned by task %r (type %r)"
                   % (ti.task_id, type(xcom_value).__name__))
        if op.multiple_outputs:
            if not isinstance(xcom_value, Mapping):
                raise TypeError("Returned output was type %s expected dictionary for "
                                "multiple_outputs" % type(xcom_value))
            for key in xcom_value:
                if not isinstance(key, str):
                    raise TypeError("Returned dictionary keys must be strings when using "
                                    "multiple_outputs, found %s (%s) instead" % (key, type(key)))
            for k, v in xcom_value.items():
                ti.xcom_push(k, v)
        ti.xcom_push(RETURN_KEY, xcom_value)

    def _callbacks(self, kind):
        op = self.op or self.task
        cbs = getattr(op, kind, None) if op is not None else None
        if not cbs:
            return
        if not isinstance(cbs, (list, tuple)):
            cbs = [cbs]
        import logging

        for i, cb in enumerate(cbs):
            try:
                cb(self.context)
            except BaseException:  # noqa: BLE001 - Airflow logs callback errors
                logging.getLogger("airflow.task").exception(
                    "Failed to run task callback (kind=%s, index=%d, callback=%r)", kind, i, cb)

    def run(self):
        import airflow.sdk.exceptions as ex

        spec, result = self.spec, self.result
        error = None
        return_value = _MISSING
        try:
            if spec.get("task_args") is not None:
                return self._run_entrypoint()
            cwd = spec.get("cwd")
            if cwd:
                try:
                    os.chdir(cwd)
                except OSError as e:
                    raise _Failure("Cannot change to the task's working directory %s: %s"
                                   % (cwd, e.strerror or e)) from None
            mark = self.mark
            install_getters(spec, self.sink)
            from leoflow_rt import venvs

            venvs.CACHE_DIR = spec.get("venv_cache")
            self.ti = RuntimeTaskInstance(spec, XComStore(spec.get("xcom")), self.sink)
            self._load()
            mark("import")
            self._build_context()
            self._prepare()
            mark("prepare")
            if is_container_task(self.op):
                result["container"] = request = self._execute(container=True)
                mark("execute")
                self.log("Container prepared (the server runs it): image=%s command=%s"
                         % (request["image"], request["command"]))
                state = "container"
            else:
                value = self._execute()
                mark("execute")
                return_value = value
                self._push_return(value)
                state = "success"
        except ex.DagRunTriggerException as e:
            self.log("Triggering Dag Run: dag_id=%s run_id=%s (created by the server)"
                     % (e.trigger_dag_id, e.dag_run_id))
            ld = e.logical_date
            result["trigger_dag_run"] = {
                "dag_id": e.trigger_dag_id, "run_id": e.dag_run_id, "conf": e.conf,
                "logical_date": ld.isoformat() if hasattr(ld, "isoformat") else ld,
                "reset_dag_run": bool(e.reset_dag_run),
                "skip_when_already_exists": bool(e.skip_when_already_exists),
                "wait_for_completion": bool(e.wait_for_completion),
                "allowed_states": list(e.allowed_states or []),
                "failed_states": list(e.failed_states or []),
                "poke_interval": e.poke_interval, "note": e.note}
            try:
                self.ti.xcom_push("trigger_run_id", e.dag_run_id)
            except Exception:  # noqa: BLE001
                pass
            state = "success"
        except ex.TaskDeferred as e:
            if not getattr(e.trigger, "_lf_hitl", False):
                state = "failed"
                error = e
                self._fail(e)
            else:
                state = "deferred"
                result["defer"] = _hitl_defer(e)
                self.log("Task deferred: waiting for a Human-in-the-loop response (%s)"
                         % (result["defer"]["hitl"].get("subject"),))
        except ex.DownstreamTasksSkipped as e:
            self.log("Skipping downstream tasks.")
            tasks = e.tasks if isinstance(e.tasks, list) else [e.tasks]
            result["skip"] = [t[0] if isinstance(t, (list, tuple)) else t for t in tasks]
            state = "success"
        except ex.AirflowSkipException as e:
            if e.args:
                self.log("Skipping task: %s" % (e.args[0],))
            state = "skipped"
        except ex.AirflowRescheduleException as e:
            state = "up_for_reschedule"
            result["reschedule_date"] = _utc_iso(e.reschedule_date)
            self.log("Rescheduling task, marking task as UP_FOR_RESCHEDULE (next poke at %s)"
                     % result["reschedule_date"])
        except BaseException as e:  # noqa: BLE001 - every failure becomes a result
            state = "failed"
            error = e
            self._fail(e)
        ti = self.ti
        if ti is not None:
            import pendulum

            ti.state = state
            ti.end_date = pendulum.now("UTC")
            if ti._skip is not None and not result["skip"]:
                result["skip"] = ti._skip
            if ti._branch is not None:
                result["branch"] = ti._branch
            if ti._short_circuit is not None:
                result["short_circuit"] = ti._short_circuit
            result["xcom"] = [{"key": k, "value": v} for k, v in ti._pushed.items()]
            if result["branch"] is None and self.op is not None and _is_branch(self.op) and (
                    state == "success" and return_value is not _MISSING):
                result["branch"] = _branch_ids(return_value)
            if result["short_circuit"] is None and self.op is not None and _is_short_circuit(
                    self.op) and state == "success":
                result["short_circuit"] = bool(return_value) if return_value is not _MISSING \
                    else False
        if return_value is not _MISSING and return_value is not None:
            try:
                check_json(return_value, "return value")
                result["return_value"] = return_value
            except TypeError:
                pass
        if state == "success" and self.context is not None:
            events = _outlet_events(self.context.get("outlet_events"))
            if events:
                result["outlet_events"] = events
        if self.op is not None and getattr(self.op, "overwrite_rtif_after_execution", False):
            result["rendered_fields"] = self.fields.rendered_fields(self.op)
        if self.context is not None:
            self._finalize(state, error)
        result["state"] = state
        return result

    def _run_entrypoint(self):
        """A registered task: its entrypoint called as Pro calls it (``entrypoint.py``)."""
        from leoflow_rt import entrypoint

        result = self.result
        try:
            install_getters(self.spec, self.sink)
            value = entrypoint.call(self.spec)
            self.mark("execute")
            if value is not None:
                check_json(value, "The value returned by task %r (type %r)"
                           % (self.spec.get("task_id"), type(value).__name__))
                result["return_value"] = value
                result["xcom"] = [{"key": RETURN_KEY, "value": value}]
            self.log("Done. Returned value was: %s" % (value,))
            result["state"] = "success"
        except entrypoint.EntrypointError as e:
            self._fail(_Failure(str(e), type_name="EntrypointError", retryable=False))
            result["state"] = "failed"
        except BaseException as e:  # noqa: BLE001 - every failure becomes a result
            self._fail(e)
            result["state"] = "failed"
        return result

    def _fail(self, e):
        import airflow.sdk.exceptions as ex

        result = self.result
        if isinstance(e, _Failure):
            result["error"] = {"type": e.type_name, "message": str(e), "traceback": e.tb}
            result["retryable"] = e.retryable
            self.log(str(e), "error")
            if e.tb:
                self.sink.emit_text("leoflow", e.tb, "error")
            return
        tb = _format_tb(e)
        message = _one_line(e)
        retryable = not isinstance(e, (ex.AirflowFailException, ex.AirflowSensorTimeout,
                                       ex.AirflowTaskTerminated, ex.TaskDeferred))
        if isinstance(e, ex.TaskDeferred):
            message = ("TaskDeferred: Leoflow Lite does not support deferrable operators (the "
                       "task deferred to %s)" % (type(e.trigger).__name__,))
        elif isinstance(e, SystemExit):
            message = "SystemExit: the task called sys.exit(%r)" % (e.code,)
        result["error"] = {"type": type(e).__name__, "message": message, "traceback": tb}
        result["retryable"] = retryable
        self.log("Task failed with exception", "error")
        self.sink.emit_text("leoflow", tb, "error")

    def _finalize(self, state, error):
        """Task callbacks (Airflow runs them in the task process) and map_index_template."""
        template = getattr(self.task, "map_index_template", None)
        if template and self.dag is not None:
            try:
                self.result["rendered_map_index"] = str(
                    self.fields.get_renderer().render_string(template, self.context))
            except Exception as e:  # noqa: BLE001
                if state == "success":
                    self.log("Could not render map_index_template %r: %s" % (template,
                                                                              _one_line(e)),
                             "warning")
        if self.op is None or state in ("container", "up_for_reschedule", "deferred"):
            # A container's outcome (and its callbacks) belongs to the server; a rescheduled
            # sensor or a deferred try has not ended (Airflow runs no callback then).
            return
        if state == "success":
            self._callbacks("on_success_callback")
        elif state == "skipped":
            self._callbacks("on_skipped_callback")
        else:
            self.context["exception"] = error
            max_tries = self.spec.get("max_tries")
            if max_tries is None:
                max_tries = getattr(self.op, "retries", 0) or 0
            if self.result["retryable"] and self.ti.try_number <= int(max_tries):
                self._callbacks("on_retry_callback")
            else:
                self._callbacks("on_failure_callback")


def _utc_iso(when):
    """``when`` (a datetime, naive meaning UTC) as RFC 3339 in UTC."""
    import datetime as _dt

    if not isinstance(when, _dt.datetime):
        raise TypeError("AirflowRescheduleException needs a datetime reschedule_date, got %r"
                        % (when,))
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _hitl_defer(e):
    """The ``defer`` object of a Human-in-the-loop deferral: the request the operator recorded
    (``upsert_hitl_detail``), its deadline and the method to resume with."""
    from airflow.sdk.execution_time import hitl

    trigger = e.trigger
    deadline = getattr(trigger, "timeout_datetime", None)
    request = dict(hitl.pending)
    if not request:
        request = {"options": list(trigger.options), "subject": "", "body": None,
                   "defaults": trigger.defaults, "multiple": bool(trigger.multiple),
                   "params": dict(trigger.params or {}), "assigned_users": None}
    return {"method_name": e.method_name, "kwargs": e.kwargs,
            "timeout_at": deadline.isoformat() if deadline is not None else None,
            "hitl": _jsonable_copy(request)}


def _outlet_events(accessors):
    """``outlet_events[asset].extra`` / ``.add(...)`` the task recorded (JSON values only):
    ``{"key", "asset": {"name", "uri"} | null, "alias": {"name"} | null, "ref": {...} | null,
    "extra", "alias_events"}``."""
    out = []
    if not isinstance(accessors, dict):
        return out
    for key, acc in dict.items(accessors):
        extra = getattr(acc, "extra", None) or {}
        aliases = getattr(acc, "asset_alias_events", None) or []
        if not extra and not aliases:
            continue
        kind = key[0] if isinstance(key, tuple) else "str"
        item = {
            "key": str(key[-1]) if isinstance(key, tuple) else str(key),
            "asset": {"name": key[1], "uri": key[2]} if kind == "asset" else None,
            "alias": {"name": key[1]} if kind == "alias" else None,
            "ref": {"name": key[1]} if kind == "name_ref" else
            ({"uri": key[1]} if kind == "uri_ref" else None),
            "extra": extra, "alias_events": aliases,
        }
        try:
            check_json(item, "outlet event")
        except TypeError:
            continue
        out.append(item)
    return out


def _is_branch(op):
    from airflow.providers.standard.operators.python import BranchMixIn

    return isinstance(op, BranchMixIn)


def _is_short_circuit(op):
    from airflow.providers.standard.operators.python import ShortCircuitOperator

    return isinstance(op, ShortCircuitOperator)


def _branch_ids(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        return [v for v in value if isinstance(v, str)]
    except TypeError:
        return None


def write_result(path, result):
    """Atomically write the result file (tmp + rename)."""
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    tmp = "%s.tmp.%d" % (path, os.getpid())

    def default(o):
        return repr(o)

    try:
        data = json.dumps(result, ensure_ascii=False, allow_nan=False, default=default)
    except ValueError:
        data = json.dumps(_jsonable_copy(result), ensure_ascii=False, default=default)
    with open(tmp, "w", encoding="utf-8", errors="replace") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _jsonable_copy(v):
    import math

    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable_copy(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable_copy(x) for k, x in v.items()}
    return v
