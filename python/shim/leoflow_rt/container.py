"""The container request of a ``docker`` task (``DockerOperator``, ``@task.docker``).

Owns the translation of the operator that runs (unmapped, rendered) into the PROTOCOL
``container`` object, with Airflow's DockerOperator semantics: a command / entrypoint string
that starts with ``[`` is a Python list literal, else it is split like a shell line;
``env_file`` (dotenv text, ``dotenv.py``) merged under ``environment``; bind mounts only
(read-only unless ``read_only=False``); ``network_mode`` "bridge"/"none"; docker-py's byte
sizes. A bad value fails the task (``ContainerConfigError``: the runner reports its message,
not retried). For ``@task.docker``
it also writes the exchange files: ``script.py`` (the function's source without its task
decorators, then ``docker_harness.py``) and ``input.json`` (the call's arguments, as JSON).
Called by ``runner.py`` instead of ``execute`` for a ``docker`` task; the server starts the
container. See PROTOCOL.md, "Container tasks".
"""
import ast
import json
import math
import os
import shlex

#: Where the server bind-mounts ``TI.exchange_dir`` in the container.
EXCHANGE_MOUNT = "/leoflow/exchange"
NETWORK_MODES = ("bridge", "none")
_BYTE_UNITS = {"b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
#: Decorators removed from a ``@task.docker`` function's source (Airflow removes these).
_TASK_DECORATORS = ("task.docker", "docker_task", "setup", "teardown", "task.skip_if",
                    "task.run_if", "task.external_python", "task.branch_external_python",
                    "external_python_task", "branch_external_python_task", "task.virtualenv",
                    "virtualenv_task", "task.branch_virtualenv")


class ContainerConfigError(ValueError):
    """A container parameter that cannot run (the message names it and what is accepted)."""


def is_container_task(op):
    from leoflow_rt.serialize import op_kind

    return op_kind(type(op)) == "docker"


def build(op, spec, sink):
    """The ``container`` object for ``op`` (private environment values become log secrets);
    for ``@task.docker``, the exchange files are written into ``TI.exchange_dir`` first."""
    from airflow.providers.docker.decorators.docker import _DockerDecoratedOperator

    python = None
    command = _argv(op.command, "command")
    if isinstance(op, _DockerDecoratedOperator):
        write_exchange(op, spec.get("exchange_dir"))
        command = _argv(op.python_command, "python_command") + [EXCHANGE_MOUNT + "/script.py"]
        python = {"multiple_outputs": bool(op.multiple_outputs)}
    environment = {}
    if op.env_file is not None:
        if not isinstance(op.env_file, str):
            raise ContainerConfigError("env_file must be a string (dotenv text, or a .env file "
                                       "of the DAG folder), got %s" % type(op.env_file).__name__)
        from leoflow_rt import dotenv

        environment.update(_env(dotenv.parse(op.env_file, os.environ), "env_file"))
    environment.update(_env(op.environment, "environment"))
    private = _env(op.private_environment, "private_environment")
    for value in private.values():
        sink.add_secret(value)
    return {
        "image": _image(op.image),
        "command": command,
        "entrypoint": _argv(op.entrypoint, "entrypoint"),
        "environment": environment,
        "private_environment": private,
        "user": None if op.user in (None, "") else str(op.user),
        "working_dir": _text(op.working_dir, "working_dir"),
        "mounts": [_mount(i, m) for i, m in enumerate(op.mounts or ())],
        "network_mode": _network_mode(op.network_mode),
        "mem_limit": _bytes(op.mem_limit, "mem_limit"),
        "cpus": _cpus(op.cpus),
        "shm_size": _bytes(op.shm_size, "shm_size"),
        "auto_remove": op.auto_remove,
        "skip_on_exit_code": _exit_codes(op.skip_on_exit_code),
        "do_xcom_push": bool(op.do_xcom_push),
        "xcom_all": bool(op.xcom_all),
        "retrieve_output": bool(op.retrieve_output),
        "retrieve_output_path": _text(op.retrieve_output_path, "retrieve_output_path"),
        "mount_tmp_dir": bool(op.mount_tmp_dir),
        "force_pull": bool(op.force_pull),
        "container_name": _text(op.container_name, "container_name"),
        "labels": _labels(op.labels),
        "python": python,
    }


# -- parameters ------------------------------------------------------------------------------
def _image(value):
    if not isinstance(value, str) or not value.strip():
        raise ContainerConfigError("image must be a non-empty string (e.g. 'python:3.12-slim'), "
                                   "got %r" % (value,))
    return value


def _argv(value, name):
    """Airflow's ``format_command`` + docker-py: a string starting with ``[`` is a Python list
    literal, another string is split like a shell line, a list stays a list."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            try:
                return shlex.split(value)
            except ValueError as e:
                raise ContainerConfigError("%s %r cannot be split like a shell command line: %s"
                                           % (name, value, e)) from None
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError) as e:
            raise ContainerConfigError("%s %r starts with '[' but is not a Python list literal: "
                                       "%s" % (name, value, e)) from None
    if not isinstance(value, (list, tuple)):
        raise ContainerConfigError("%s must be a string or a list of strings, got %s"
                                   % (name, type(value).__name__))
    out = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ContainerConfigError("%s[%d] must be a string, got %s"
                                       % (name, i, type(item).__name__))
        out.append(item if isinstance(item, str) else str(item))
    return out


def _env(values, name):
    """``{str: str}``; None values are dropped (as an unset variable), others ``str()``-ed."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ContainerConfigError("%s must be a dict of variable names to values, got %s"
                                   % (name, type(values).__name__))
    out = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise ContainerConfigError("%s: %r is not a valid environment variable name"
                                       % (name, key))
        if value is None:
            continue
        out[key] = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    return out


