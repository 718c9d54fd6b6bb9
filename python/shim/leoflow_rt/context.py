"""The Airflow task context of one task instance.

Owns what a running task sees: ``context["ti"]`` (``RuntimeTaskInstance``: ``xcom_push`` /
``xcom_pull`` over this run's ``XComStore``, which must hold plain JSON: ``check_json``),
``dag_run``, ``params`` (validated), ``macros``, ``var`` / ``conn`` and the
``Variable.get`` / ``Connection.get`` getters fed from ``TI.variables`` / ``TI.connections``
(``install_getters``), ``outlet_events``, the ``AIRFLOW_CTX_*`` variables and the
``get_current_context()`` stack (``enter_task_context`` / ``leave_task_context``).
Called by ``runner.py`` (``install_getters``, ``build_context``, the context stack around
``execute``, ``check_json`` on pushed values), by the shim's ``BashOperator``
(``context_to_airflow_vars``) and by ``zygote.py`` (``check_json`` warm-up).
See PROTOCOL.md, "What runs" (Context, Variable.get, XComArgs).
"""
import json
import os

from leoflow_rt.capture import _is_sensitive

RETURN_KEY = "return_value"


_MISSING = object()


def _json_problem(value, path="", depth=0):
    """``None`` when ``value`` is plain JSON, else a description of the first offender."""
    import math

    if depth > 200:
        return "a value nested too deeply%s" % (" at " + path if path else "")
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return "the float %r%s (NaN and infinities are not JSON)" % (
            value, " at " + path if path else "")
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            p = _json_problem(v, "%s[%d]" % (path, i), depth + 1)
            if p:
                return p
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                return "a dict key of type %r%s" % (type(k).__name__,
                                                      " at " + path if path else "")
            p = _json_problem(v, "%s[%r]" % (path, k), depth + 1)
            if p:
                return p
        return None
    return "an object of type %r%s" % (type(value).__name__, " at " + path if path else "")


def check_json(value, what):
    """Raise ``TypeError`` naming the offending type when ``value`` is not plain JSON."""
    try:
        json.dumps(value, allow_nan=False)
        return
    except (TypeError, ValueError, RecursionError, OverflowError):
        pass
    problem = _json_problem(value) or "a value json cannot encode"
    raise TypeError("%s is not JSON-serialisable: it contains %s (XCom values must be JSON: "
                    "dict, list, str, int, float, bool or None)" % (what, problem))


# -- XCom ------------------------------------------------------------------------------------
class XComStore:
    """This run's XComs: ``TI.xcom`` plus what the task pushes."""

    def __init__(self, entries):
        self._d = {}
        for e in entries or ():
            if not isinstance(e, dict) or "task_id" not in e:
                continue
            mi = e.get("map_index")
            self.put(e["task_id"], -1 if mi is None else int(mi), e.get("key") or RETURN_KEY,
                     e.get("value"))

    def put(self, task_id, map_index, key, value):
        self._d.setdefault((task_id, key), {})[map_index] = value

    def get_all(self, task_id, key):
        d = self._d.get((task_id, key))
        if not d:
            return None
        return [d[i] for i in sorted(d)]

    def get_one(self, task_id, key, map_index):
        d = self._d.get((task_id, key))
        if not d:
            return _MISSING
        if map_index is None:
            return d[-1] if -1 in d else d[min(d)]
        return d.get(map_index, _MISSING)


