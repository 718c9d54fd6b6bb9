"""``airflow.sdk``: the Airflow 3 authoring interface (names are imported lazily)."""
import importlib as _importlib

__version__ = "1.2.0"

_LAZY = {
    "DAG": "airflow.sdk.definitions.dag",
    "dag": "airflow.sdk.definitions.dag",
    "task": "airflow.sdk.definitions.decorators",
    "setup": "airflow.sdk.definitions.decorators",
    "teardown": "airflow.sdk.definitions.decorators",
    "task_group": "airflow.sdk.definitions.decorators.task_group",
    "TaskGroup": "airflow.sdk.definitions.taskgroup",
    "BaseOperator": "airflow.sdk.bases.operator",
    "chain": "airflow.sdk.bases.operator",
    "chain_linear": "airflow.sdk.bases.operator",
    "cross_downstream": "airflow.sdk.bases.operator",
    "BaseSensorOperator": "airflow.sdk.bases.sensor",
    "PokeReturnValue": "airflow.sdk.bases.sensor",
    "BaseHook": "airflow.sdk.bases.hook",
    "BaseNotifier": "airflow.sdk.bases.notifier",
    "BaseOperatorLink": "airflow.sdk.bases.operatorlink",
    "XComArg": "airflow.sdk.definitions.xcom_arg",
    "Param": "airflow.sdk.definitions.param",
    "ParamsDict": "airflow.sdk.definitions.param",
    "Label": "airflow.sdk.definitions.edges",
    "EdgeModifier": "airflow.sdk.definitions.edges",
    "Asset": "airflow.sdk.definitions.asset",
    "AssetAlias": "airflow.sdk.definitions.asset",
    "AssetAll": "airflow.sdk.definitions.asset",
    "AssetAny": "airflow.sdk.definitions.asset",
    "AssetWatcher": "airflow.sdk.definitions.asset",
    "Metadata": "airflow.sdk.definitions.asset.metadata",
    "asset": "airflow.sdk.definitions.asset.decorators",
    "PartitionedAssetTimetable": "airflow.timetables.simple",
    "CronPartitionTimetable": "airflow.timetables.trigger",
    "PartitionMapper": "airflow.sdk.definitions.partition_mappers.base",
    "IdentityMapper": "airflow.sdk.definitions.partition_mappers.identity",
    "AllowedKeyMapper": "airflow.sdk.definitions.partition_mappers.allowed_key",
    "ChainMapper": "airflow.sdk.definitions.partition_mappers.chain",
    "ProductMapper": "airflow.sdk.definitions.partition_mappers.product",
    "StartOfHourMapper": "airflow.sdk.definitions.partition_mappers.temporal",
    "StartOfDayMapper": "airflow.sdk.definitions.partition_mappers.temporal",
    "StartOfWeekMapper": "airflow.sdk.definitions.partition_mappers.temporal",
    "StartOfMonthMapper": "airflow.sdk.definitions.partition_mappers.temporal",
    "StartOfQuarterMapper": "airflow.sdk.definitions.partition_mappers.temporal",
    "StartOfYearMapper": "airflow.sdk.definitions.partition_mappers.temporal",
    "Model": "airflow.sdk.definitions.asset",
    "Context": "airflow.sdk.definitions.context",
    "get_current_context": "airflow.sdk.definitions.context",
    "get_parsing_context": "airflow.sdk.definitions.context",
    "Variable": "airflow.sdk.definitions.variable",
    "Connection": "airflow.sdk.definitions.connection",
    "literal": "airflow.sdk.definitions.template",
    "TriggerRule": "airflow.utils.trigger_rule",
    "WeightRule": "airflow.utils.weight_rule",
    "DagRunState": "airflow.utils.state",
    "TaskInstanceState": "airflow.utils.state",
    "CronTriggerTimetable": "airflow.timetables.trigger",
    "DeltaTriggerTimetable": "airflow.timetables.trigger",
    "MultipleCronTriggerTimetable": "airflow.timetables.trigger",
    "CronDataIntervalTimetable": "airflow.timetables.interval",
    "DeltaDataIntervalTimetable": "airflow.timetables.interval",
    "AssetOrTimeSchedule": "airflow.timetables.assets",
    "ObjectStoragePath": "airflow.sdk.io.path",
}

__all__ = sorted(list(_LAZY) + ["timezone", "__version__"])


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        if name == "timezone":
            return _importlib.import_module("airflow.sdk.timezone")
        if name.startswith("__"):
            raise AttributeError("module 'airflow.sdk' has no attribute %r" % name)
        from leoflow_rt.unsupported import unsupported

        raise unsupported("airflow.sdk.%s" % name, name="airflow.sdk")
    value = getattr(_importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
