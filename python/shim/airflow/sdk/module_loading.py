"""``airflow.sdk.module_loading`` (Airflow's helpers, as providers import them)."""
import functools
import importlib
import pkgutil
import re


def import_string(dotted_path):
    """Import a dotted module path and return the attribute it names; ImportError otherwise."""
    try:
        module_path, class_name = dotted_path.rsplit(".", 1)
    except ValueError:
        raise ImportError("%s doesn't look like a module path" % dotted_path) from None
    module = importlib.import_module(module_path)
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ImportError('Module "%s" does not define a "%s" attribute/class'
                          % (module_path, class_name)) from None


def qualname(o, use_qualname=False, exclude_module=False):
    """An attribute, class or callable as an importable dotted string."""
    if callable(o) and hasattr(o, "__module__"):
        if exclude_module:
            if hasattr(o, "__qualname__"):
                return o.__qualname__
            if hasattr(o, "__name__"):
                return o.__name__
            if isinstance(o, functools.partial):
                return qualname(o.func, exclude_module=True)
            return type(o).__qualname__
        if use_qualname and hasattr(o, "__qualname__"):
            return "%s.%s" % (o.__module__, o.__qualname__)
        if hasattr(o, "__name__"):
            return "%s.%s" % (o.__module__, o.__name__)
    cls = o if isinstance(o, type) else type(o)
    if exclude_module:
        return cls.__qualname__
    if cls.__module__ and cls.__module__ != "__builtin__":
        return "%s.%s" % (cls.__module__, cls.__qualname__)
    return cls.__qualname__


def iter_namespace(ns):
    return pkgutil.iter_modules(ns.__path__, ns.__name__ + ".")


def is_valid_dotpath(path):
    if not isinstance(path, str):
        return False
    return bool(re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)*$", path))