class RuntimeTaskInstance:
    """``context["ti"]``: Airflow 3's RuntimeTaskInstance surface that works in one process."""

    def __init__(self, spec, store, sink):
        import pendulum

        self.id = spec.get("ti_id")
        self.dag_id = spec.get("dag_id")
        self.task_id = spec.get("task_id")
        self.run_id = spec.get("run_id")
        mi = spec.get("map_index")
        self.map_index = -1 if mi is None else int(mi)
        self.try_number = int(spec.get("try_number") or 1)
        self.max_tries = spec.get("max_tries")
        self.task = None
        self.state = "running"
        self.hostname = os.uname().nodename if hasattr(os, "uname") else ""
        self.pid = os.getpid()
        self.start_date = pendulum.now("UTC")
        # A rescheduled sensor continues its try: the try started with its first poke.
        resumed = spec.get("reschedule") or {}
        self.task_reschedule_count = int(resumed.get("count") or 0)
        if resumed.get("first_start"):
            try:
                self.start_date = pendulum.parse(resumed["first_start"])
            except Exception:  # noqa: BLE001 - keep now
                pass
        self.end_date = None
        self.is_mapped = None
        self.rendered_map_index = None
        self._store = store
        self._sink = sink
        self._pushed = {}
        self._skip = None
        self._branch = None
        self._short_circuit = None
        self._context = None
        self._rerender = None
        self._warned = set()

    def __repr__(self):
        return "<TaskInstance: %s.%s %s map_index=%d [%s]>" % (
            self.dag_id, self.task_id, self.run_id, self.map_index, self.state)

    @property
    def log_url(self):
        return ""

    @property
    def mark_success_url(self):
        return ""

    @property
    def operator(self):
        return type(self.task).__name__ if self.task is not None else None

    def get_template_context(self):
        return self._context

    def get_dagrun(self):
        return self._context["dag_run"] if self._context else None

    def render_templates(self, context=None, jinja_env=None):
        """Render the task's templated fields again (``@task.bash`` does after its call)."""
        if self._rerender is not None:
            self._rerender()
        return self.task

    # -- recorded by the shim's SkipMixin / ShortCircuitOperator --
    def _lf_record_skip(self, task_ids):
        self._skip = list(task_ids)

    def _lf_record_branch(self, task_ids):
        self._branch = list(task_ids)

    def _lf_record_short_circuit(self, value):
        self._short_circuit = bool(value)

    # -- XCom --
    def xcom_push(self, key, value):
        """Make an XCom available to downstream tasks (the value must be JSON)."""
        if not isinstance(key, str) or not key:
            raise ValueError("XCom key must be a non-empty string, got %r" % (key,))
        check_json(value, "XCom value for key %r" % key)
        self._pushed.pop(key, None)
        self._pushed[key] = value
        self._store.put(self.task_id, self.map_index, key, value)

    def _foreign(self, dag_id, run_id):
        if (dag_id is None or dag_id == self.dag_id) and (run_id is None or
                                                         run_id == self.run_id):
            return False
        what = (dag_id, run_id)
        if what not in self._warned:
            self._warned.add(what)
            import logging

            logging.getLogger("airflow.task").warning(
                "xcom_pull from another DAG run (dag_id=%s, run_id=%s) is not available in "
                "Leoflow Lite; returning the default", dag_id, run_id)
        return True

    def xcom_pull(self, task_ids=None, dag_id=None, key=RETURN_KEY, include_prior_dates=False,
                  *, map_indexes=_MISSING, default=None, run_id=None):
        """Airflow 3's semantics (``map_indexes`` unset: every map index of each task)."""
        from airflow.sdk.definitions._internal.types import ArgNotSet

        if key is None:
            key = RETURN_KEY
        foreign = self._foreign(dag_id, run_id)
        single_task = isinstance(task_ids, (str, type(None)))
        single_index = isinstance(map_indexes, (int, type(None)))
        if task_ids is None:
            task_ids = [self.task_id]
        elif isinstance(task_ids, str):
            task_ids = [task_ids]
        if map_indexes is _MISSING or isinstance(map_indexes, ArgNotSet):
            xcoms = []
            for tid in task_ids:
                values = None if foreign else self._store.get_all(tid, key)
                if values is None:
                    xcoms.append(None)
                else:
                    xcoms.extend(values)
            if single_task and len(xcoms) == 1:
                return xcoms[0]
            return xcoms
        if isinstance(map_indexes, int) or map_indexes is None:
            indexes = [map_indexes]
        else:
            try:
                indexes = list(map_indexes)
            except TypeError:
                raise TypeError("Invalid type for map_indexes: expected int, iterable of ints, "
                                "or None, got %s" % type(map_indexes)) from None
        out = []
        for tid in task_ids:
            for mi in indexes:
                v = _MISSING if foreign else self._store.get_one(tid, key, mi)
                out.append(default if v is _MISSING or v is None else v)
        if single_task and single_index:
            return out[0]
        return out


