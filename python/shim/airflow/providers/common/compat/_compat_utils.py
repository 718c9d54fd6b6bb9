"""The lazy ``__getattr__`` of the compat modules: each name is looked up in the modules its
import map lists, newest Airflow path first, and taken from the first one the shim has (as the
real ``create_module_getattr`` does with Airflow 3 then Airflow 2 paths)."""
import importlib


def create_module_getattr(import_map, module_map=None, rename_map=None, modname=None):
    module_map = module_map or {}
    rename_map = rename_map or {}

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError("module %r has no attribute %r" % (modname, name))
        if name in module_map:
            paths = module_map[name]
            for path in (paths,) if isinstance(paths, str) else paths:
                try:
                    return importlib.import_module(path)
                except ImportError:
                    continue
        candidates = []
        if name in rename_map:
            new_path, old_path, old_name = rename_map[name]
            candidates = [(new_path, name), (old_path, old_name)]
        elif name in import_map:
            paths = import_map[name]
            candidates = [(p, name) for p in ((paths,) if isinstance(paths, str) else paths)]
        for path, attr in candidates:
            try:
                value = getattr(importlib.import_module(path), attr)
            except (ImportError, AttributeError):
                continue
            return value
        from leoflow_rt.unsupported import unsupported

        if candidates or name in module_map:
            raise unsupported("%s.%s" % (modname, name), name=modname)
        raise AttributeError("module %r has no attribute %r" % (modname, name))

    return __getattr__
