"""``@asset`` and ``@asset.multi`` (Task SDK 1.2): a function that materializes assets
becomes a DAG with one task, named after the function, whose outlets are the assets.

As in the SDK: ``@asset(schedule=..., name=, uri=, group=, extra=, watchers=)`` returns an
``AssetDefinition`` (an ``Asset`` other DAGs can schedule on) and creates the DAG ``name`` (or
``dag_id``); the task is a ``_AssetMainOperator`` (a ``PythonOperator``) whose inlets are the
function's parameters without defaults (``Asset.ref(name=...)``; ``self`` and ``context``
excepted). ``@asset.multi(outlets=[...], schedule=...)`` returns a ``MultiAssetDefinition`` (an
``AssetAll`` of the outlets) and names the DAG and the task after the function. A ``@task``
decorated function may be decorated too (it must not set ``outlets`` itself).

At run time, ``self`` is the asset being materialized, ``context`` the task context and every
other parameter the asset of that name: Airflow fetches it from its API server; Lite looks
for it among the assets the DAG file defines and otherwise gives ``Asset(name=...)``.
"""
import inspect

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk.definitions.asset import Asset, AssetAll, BaseAsset


def _validate_asset_function_arguments(f):
    for name, param in inspect.signature(f).parameters.items():
        if param.kind == inspect.Parameter.VAR_POSITIONAL:
            raise TypeError("wildcard '*%s' is not supported in @asset" % name)
        if param.kind == inspect.Parameter.VAR_KEYWORD:
            raise TypeError("wildcard '**%s' is not supported in @asset" % name)
        if param.kind == inspect.Parameter.POSITIONAL_ONLY and \
                param.default is inspect.Parameter.empty:
            raise TypeError("positional-only argument '%s' without a default is not supported "
                            "in @asset" % name)


def _known_asset(name):
    """The asset called ``name`` that the DAG file defines (an outlet of one of its tasks)."""
    from leoflow_rt import registry

    for dag in registry.dags:
        for task in dag.task_dict.values():
            for o in getattr(task, "outlets", None) or ():
                if isinstance(o, Asset) and o.name == name:
                    return o
    return Asset(name=name)


class _AssetMainOperator(PythonOperator):
    def __init__(self, *, definition_name, uri=None, **kwargs):
        super().__init__(**kwargs)
        self._definition_name = definition_name

    @classmethod
    def from_definition(cls, definition):
        _validate_asset_function_arguments(definition._function)
        params = inspect.signature(definition._function).parameters
        return cls(
            task_id=definition._function.__name__,
            inlets=[Asset.ref(name=n) for n, p in params.items()
                    if n not in ("self", "context") and p.default is inspect.Parameter.empty],
            outlets=list(definition.iter_outlets()),
            python_callable=definition._function,
            definition_name=definition.name,
        )

    def determine_kwargs(self, context):
        out = {}
        for key, param in inspect.signature(self.python_callable).parameters.items():
            if param.default is not inspect.Parameter.empty:
                out[key] = param.default
            elif key == "self":
                out[key] = _known_asset(self._definition_name)
            elif key == "context":
                out[key] = context
            else:
                out[key] = _known_asset(key)
        return out


def _instantiate_task(definition):
    decorated = definition._function
    if getattr(decorated, "_airflow_is_task_decorator", False):
        if "outlets" in decorated.kwargs:
            raise TypeError("@task decorator with 'outlets' argument is not supported in @asset")
        decorated.kwargs["outlets"] = list(definition.iter_outlets())
        decorated()
    else:
        _AssetMainOperator.from_definition(definition)


def _function_name(f):
    return getattr(f, "__name__", None) or getattr(getattr(f, "function", None), "__name__", "")


def _qualname(f):
    return getattr(f, "__qualname__", None) or getattr(
        getattr(f, "function", None), "__qualname__", "")