def _text(value, name):
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ContainerConfigError("%s must be a string, got %s" % (name, type(value).__name__))
    return value


def _mount(index, mount):
    from airflow.providers.docker.operators.docker import mount_spec

    try:
        m = mount_spec(mount)
    except TypeError as e:
        raise ContainerConfigError("mounts[%d]: %s" % (index, e)) from None
    if m["type"] != "bind":
        raise ContainerConfigError(
            "mounts[%d] (target %r) has type %r: Leoflow Lite only supports 'bind' mounts of a "
            "host path (Mount(target, source, type='bind'))" % (index, m["target"], m["type"]))
    for key in ("source", "target"):
        path = m[key]
        if not isinstance(path, str) or not path.startswith("/"):
            raise ContainerConfigError("mounts[%d]: the %s of a bind mount must be an absolute "
                                       "path, got %r" % (index, key, path))
    return {"source": m["source"], "target": m["target"], "read_only": m["read_only"]}


def _network_mode(value):
    if value is None or value in NETWORK_MODES:
        return value
    raise ContainerConfigError("network_mode %r is not supported by Leoflow Lite: use 'bridge', "
                               "'none' or leave it unset" % (value,))


def _bytes(value, name):
    """docker-py's ``parse_bytes``: an int (bytes), or a string like "512m" / "1g" (units b, k,
    m, g, optionally followed by "b")."""
    n = None
    if isinstance(value, bool):
        pass
    elif value is None:
        return None
    elif isinstance(value, (int, float)):
        n = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 1 and text[-1] in "bB" and text[-2].isalpha():
            text = text[:-1]
        unit = text[-1:].lower()
        factor = 1 if unit.isdigit() else _BYTE_UNITS.get(unit)
        try:
            n = float(text if unit.isdigit() else text[:-1]) * factor if factor else None
        except ValueError:
            n = None
    if n is None or not math.isfinite(n) or n < 0:
        raise ContainerConfigError("%s %r is not a size: give bytes (an int) or a string like "
                                   "'512m' or '1g' (units b, k, m, g)" % (name, value))
    return int(n)


