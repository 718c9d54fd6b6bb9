"""Airflow plugins: ``AirflowPlugin`` subclasses defined by the files of the plugins folder.

Lite's plugins folder is ``plugins/`` next to the DAG folder (Airflow's ``plugins_folder``).
It is on ``sys.path`` while DAG files are parsed and tasks run (``loader.prepare_sys_path``),
so DAG files import plugin modules by name, as in Airflow (``from workday import
AfterWorkdayTimetable``). ``load`` imports every ``*.py`` of the folder (``.airflowignore``,
hidden files and ``__pycache__`` skipped) and collects the plugins; ``info`` is the shape of
``GET /api/v2/plugins`` (``boot.py plugins DAGS_FOLDER`` prints it for the server).
Listeners are accepted and never called (a warning says so); timetables and priority weight
strategies are used by the DAGs that name them.
"""
import importlib.util
import os
import sys
import traceback


def plugins_folder(dags_folder):
    return os.path.join(os.path.dirname(os.path.abspath(dags_folder)), "plugins")


def _qualname(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    if callable(obj) and not isinstance(obj, type) and hasattr(obj, "__qualname__"):
        cls = obj
    return "%s.%s" % (getattr(cls, "__module__", "?"), getattr(cls, "__qualname__", repr(obj)))


def _files(folder):
    import fnmatch

    ignore = []
    path = os.path.join(folder, ".airflowignore")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            ignore = [line.strip() for line in fh if line.strip() and
                      not line.startswith("#")]
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".py") or name.startswith("."):
                continue
            full = os.path.join(root, name)
            rel = os.path.relpath(full, folder)
            if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g) for g in ignore):
                continue
            yield full, rel


def load(folder):
    """``(plugins, import_errors)``: ``[(plugin class, source file)]`` and
    ``{"$PLUGINS_FOLDER/rel.py": traceback}``."""
    from airflow.plugins_manager import AirflowPlugin

    plugins, errors = [], {}
    if not os.path.isdir(folder):
        return plugins, errors
    if folder not in sys.path:
        sys.path.append(folder)
    seen = set()
    for full, rel in _files(folder):
        source = "$PLUGINS_FOLDER/%s" % rel
        modname = os.path.splitext(rel)[0].replace(os.sep, ".")
        if modname.endswith(".__init__"):
            modname = modname[:-len(".__init__")]
        try:
            module = sys.modules.get(modname)
            if module is None or getattr(module, "__file__", None) != full:
                spec = importlib.util.spec_from_file_location(modname, full)
                module = importlib.util.module_from_spec(spec)
                sys.modules[modname] = module
                spec.loader.exec_module(module)
        except Exception:  # noqa: BLE001 - reported like Airflow's plugin import errors
            sys.modules.pop(modname, None)
            errors[source] = traceback.format_exc()
            continue
        for value in list(vars(module).values()):
            if (isinstance(value, type) and issubclass(value, AirflowPlugin)
                    and value is not AirflowPlugin and id(value) not in seen
                    and value.__module__ == module.__name__):
                seen.add(id(value))
                try:
                    value.validate()
                except Exception as e:  # noqa: BLE001
                    errors[source] = "%s: %s" % (type(e).__name__, e)
                    continue
                plugins.append((value, source))
    return plugins, errors


def info(folder):
    """``{"plugins": [PluginResponse...], "import_errors": [{"source", "error"}],
    "warnings": [...]}`` for ``folder``."""
    plugins, errors = load(folder)
    out, warnings = [], []
    for plugin, source in sorted(plugins, key=lambda p: str(p[0].name)):
        listeners = [_qualname(x) for x in plugin.listeners]
        if listeners:
            warnings.append("plugin %r (%s) defines listeners (%s): Leoflow Lite accepts and "
                            "ignores them" % (plugin.name, source, ", ".join(listeners)))
        out.append({
            "name": str(plugin.name),
            "macros": [_qualname(x) for x in plugin.macros],
            "flask_blueprints": [str(x) for x in plugin.flask_blueprints],
            "fastapi_apps": [], "fastapi_root_middlewares": [], "external_views": [],
            "react_apps": [], "appbuilder_views": [], "appbuilder_menu_items": [],
            "global_operator_extra_links": [str(x) for x in plugin.global_operator_extra_links],
            "operator_extra_links": [str(x) for x in plugin.operator_extra_links],
            "source": source,
            "listeners": listeners,
            "timetables": [_qualname(x) for x in plugin.timetables],
            # Not in Airflow's PluginResponse; Lite reports it for the API to drop or keep.
            "priority_weight_strategies": [_qualname(x)
                                           for x in plugin.priority_weight_strategies],
        })
    return {
        "plugins": out,
        "import_errors": [{"source": s, "error": e} for s, e in sorted(errors.items())],
        "warnings": warnings,
    }


def main(argv):
    """``boot.py plugins DAGS_FOLDER``: print ``info`` of its plugins folder as JSON."""
    import json

    if len(argv) != 1:
        sys.stderr.write("usage: boot.py plugins DAGS_FOLDER\n")
        return 2
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        result = info(plugins_folder(argv[0]))
    finally:
        sys.stdout = out
    out.write(json.dumps(result) + "\n")
    return 0
