"""Clear import errors for the parts of Airflow that Leoflow Lite does not provide.

* A meta-path finder (appended after the normal ones) answers every ``airflow.*`` module the
  shim lacks with a stub package; touching any name of it raises an ImportError naming the
  full dotted path and listing what is supported.
* ``module_getattr(__name__)`` gives real shim modules the same behaviour for unknown names.
"""
import sys

SUPPORTED_OPERATORS = (
    "BashOperator", "BranchDateTimeOperator", "BranchDayOfWeekOperator", "BranchPythonOperator",
    "BranchExternalPythonOperator", "DockerOperator", "EmptyOperator", "ExternalPythonOperator", "HttpOperator", "LatestOnlyOperator", "PythonOperator",
    "ShortCircuitOperator", "SimpleHttpOperator", "TriggerDagRunOperator",
)
SUPPORTED_SENSORS = (
    "BashSensor", "DateTimeSensor", "DayOfWeekSensor", "ExternalTaskSensor", "FileSensor",
    "PythonSensor", "TimeDeltaSensor", "TimeSensor",
)
SUPPORTED_DECORATORS = (
    "@task", "@task.python", "@task.bash", "@task.branch", "@task.short_circuit", "@task.sensor",
    "@task.docker", "@task.external_python",
    "@task.branch_external_python",
)


def message(what):
    return (
        "Leoflow Lite does not support %r. Supported operators: %s. Supported sensors: %s. "
        "Supported decorators: %s. Custom operators can subclass BaseOperator."
        % (what, ", ".join(SUPPORTED_OPERATORS), ", ".join(SUPPORTED_SENSORS),
           ", ".join(SUPPORTED_DECORATORS))
    )


class UnsupportedError(ImportError):
    """Raised for Airflow modules/classes that Leoflow Lite does not provide."""


def unsupported(what, name=None):
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


class UnsupportedAirflowFinder:
    """Answers unknown ``airflow.*`` modules (the real shim modules are found first)."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if not fullname.startswith("airflow."):
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
