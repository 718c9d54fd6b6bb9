"""``AirflowPlugin``: subclass it in a file of the plugins folder (see leoflow_rt.plugins)."""


class AirflowPluginException(Exception):
    """Raised when a plugin is not valid."""


class AirflowPlugin:
    """Class used to define an Airflow plugin (Lite uses ``timetables`` and
    ``priority_weight_strategies``; ``listeners`` are accepted and ignored; the web UI parts
    are listed by the API and not served)."""

    name = None
    source = None
    macros = []
    admin_views = []
    flask_blueprints = []
    fastapi_apps = []
    fastapi_root_middlewares = []
    external_views = []
    react_apps = []
    menu_links = []
    appbuilder_views = []
    appbuilder_menu_items = []
    global_operator_extra_links = []
    operator_extra_links = []
    timetables = []
    listeners = []
    priority_weight_strategies = []

    @classmethod
    def validate(cls):
        if not cls.name:
            raise AirflowPluginException("Your plugin needs a name.")

    @classmethod
    def on_load(cls, *args, **kwargs):
        pass