# -- context accessors -----------------------------------------------------------------------
class VariableAccessor:
    """``{{ var.value.name }}`` / ``var.json.name`` / ``var.value.get("name", default)``."""

    def __init__(self, deserialize_json):
        self._deserialize_json = deserialize_json

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        from airflow.sdk.definitions.variable import Variable

        return Variable.get(key, deserialize_json=self._deserialize_json)

    def __getitem__(self, key):
        return self.__getattr__(key)

    def get(self, key, default=_MISSING):
        from airflow.sdk.definitions._internal.types import NOTSET
        from airflow.sdk.definitions.variable import Variable

        return Variable.get(key, default=NOTSET if default is _MISSING else default,
                            deserialize_json=self._deserialize_json)

    def __repr__(self):
        return "<VariableAccessor (%s)>" % ("json" if self._deserialize_json else "value")


class ConnectionAccessor:
    """``{{ conn.my_conn.host }}`` / ``conn.get("my_conn")``."""

    def __getattr__(self, conn_id):
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        from airflow.sdk.definitions.connection import Connection

        return Connection.get(conn_id)

    def __getitem__(self, conn_id):
        return self.__getattr__(conn_id)

    def get(self, key, default_conn=None):
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return self.__getattr__(key)
        except AirflowNotFoundException:
            return default_conn

    def __repr__(self):
        return "<ConnectionAccessor>"


class _OutletEventAccessor:
    def __init__(self, key):
        self.key = key
        self.extra = {}
        self.asset_alias_events = []

    def add(self, asset, extra=None):
        """An event for ``asset`` through this alias (``outlet_events[alias].add(...)``)."""
        self.asset_alias_events.append({
            "asset": getattr(asset, "uri", None) or getattr(asset, "name", str(asset)),
            "name": getattr(asset, "name", None), "uri": getattr(asset, "uri", None),
            "group": getattr(asset, "group", None),
            "asset_extra": dict(getattr(asset, "extra", None) or {}),
            "extra": dict(extra or {})})


def outlet_key(obj):
    """What an ``outlet_events[...]`` key names: ``("asset", name, uri)``, ``("alias", name)``,
    ``("name_ref", name)``, ``("uri_ref", uri)``, or ``("str", text)``."""
    kind = type(obj).__name__
    if kind == "AssetAlias":
        return ("alias", obj.name)
    if kind == "AssetNameRef":
        return ("name_ref", obj.name)
    if kind == "AssetUriRef":
        return ("uri_ref", obj.uri)
    if hasattr(obj, "uri") and hasattr(obj, "name"):
        return ("asset", obj.name, obj.uri)
    return ("str", str(obj))


class OutletEventAccessors(dict):
    """``outlet_events[asset].extra["k"] = v`` (recorded, reported as ``outlet_events``)."""

    def __missing__(self, key):
        acc = _OutletEventAccessor(key)
        dict.__setitem__(self, key, acc)
        return acc

    def __getitem__(self, key):
        k = outlet_key(key)
        return dict.__getitem__(self, k) if dict.__contains__(self, k) else self.__missing__(k)

    def for_asset(self, *, name=None, uri=None):
        from airflow.sdk.definitions.asset import Asset

        return self[Asset(name=name, uri=uri)]

    def for_asset_alias(self, *, name):
        from airflow.sdk.definitions.asset import AssetAlias

        return self[AssetAlias(name)]


def _ds_add(ds, days):
    import datetime as dt

    if not days:
        return str(ds)
    return (dt.datetime.strptime(str(ds), "%Y-%m-%d") + dt.timedelta(days=days)).strftime(
        "%Y-%m-%d")


def _ds_format(ds, input_format, output_format):
    import datetime as dt

    return dt.datetime.strptime(str(ds), input_format).strftime(output_format)


class Macros:
    """``{{ macros.ds_add(ds, 1) }}``, ``macros.datetime``, ``macros.timedelta``..."""

    import datetime as _dtm

    datetime = _dtm.datetime
    timedelta = _dtm.timedelta
    ds_add = staticmethod(_ds_add)
    ds_format = staticmethod(_ds_format)

    def __getattr__(self, name):
        import importlib

        if name in ("time", "uuid", "json", "random"):
            mod = importlib.import_module(name)
            return mod.random if name == "random" else mod
        if name == "dateutil":
            return importlib.import_module("dateutil")
        raise AttributeError("macros has no attribute %r" % name)

    def __repr__(self):
        return "<airflow.macros>"


