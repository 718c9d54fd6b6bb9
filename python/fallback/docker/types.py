"""``docker.types`` of the fallback ``docker`` package (see ``docker/__init__.py``).

docker-py's records are dicts holding the Engine API's keys; these are too. ``Mount`` differs
in one way: ``read_only`` defaults to True (Leoflow Lite bind-mounts read-only unless told
``read_only=False``), so ``Mount(...)["ReadOnly"]`` says what the container gets. Read by
``airflow.providers.docker.operators.docker.mount_spec`` (parse time and task runtime).
"""
from docker.errors import InvalidArgument

MOUNT_TYPES = ("bind", "volume", "tmpfs", "npipe")


class Mount(dict):
    """``Mount(target, source, type="volume", read_only=None, ...)``: only ``type="bind"``
    mounts (a host path) can run; the other types are refused when the task runs."""

    _lf_fallback = True

    def __init__(self, target, source, type="volume", read_only=None, consistency=None,
                 propagation=None, no_copy=False, labels=None, driver_config=None,
                 tmpfs_size=None, tmpfs_mode=None):
        super().__init__()
        if type not in MOUNT_TYPES:
            raise InvalidArgument('Unsupported mount type: "%s"' % (type,))
        self["Target"] = target
        self["Source"] = source
        self["Type"] = type
        self["ReadOnly"] = True if read_only is None else bool(read_only)
        if consistency:
            self["Consistency"] = consistency
        if type == "bind":
            if propagation is not None:
                self["BindOptions"] = {"Propagation": propagation}
            if any((labels, driver_config, no_copy, tmpfs_size, tmpfs_mode)):
                raise InvalidArgument("Incompatible options have been provided for the bind "
                                      "type mount.")
        elif type == "volume":
            options = {}
            if no_copy:
                options["NoCopy"] = True
            if labels:
                options["Labels"] = labels
            if driver_config:
                options["DriverConfig"] = driver_config
            if options:
                self["VolumeOptions"] = options
        elif type == "tmpfs":
            options = {}
            if tmpfs_size is not None:
                options["SizeBytes"] = tmpfs_size
            if tmpfs_mode is not None:
                options["Mode"] = tmpfs_mode
            if options:
                self["TmpfsOptions"] = options


class DeviceRequest(dict):
    """``device_requests`` entries (GPUs...): recorded, refused by DockerOperator."""

    def __init__(self, driver="", count=0, device_ids=None, capabilities=None, options=None):
        super().__init__(Driver=driver, Count=count, DeviceIDs=device_ids or [],
                         Capabilities=capabilities or [], Options=options or {})


class Ulimit(dict):
    """``ulimits`` entries: recorded, refused by DockerOperator."""

    def __init__(self, name, soft=None, hard=None):
        super().__init__(Name=name)
        if soft is not None:
            self["Soft"] = soft
        if hard is not None:
            self["Hard"] = hard


class LogConfig(dict):
    """A container log configuration (``type``, ``config``), as docker-py records it."""

    def __init__(self, type="", config=None):
        super().__init__(Type=type, Config=dict(config or {}))
