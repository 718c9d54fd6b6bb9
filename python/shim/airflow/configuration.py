"""A tiny ``airflow.configuration.conf`` (``AIRFLOW__SECTION__KEY`` env vars, then defaults)."""
import os

_DEFAULTS = {
    ("core", "dags_folder"): os.environ.get("LEOFLOW_DAGS_FOLDER", ""),
    ("core", "default_timezone"): "utc",
    ("core", "dagbag_import_timeout"): "30.0",
    ("core", "default_task_retries"): "0",
    ("core", "load_examples"): "False",
    ("operators", "default_owner"): "airflow",
    ("operators", "default_queue"): "default",
    ("scheduler", "catchup_by_default"): "False",
    ("core", "max_templated_field_length"): "4096",
    ("core", "test_connection"): "Disabled",
    ("core", "allowed_deserialization_classes"): "airflow.*",
    ("core", "unit_test_mode"): "False",
    ("core", "execute_tasks_new_python_interpreter"): "False",
    ("api", "base_url"): "/",
    ("logging", "logging_level"): "INFO",
    ("logging", "colored_console_log"): "False",
    ("secrets", "backend"): "",
    ("secrets", "backend_kwargs"): "",
}


class _Conf:
    def get(self, section, key, fallback=None, **kwargs):
        env = "AIRFLOW__%s__%s" % (section.upper(), key.upper())
        if env in os.environ:
            return os.environ[env]
        v = _DEFAULTS.get((section.lower(), key.lower()))
        if v is not None:
            return v
        if fallback is not None or "fallback" in kwargs:
            return fallback
        from airflow.sdk.exceptions import AirflowConfigException

        raise AirflowConfigException("section/key [%s/%s] not found in config" % (section, key))

    def getboolean(self, section, key, fallback=None, **kwargs):
        v = self.get(section, key, fallback=fallback)
        if isinstance(v, bool):
            return v
        return str(v).strip().lower() in ("t", "true", "1", "yes", "on")

    def getint(self, section, key, fallback=None, **kwargs):
        return int(self.get(section, key, fallback=fallback))

    def getfloat(self, section, key, fallback=None, **kwargs):
        return float(self.get(section, key, fallback=fallback))

    def getlist(self, section, key, delimiter=",", fallback=None, **kwargs):
        v = self.get(section, key, fallback=fallback)
        if v is None or isinstance(v, list):
            return v
        return [x.strip() for x in str(v).split(delimiter) if x.strip()]

    def getjson(self, section, key, fallback=None, **kwargs):
        import json

        v = self.get(section, key, fallback=None if fallback is None else fallback)
        if v is None or v == "" or not isinstance(v, str):
            return fallback if v in (None, "") else v
        return json.loads(v)

    def getimport(self, section, key, **kwargs):
        v = self.get(section, key, **kwargs)
        if not v:
            return None
        from airflow.sdk.module_loading import import_string

        return import_string(v)

    def getsection(self, section):
        out = {k: v for (s, k), v in _DEFAULTS.items() if s == section.lower()}
        prefix = "AIRFLOW__%s__" % section.upper()
        out.update({k[len(prefix):].lower(): v for k, v in os.environ.items()
                    if k.startswith(prefix)})
        return out

    def has_section(self, section):
        return bool(self.getsection(section))

    def has_option(self, section, key):
        try:
            self.get(section, key)
            return True
        except Exception:
            return False


conf = _Conf()
