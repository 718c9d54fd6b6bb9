"""Legacy ``airflow.models`` (names are imported lazily)."""
import importlib as _importlib

_LAZY = {
    "DAG": "airflow.sdk.definitions.dag",
    "BaseOperator": "airflow.sdk.bases.operator",
    "Variable": "airflow.sdk.definitions.variable",
    "Connection": "airflow.sdk.definitions.connection",
    "Param": "airflow.sdk.definitions.param",
    "ParamsDict": "airflow.sdk.definitions.param",
    "XComArg": "airflow.sdk.definitions.xcom_arg",
    "MappedOperator": "airflow.sdk.definitions.mappedoperator",
    "BaseOperatorLink": "airflow.sdk.bases.operatorlink",
    "TaskInstance": "airflow.models.taskinstance",
    "DagRun": "airflow.models.dagrun",
    "XCom": "airflow.models.xcom",
}


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        if name.startswith("__"):
            raise AttributeError("module 'airflow.models' has no attribute %r" % name)
        from leoflow_rt.unsupported import unsupported

        raise unsupported("airflow.models.%s" % name, name="airflow.models")
    value = getattr(_importlib.import_module(mod), name)
    globals()[name] = value
    return value
