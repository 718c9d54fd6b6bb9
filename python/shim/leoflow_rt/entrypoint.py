"""Registered tasks (kind ``entrypoint``): a ``python`` task of a Pro ``dag.json``, run as Pro
runs it: import ``module.path:callable`` (from the image, whose ``PYTHONPATH`` holds the DAG's
code), call it with ``call_args`` (also in ``LEOFLOW_CALL_ARGS_JSON``) and, for each name of
``xcom_input``, the return value of that upstream task; its return value is the XCom.

Called by ``runner.Runner.run`` when the TI carries ``task_args``. See PROTOCOL.md.
"""
import importlib
import json
import os

from leoflow_rt.context import RETURN_KEY, XComStore, _MISSING


class EntrypointError(Exception):
    """The entrypoint cannot be called (not importable, not callable, an input missing)."""


def resolve(entrypoint):
    """``module.path:attr.path`` → the object; EntrypointError naming what is missing."""
    module_name, sep, attr = entrypoint.partition(":")
    if not sep or not module_name or not attr:
        raise EntrypointError("entrypoint %r is not module.path:callable" % (entrypoint,))
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        raise EntrypointError("cannot import module %r of entrypoint %r: %s (is the DAG's "
                              "code on the image's PYTHONPATH?)" % (module_name, entrypoint, e))
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise EntrypointError("module %r has no %r (entrypoint %r)"
                                  % (module_name, attr, entrypoint)) from None
    # A module-level TaskFlow task (``@task`` def f): its function, as Pro's worker unwraps it.
    obj = getattr(obj, "function", obj)
    if not callable(obj):
        raise EntrypointError("entrypoint %r is a %s, not a callable"
                              % (entrypoint, type(obj).__name__))
    return obj


def call(spec):
    """Calls the TI's entrypoint; its return value."""
    args = spec.get("task_args") or {}
    fn = resolve(str(args.get("entrypoint") or ""))
    call_args = dict(args.get("call_args") or {})
    os.environ["LEOFLOW_CALL_ARGS_JSON"] = json.dumps(call_args)
    xcoms = XComStore(spec.get("xcom"))
    kwargs = dict(call_args)
    for name, upstream in (args.get("xcom_input") or {}).items():
        value = xcoms.get_one(upstream, RETURN_KEY, None)
        if value is _MISSING:
            raise EntrypointError("argument %r takes the return value of task %r, which "
                                  "pushed none" % (name, upstream))
        kwargs[name] = value
    return fn(**kwargs)