class DagRun:
    """``context["dag_run"]``: the run's fields as attributes (datetimes are pendulum)."""

    _DATES = ("logical_date", "data_interval_start", "data_interval_end", "run_after",
              "start_date", "end_date", "queued_at", "last_scheduling_decision")

    def __init__(self, data):
        self.__dict__.update(data)

    def __repr__(self):
        return "<DagRun %s @ %s: %s, state:%s, run_type: %s>" % (
            self.dag_id, self.logical_date, self.run_id, self.state, self.run_type)

    def get_task_instance(self, task_id, map_index=-1):
        return None


def _run_type(run_id):
    prefix = str(run_id or "").split("__", 1)[0]
    if prefix in ("manual", "scheduled", "backfill", "asset_triggered", "asset_materialization"):
        return prefix
    if prefix == "dataset_triggered":
        return "asset_triggered"
    return "manual"


def _parse_dt(value):
    import datetime as dt

    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        from airflow.sdk.timezone import coerce_datetime

        return coerce_datetime(value)
    if isinstance(value, str):
        import pendulum

        try:
            return pendulum.parse(value)
        except Exception:  # noqa: BLE001 - keep the server's text
            return value
    return value


def context_to_airflow_vars(context):
    """``AIRFLOW_CTX_*`` environment variables for ``context`` (Airflow's env-var format)."""
    import datetime as dt

    out = {}
    task = context.get("task")
    ti = context.get("task_instance")
    dag_run = context.get("dag_run")
    for subject, attr, name in ((task, "email", "AIRFLOW_CTX_DAG_EMAIL"),
                                (task, "owner", "AIRFLOW_CTX_DAG_OWNER"),
                                (ti, "dag_id", "AIRFLOW_CTX_DAG_ID"),
                                (ti, "task_id", "AIRFLOW_CTX_TASK_ID"),
                                (dag_run, "logical_date", "AIRFLOW_CTX_LOGICAL_DATE"),
                                (ti, "try_number", "AIRFLOW_CTX_TRY_NUMBER"),
                                (dag_run, "run_id", "AIRFLOW_CTX_DAG_RUN_ID")):
        value = getattr(subject, attr, None) if subject is not None else None
        if not value:
            continue
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, dt.datetime):
            out[name] = value.isoformat()
        elif isinstance(value, (list, tuple)):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = str(value)
    return out


# -- building it -----------------------------------------------------------------------------
def install_getters(spec, sink):
    """Feed ``Variable.get`` / ``Connection.get`` from ``TI.variables`` / ``TI.connections``;
    the secrets they read are masked in ``sink``."""
    from leoflow_rt import registry

    variables = spec.get("variables") or {}
    connections = spec.get("connections") or {}

    def variable_getter(key):
        if key not in variables:
            return None
        v = variables[key]
        if v is None:
            return None
        if not isinstance(v, str):
            v = json.dumps(v)
        if _is_sensitive(key):
            sink.add_secret(v)
        return v

    cache = {}

    def connection_getter(conn_id):
        if conn_id in cache:
            return cache[conn_id]
        raw = connections.get(conn_id)
        if raw is None:
            return None
        from airflow.sdk.definitions.connection import Connection

        if isinstance(raw, str):
            conn = Connection(conn_id=conn_id, uri=raw)
        else:
            kw = {k: raw.get(k) for k in ("conn_type", "host", "login", "password",
                                          "schema", "port", "extra", "description")}
            if kw["port"] not in (None, ""):
                try:
                    kw["port"] = int(kw["port"])
                except (TypeError, ValueError):
                    pass
            conn = Connection(conn_id=conn_id, uri=raw.get("uri"),
                              **{k: v for k, v in kw.items() if v is not None})
        sink.add_secret(conn.password)
        for k, v in conn.extra_dejson.items() if isinstance(conn.extra_dejson, dict) else ():
            if _is_sensitive(k) and isinstance(v, str):
                sink.add_secret(v)
        cache[conn_id] = conn
        return conn

    registry.variable_getter = variable_getter
    registry.connection_getter = connection_getter


