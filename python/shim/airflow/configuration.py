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

    def has_option(self, section, key):
        try:
            self.get(section, key)
            return True
        except Exception:
            return False


conf = _Conf()