class _DAGFactory:
    """The DAG arguments ``@asset`` and ``@asset.multi`` accept."""

    _dag_args = ("schedule", "is_paused_upon_creation", "dag_id", "dag_display_name",
                 "description", "params", "on_success_callback", "on_failure_callback",
                 "access_control", "owner_links", "tags")

    def _init_dag_args(self, schedule, is_paused_upon_creation=None, dag_id=None,
                       dag_display_name=None, description=None, params=None,
                       on_success_callback=None, on_failure_callback=None,
                       access_control=None, owner_links=None, tags=None):
        self.schedule = schedule
        self.is_paused_upon_creation = is_paused_upon_creation
        self.dag_id = dag_id
        self.dag_display_name = dag_display_name
        self.description = description
        self.params = params
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.access_control = access_control
        self.owner_links = dict(owner_links or {})
        self.tags = set(tags or ())

    def create_dag(self, *, default_dag_id):
        from airflow.sdk.definitions.dag import DAG

        dag_id = self.dag_id or default_dag_id
        return DAG(
            dag_id=dag_id,
            schedule=self.schedule,
            is_paused_upon_creation=self.is_paused_upon_creation,
            catchup=False,
            dag_display_name=self.dag_display_name or dag_id,
            description=self.description,
            params=self.params,
            on_success_callback=self.on_success_callback,
            on_failure_callback=self.on_failure_callback,
            access_control=self.access_control,
            owner_links=self.owner_links,
            tags=self.tags,
            auto_register=True,
        )


class AssetDefinition(Asset):
    """The asset a ``@asset`` function materializes (usable wherever an asset is)."""

    def __init__(self, *, name, uri, group, extra, watchers, function, source):
        super().__init__(name=name, uri=uri, group=group, extra=extra, watchers=watchers)
        self._function = function
        self._source = source
        with source.create_dag(default_dag_id=self.name):
            _instantiate_task(self)

    def iter_outlets(self):
        yield self


class MultiAssetDefinition(AssetAll):
    """What ``@asset.multi`` returns: the ``AssetAll`` of its outlets."""

    def __init__(self, *, function, source, name):
        super().__init__(*source.outlets)
        self.name = name
        self._function = function
        self._source = source
        with source.create_dag(default_dag_id=_function_name(function)):
            _instantiate_task(self)

    def iter_outlets(self):
        for o in self.objects:
            yield o


class asset(_DAGFactory):  # noqa: N801 - Airflow's name
    """Create an asset by decorating a materialization function."""

    def __init__(self, *, schedule, name=None, uri=None, group=None, extra=None,
                 watchers=None, **dag_args):
        unknown = set(dag_args) - set(self._dag_args)
        if unknown:
            raise TypeError("asset() got unexpected keyword argument(s): %s (accepted: name, "
                            "uri, group, extra, watchers, %s)"
                            % (", ".join(sorted(unknown)), ", ".join(self._dag_args)))
        self._init_dag_args(schedule, **dag_args)
        self.name = name
        self.uri = uri
        self.group = group if group is not None else Asset.asset_type or "asset"
        self.extra = dict(extra or {})
        self.watchers = list(watchers or [])

    class multi(_DAGFactory):  # noqa: N801 - Airflow's name
        """Create a one-task DAG that emits multiple assets."""

        def __init__(self, *, schedule, outlets, **dag_args):
            unknown = set(dag_args) - set(_DAGFactory._dag_args)
            if unknown:
                raise TypeError("asset.multi() got unexpected keyword argument(s): %s"
                                % ", ".join(sorted(unknown)))
            self._init_dag_args(schedule, **dag_args)
            self.outlets = list(outlets)

        def __call__(self, f):
            if _function_name(f) != _qualname(f):
                raise ValueError("nested function not supported")
            if not self.outlets:
                raise ValueError("no outlets provided")
            for o in self.outlets:
                if not isinstance(o, BaseAsset):
                    raise TypeError("@asset.multi outlets must be assets, not %r" % (o,))
            return MultiAssetDefinition(function=f, source=self, name=_function_name(f))

    def __call__(self, f):
        if _function_name(f) != _qualname(f):
            raise ValueError("nested function not supported")
        name = self.name or _function_name(f)
        return AssetDefinition(
            name=name,
            uri=name if self.uri is None else str(self.uri),
            group=self.group,
            extra=self.extra,
            watchers=self.watchers,
            function=f,
            source=self,
        )


__all__ = ["asset", "AssetDefinition", "MultiAssetDefinition"]