def build_context(spec, dag, task, ti):
    """Airflow's task context for ``ti`` of ``task`` (``TI.context`` decoded, params
    validated); also ``ti.get_template_context()``."""
    from airflow.sdk.definitions.context import Context

    c = spec.get("context") or {}
    import datetime as _dtm

    def dt(key):
        v = _parse_dt(c.get(key))
        return v if isinstance(v, _dtm.datetime) else None

    logical_date = dt("logical_date")
    dis = dt("data_interval_start")
    die = dt("data_interval_end")
    dr = dict(c.get("dag_run") or {})
    conf = dr.get("conf", c.get("conf"))
    if not isinstance(conf, dict):
        conf = {}
    run_id = spec.get("run_id") or c.get("run_id") or dr.get("run_id")
    dag_run = {
        "dag_id": dag.dag_id, "run_id": run_id, "logical_date": logical_date,
        "data_interval_start": dis, "data_interval_end": die, "run_after": None,
        "start_date": None, "end_date": None, "clear_number": 0,
        "run_type": _run_type(run_id), "state": "running", "conf": conf,
        "triggered_by": None, "consumed_asset_events": [], "note": None,
    }
    for k, v in dr.items():
        dag_run[k] = _parse_dt(v) if k in DagRun._DATES else v
    dag_run["conf"] = conf
    if dag_run["run_after"] is None:
        dag_run["run_after"] = logical_date or ti.start_date
    if dag_run["start_date"] is None:
        dag_run["start_date"] = ti.start_date
    ctx = Context()
    ctx.update({
        "dag": dag, "task": task, "ti": ti, "task_instance": ti, "run_id": run_id,
        "inlets": list(getattr(task, "inlets", None) or []),
        "outlets": list(getattr(task, "outlets", None) or []),
        "map_index_template": getattr(task, "map_index_template", None),
        "outlet_events": OutletEventAccessors(), "inlet_events": {},
        "macros": Macros(), "var": {"json": VariableAccessor(True),
                                    "value": VariableAccessor(False)},
        "conn": ConnectionAccessor(), "dag_run": DagRun(dag_run),
        "triggering_asset_events": {},
        "task_reschedule_count": getattr(ti, "task_reschedule_count", 0),
        "task_instance_key_str": "%s__%s__%s" % (dag.dag_id, task.task_id, run_id),
        "prev_start_date_success": None, "prev_end_date_success": None,
        "try_number": ti.try_number, "map_index": ti.map_index, "start_date": ti.start_date,
        "expanded_ti_count": spec.get("expanded_ti_count"), "test_mode": False,
    })
    if logical_date is not None:
        ds = c.get("ds") or logical_date.strftime("%Y-%m-%d")
        ts = c.get("ts") or logical_date.isoformat()
        ctx.update({
            "logical_date": logical_date, "ds": ds,
            "ds_nodash": c.get("ds_nodash") or ds.replace("-", ""),
            "ts": ts, "ts_nodash": c.get("ts_nodash") or logical_date.strftime(
                "%Y%m%dT%H%M%S"),
            "ts_nodash_with_tz": c.get("ts_nodash_with_tz") or ts.replace("-", "").replace(
                ":", ""),
            "task_instance_key_str": c.get("task_instance_key_str") or "%s__%s__%s" % (
                dag.dag_id, task.task_id, ds.replace("-", "")),
            "data_interval_start": dis, "data_interval_end": die,
            "prev_data_interval_start_success": None,
            "prev_data_interval_end_success": None,
        })
    for k in ("prev_start_date_success", "prev_end_date_success",
              "prev_data_interval_start_success", "prev_data_interval_end_success"):
        if c.get(k) is not None:
            ctx[k] = _parse_dt(c[k])
    ctx["params"] = _params(dag, task, c.get("params"), conf)
    ti._context = ctx
    return ctx


def _params(dag, task, server_params, conf):
    from airflow.configuration import conf as airflow_conf
    from airflow.sdk.definitions.param import ParamsDict

    params = ParamsDict()
    for source in (getattr(dag, "params", None), getattr(task, "params", None)):
        if source:
            params.update(source.__copy__() if isinstance(source, ParamsDict) else source)
    if isinstance(server_params, dict) and server_params:
        params.update(server_params)
    if conf and airflow_conf.getboolean("core", "dag_run_conf_overrides_params",
                                        fallback=True):
        params.update(conf)
    return params.validate()


def enter_task_context(context):
    """Make ``context`` the running task's: ``AIRFLOW_CTX_*`` in ``os.environ`` and the top of
    ``get_current_context()``'s stack (until ``leave_task_context``)."""
    from leoflow_rt import registry

    for k, v in context_to_airflow_vars(context).items():
        os.environ[k] = v
    registry.context_stack.append(context)


def leave_task_context():
    from leoflow_rt import registry

    registry.context_stack.pop()
