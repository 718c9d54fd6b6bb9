"""Clear import errors for the parts of Airflow that Leoflow Lite does not provide.

* A meta-path finder (appended after the normal ones) answers every ``airflow.*`` module the
  shim lacks with a stub package; touching any name of it raises an ImportError naming the
  full dotted path and listing what is supported.
* ``module_getattr(__name__)`` gives real shim modules the same behaviour for unknown names.
"""
import os
import sys

SUPPORTED_OPERATORS = (
    "BashOperator", "BranchDateTimeOperator", "BranchDayOfWeekOperator", "BranchPythonOperator",
    "BranchExternalPythonOperator", "DockerOperator", "EmptyOperator", "ExternalPythonOperator", "HttpOperator", "LatestOnlyOperator", "PythonOperator", "PythonVirtualenvOperator",
    "ShortCircuitOperator", "SimpleHttpOperator", "TriggerDagRunOperator",
)
SUPPORTED_SENSORS = (
    "BashSensor", "DateTimeSensor", "DayOfWeekSensor", "ExternalTaskSensor", "FileSensor",
    "PythonSensor", "TimeDeltaSensor", "TimeSensor",
)
SUPPORTED_DECORATORS = (
    "@task", "@task.python", "@task.bash", "@task.branch", "@task.short_circuit", "@task.sensor",
    "@task.docker", "@task.external_python",
    "@task.branch_external_python", "@task.virtualenv",
)


#: Provider namespaces whose package names take two parts (``apache-airflow-providers-common-sql``).
_TWO_PART = ("apache", "common", "microsoft", "cncf", "dbt", "atlassian", "alibaba")


def provider_package(dotted):
    """The ``apache-airflow-providers-*`` distribution an ``airflow.providers.*`` path belongs
    to, or None."""
    parts = dotted.split(".")
    if len(parts) < 3 or parts[:2] != ["airflow", "providers"]:
        return None
    n = 2 if parts[2] in _TWO_PART and len(parts) > 3 else 1
    return "apache-airflow-providers-" + "-".join(parts[2:2 + n]).replace("_", "-")


def message(what):
    text = (
        "Leoflow Lite does not support %r. Supported operators: %s. Supported sensors: %s. "
        "Supported decorators: %s. Custom operators can subclass BaseOperator."
        % (what, ", ".join(SUPPORTED_OPERATORS), ", ".join(SUPPORTED_SENSORS),
           ", ".join(SUPPORTED_DECORATORS))
    )
    package = provider_package(what)
    if package is not None:
        text += (" Operators and hooks of provider packages work when the package is installed "
                 "in the Python Lite runs DAGs with: `%s -m pip install %s` (or start Lite with "
                 "--python pointing at an interpreter that has it)."
                 % (sys.executable or "python3", package))
    return text


class UnsupportedError(ImportError):
    """Raised for Airflow modules/classes that Leoflow Lite does not provide."""


def provider_of_caller():
    """``(package, "file:line")`` of the innermost frame that runs an installed provider
    package's code (``site-packages/airflow/providers/...``), or None."""
    import os

    shim = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    try:
        f = sys._getframe(2)
    except ValueError:
        return None
    while f is not None:
        path = f.f_code.co_filename
        marker = os.sep + os.path.join("airflow", "providers") + os.sep
        if marker in path and not os.path.abspath(path).startswith(shim):
            d = os.path.dirname(path)
            while marker in d + os.sep:
                if os.path.exists(os.path.join(d, "get_provider_info.py")):
                    parts = d.split(marker, 1)[1].split(os.sep)
                    return ("apache-airflow-providers-" + "-".join(parts).replace("_", "-"),
                            "%s:%d" % (path, f.f_lineno))
                d = os.path.dirname(d)
            return ("a provider package", "%s:%d" % (path, f.f_lineno))
        f = f.f_back
    return None


def unsupported(what, name=None):
    provider = provider_of_caller()
    if provider is not None:
        package, where = provider
        return UnsupportedError(
            "The provider package %s (%s) needs %r, which Leoflow Lite's Airflow shim does not "
            "provide: this provider needs the real Airflow for that feature. Providers that "
            "build on the task SDK (airflow.sdk), BaseHook and connections run on Lite."
            % (package, where, what), name=name)
    return UnsupportedError(message(what), name=name)


def module_getattr(modname):
    """A PEP 562 ``__getattr__`` for shim modules: unknown public names are unsupported."""

    def __getattr__(name):
        if name.startswith("__") or name.startswith("_pytest"):
            raise AttributeError("module %r has no attribute %r" % (modname, name))
        raise unsupported("%s.%s" % (modname, name), name=modname)

    return __getattr__


class _StubLoader:
    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        module.__getattr__ = module_getattr(module.__name__)
        module.__leoflow_stub__ = True


def _inside_installed_provider(fullname):
    """Whether ``fullname``'s parent package is a real installed provider package (not the
    shim, not a stub)."""
    import os

    parent = sys.modules.get(fullname.rpartition(".")[0])
    if parent is None or getattr(parent, "__leoflow_stub__", False):
        return False
    if not fullname.startswith("airflow.providers.") or fullname.count(".") < 3:
        return False
    shim = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    paths = list(getattr(parent, "__path__", None) or [])
    return bool(paths) and all(not os.path.abspath(p).startswith(shim) for p in paths)


class UnsupportedAirflowFinder:
    """Answers unknown ``airflow.*`` modules (the real shim modules are found first)."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if not fullname.startswith("airflow."):
            return None
        if _inside_installed_provider(fullname):
            # A module an installed provider package does not have: Python's own
            # ModuleNotFoundError, as with Airflow (e.g. an operator a provider release removed).
            return None
        from importlib.machinery import ModuleSpec

        spec = ModuleSpec(fullname, _StubLoader, is_package=True)
        spec.submodule_search_locations = []
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def install():
    for f in sys.meta_path:
        if getattr(f, "__name__", None) == "UnsupportedAirflowFinder":
            return
    sys.meta_path.append(UnsupportedAirflowFinder)