def _cpus(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value <= 0:
        raise ContainerConfigError("cpus must be a positive number, got %r" % (value,))
    return float(value)


def _exit_codes(values):
    out = []
    for v in values or ():
        if isinstance(v, bool) or not isinstance(v, int):
            raise ContainerConfigError("skip_on_exit_code must hold exit codes (int), got %r"
                                       % (v,))
        out.append(v)
    return out


def _labels(labels):
    if labels is None:
        return {}
    if isinstance(labels, (list, tuple)):
        labels = {name: "" for name in labels}
    if not isinstance(labels, dict):
        raise ContainerConfigError("labels must be a dict of names to values or a list of "
                                   "names, got %s" % type(labels).__name__)
    return {str(k): "" if v is None else str(v) for k, v in labels.items()}


# -- @task.docker ----------------------------------------------------------------------------
def write_exchange(op, exchange_dir):
    """``script.py`` and ``input.json`` for the decorated function, in ``exchange_dir``."""
    if not isinstance(exchange_dir, str) or not os.path.isdir(exchange_dir):
        raise ContainerConfigError("@task.docker needs TI.exchange_dir (an existing folder), got "
                                   "%r" % (exchange_dir,))
    arguments = json.dumps(call_arguments(op), ensure_ascii=False, allow_nan=False)
    harness = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker_harness.py")
    with open(harness, encoding="utf-8") as fh:
        harness_text = fh.read()
    func = op.python_callable
    script = ("# Generated by Leoflow Lite for @task.docker (task %s): the task function, then "
              "its harness.\nfrom __future__ import annotations\n\n%s\n\n%s\n\n"
              "if __name__ == \"__main__\":\n    import sys as _leoflow_sys\n\n"
              "    _leoflow_sys.exit(_leoflow_main(%s))\n"
              % (op.task_id, function_source(func).rstrip(), harness_text.rstrip(),
                 func.__name__))
    for name, text in (("script.py", script), ("input.json", arguments)):
        path = os.path.join(exchange_dir, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(path, 0o644)  # the container's user may not be ours


def function_source(func):
    """The function's source, dedented, without its task decorators (``@task.docker``,
    ``@setup``, ``@teardown``...; others stay, as in Airflow)."""
    import inspect
    import textwrap

    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as e:
        raise ContainerConfigError("@task.docker needs the source of %r: %s"
                                   % (getattr(func, "__name__", func), e)) from None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return source
    drop = set()
    for dec in node.decorator_list:
        name = _dotted(dec.func if isinstance(dec, ast.Call) else dec)
        if name and any(name == d or name.endswith("." + d) for d in _TASK_DECORATORS):
            drop.update(range(dec.lineno - 1, dec.end_lineno))
    return "".join(line for i, line in enumerate(source.splitlines(True)) if i not in drop)


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def call_arguments(op):
    """``{"args", "kwargs"}`` of the call (rendered, XComs resolved), checked to be JSON."""
    from leoflow_rt.context import _json_problem
    from leoflow_rt.sigbind import param_names

    try:
        positional = param_names(op.python_callable)[0]
    except (TypeError, ValueError):
        positional = ()
    args = [_plain(v) for v in op.op_args]
    kwargs = {k: _plain(v) for k, v in op.op_kwargs.items()}
    named = [(positional[i] if i < len(positional) else "*args[%d]" % i, v)
             for i, v in enumerate(args)]
    for name, value in named + list(kwargs.items()):
        problem = _json_problem(value)
        if problem is None:
            continue
        if isinstance(value, (dict, list, tuple)):
            what = "contains " + problem
        elif isinstance(value, float):
            what = "is " + problem
        else:
            what = "is a %s" % type(value).__name__
        raise ContainerConfigError("@task.docker passes arguments as JSON; argument %r %s"
                                   % (name, what))
    return {"args": args, "kwargs": kwargs}


def _plain(value, depth=0):
    """Lazy XCom sequences (``.map``, ``.zip``, ``.concat`` results) become lists."""
    from collections.abc import Sequence

    if depth > 100:
        return value
    if isinstance(value, dict):
        return {k: _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or (
            isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))):
        return [_plain(v, depth + 1) for v in value]
    return value
