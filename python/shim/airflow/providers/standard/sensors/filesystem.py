"""``FileSensor``: wait for a file or folder to exist."""
from airflow.sdk.bases.sensor import BaseSensorOperator
from leoflow_rt.unsupported import module_getattr


class FileSensor(BaseSensorOperator):
    template_fields = ("filepath",)
    ui_color = "#91818a"
    _lf_args = BaseSensorOperator._lf_args + ("filepath", "fs_conn_id", "recursive",
                                              "deferrable")

    def __init__(self, *, filepath, fs_conn_id="fs_default", recursive=False, deferrable=False,
                 start_from_trigger=False, trigger_kwargs=None, **kwargs):
        super().__init__(**kwargs)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive
        self.deferrable = deferrable

    def poke(self, context):
        import glob
        import os

        base = ""
        try:
            from airflow.sdk.definitions.connection import Connection

            base = Connection.get(self.fs_conn_id).extra_dejson.get("path", "") or ""
        except Exception:  # noqa: BLE001 - no fs_default connection: paths are used as given
            base = ""
        full_path = os.path.join(base, self.filepath)
        self.log.info("Poking for file %s", full_path)
        for path in glob.glob(full_path, recursive=self.recursive):
            if os.path.isfile(path) or (os.path.isdir(path) and (
                    not self.recursive or os.listdir(path))):
                return True
        return False


__getattr__ = module_getattr(__name__)
