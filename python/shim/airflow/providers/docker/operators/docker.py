"""``DockerOperator``: a task that runs in a container of the local Docker/Podman engine.

Owns the authoring surface (Airflow's parameters, template fields, the parse-time refusal of
what a hardened local engine does not allow, ``auto_remove``/``skip_on_exit_code``
normalisation) and how its arguments appear in TASK.args (``private_environment`` masked,
``mounts`` as ``{"source", "target", "type", "read_only"}``: ``mount_spec``). Nothing runs
here: for a ``docker`` task the runtime (``leoflow_rt.container``, called by ``runner.py``)
turns the rendered operator into the container request the server starts. Imported by DAG
files; subclassed by ``airflow.providers.docker.decorators.docker``. See PROTOCOL.md.
"""
from airflow.sdk.bases.operator import BaseOperator, as_list
from leoflow_rt.unsupported import UnsupportedError, module_getattr

_HARDENED = ("tasks run hardened on the local container engine (no privileged mode, no added "
             "capabilities, no remote daemon)")
_NOT_IMPLEMENTED = "its container runner does not implement it (leave it unset)"
#: Parameters refused unless they keep a harmless value, and why (checked in this order).
_REFUSED = (
    ("docker_url", _HARDENED), ("tls_ca_cert", _HARDENED), ("tls_client_cert", _HARDENED),
    ("tls_client_key", _HARDENED), ("tls_verify", _HARDENED), ("tls_hostname", _HARDENED),
    ("tls_ssl_version", _HARDENED), ("privileged", _HARDENED), ("cap_add", _HARDENED),
    ("device_requests", _HARDENED),
    ("docker_conn_id", _NOT_IMPLEMENTED), ("dns", _NOT_IMPLEMENTED),
    ("dns_search", _NOT_IMPLEMENTED), ("hostname", _NOT_IMPLEMENTED),
    ("extra_hosts", _NOT_IMPLEMENTED), ("ipc_mode", _NOT_IMPLEMENTED),
    ("port_bindings", _NOT_IMPLEMENTED), ("ulimits", _NOT_IMPLEMENTED),
    ("host_tmp_dir", _NOT_IMPLEMENTED), ("tmp_dir", _NOT_IMPLEMENTED),
    ("log_opts_max_size", _NOT_IMPLEMENTED), ("log_opts_max_file", _NOT_IMPLEMENTED),
)
#: Airflow's effective default daemon (``docker_url=None`` means this socket).
_LOCAL_ENGINE = ("unix://var/run/docker.sock", "unix:///var/run/docker.sock")
AUTO_REMOVE_VALUES = ("never", "success", "force")


def _harmless(name, value):
    if name == "tls_verify":
        return value is True
    if name == "tmp_dir":
        return value == "/tmp/airflow"
    if name == "docker_url" and isinstance(value, str) and value in _LOCAL_ENGINE:
        return True
    return not value


def check_parameters(cls, kwargs):
    """Refuse (at parse time) a parameter a hardened local engine does not allow, unless it
    keeps a harmless value (``privileged=False``, ``docker_url=None``...)."""
    for name, reason in _REFUSED:
        if name in kwargs and not _harmless(name, kwargs[name]):
            raise UnsupportedError("%s parameter %r is not supported by Leoflow Lite: %s"
                                   % (cls.custom_operator_name or cls.__name__, name, reason))


def normalize_auto_remove(value):
    """Airflow's ``auto_remove`` values; the legacy booleans map to "success" / "never"."""
    if value is True:
        return "success"
    if value is False:
        return "never"
    if isinstance(value, str) and value in AUTO_REMOVE_VALUES:
        return value
    raise ValueError("Invalid `auto_remove` value %r, expected one of 'never', 'success', or "
                     "'force'." % (value,))


def _track_explicit_read_only():
    """docker-py's ``Mount`` records ``ReadOnly: False`` whether or not its caller said so;
    wrap its constructor so a mount made after this import remembers an explicit
    ``read_only`` (its fourth parameter) in ``_lf_explicit``."""
    try:
        from docker.types import Mount
    except Exception:  # no docker-py: the fallback records it itself
        return
    if getattr(Mount, "_lf_fallback", False) or getattr(Mount, "_lf_tracked", False):
        return
    init = Mount.__init__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if "read_only" in kwargs or len(args) >= 4:
            self._lf_explicit = True

    Mount.__init__ = __init__
    Mount._lf_tracked = True


_track_explicit_read_only()


def mount_spec(mount):
    """``{"source", "target", "type", "read_only"}`` of a ``docker.types.Mount`` (docker-py's
    or the fallback's) or of a dict of Mount arguments (``{"target", "source", "type",
    "read_only"}``, as Airflow accepts). ``read_only`` is True unless the mount says
    ``read_only=False`` explicitly (a docker-py Mount made before this module was imported
    cannot say so and stays read-only). TypeError otherwise."""
    if not isinstance(mount, dict):
        raise TypeError("a mount must be a docker.types.Mount or a dict of Mount arguments, "
                        "got %s" % type(mount).__name__)
    if "Target" in mount:
        explicit = (type(mount) is dict or getattr(mount, "_lf_fallback", False)
                    or getattr(mount, "_lf_explicit", False))
        flag = mount.get("ReadOnly") if explicit else None
        return {"source": mount.get("Source"), "target": mount["Target"],
                "type": mount.get("Type", "volume"), "read_only": flag is None or bool(flag)}
    flag = mount.get("read_only")
    return {"source": mount.get("source"), "target": mount.get("target"),
            "type": mount.get("type", "volume"), "read_only": flag is None or bool(flag)}


class DockerOperator(BaseOperator):
    """Run ``command`` in a container of ``image`` on the local engine (the server starts it;
    its output is the task log, the last line or every line is the XCom, as in Airflow)."""

    template_fields = ("image", "command", "environment", "env_file", "container_name")
    template_fields_renderers = {"env_file": "yaml"}
    template_ext = (".sh", ".bash", ".env")
    _lf_kind = "docker"
    _lf_args = ("image", "command", "entrypoint", "environment", "private_environment",
                "env_file", "user", "working_dir", "mounts", "network_mode", "mem_limit", "cpus",
                "shm_size", "auto_remove", "skip_on_exit_code", "xcom_all", "retrieve_output",
                "retrieve_output_path", "mount_tmp_dir", "force_pull", "container_name",
                "labels")

    def __init__(self, *, image, api_version=None, command=None, container_name=None, cpus=1.0,
                 docker_url=None, environment=None, private_environment=None, env_file=None,
                 force_pull=False, mem_limit=None, host_tmp_dir=None, network_mode=None,
                 tls_ca_cert=None, tls_client_cert=None, tls_client_key=None, tls_verify=True,
                 tls_hostname=None, tls_ssl_version=None, mount_tmp_dir=True,
                 tmp_dir="/tmp/airflow", user=None, mounts=None, entrypoint=None,
                 working_dir=None, xcom_all=False, docker_conn_id=None, dns=None,
                 dns_search=None, auto_remove="never", shm_size=None, tty=False, hostname=None,
                 privileged=False, cap_add=None, extra_hosts=None, retrieve_output=False,
                 retrieve_output_path=None, timeout=60, device_requests=None,
                 log_opts_max_size=None, log_opts_max_file=None, ipc_mode=None,
                 skip_on_exit_code=None, port_bindings=None, ulimits=None, labels=None,
                 **kwargs):
        check_parameters(type(self), locals())
        super().__init__(**kwargs)
        self.image = image
        self.command = command
        self.entrypoint = entrypoint
        self.environment = environment or {}
        self._private_environment = private_environment or {}
        self.env_file = env_file
        self.user = user
        self.working_dir = working_dir
        self.mounts = list(mounts or [])
        self.network_mode = network_mode
        self.mem_limit = mem_limit
        self.cpus = cpus
        self.shm_size = shm_size
        self.auto_remove = normalize_auto_remove(auto_remove)
        self.skip_on_exit_code = as_list(skip_on_exit_code)
        self.xcom_all = xcom_all
        self.retrieve_output = retrieve_output
        self.retrieve_output_path = retrieve_output_path
        self.mount_tmp_dir = mount_tmp_dir
        self.force_pull = force_pull
        self.container_name = container_name
        self.labels = labels
        # Accepted for compatibility, without effect on a local engine.
        self.api_version = api_version
        self.timeout = timeout
        self.tty = tty

    @property
    def private_environment(self):
        """Not templated and never serialized in clear (TASK.args masks the values)."""
        return self._private_environment

    @classmethod
    def _lf_check_kwargs(cls, kwargs):
        """``check_parameters`` for ``.partial()`` / ``.expand()`` arguments (called by
        ``MappedOperator``)."""
        check_parameters(cls, kwargs)

    @classmethod
    def _lf_arg_json(cls, name, value):
        """TASK.args VALUE of argument ``name`` (see ``leoflow_rt.serialize.task_args``)."""
        from leoflow_rt.serialize import encode, masked

        if name == "private_environment":
            return masked(value)
        if name == "mounts" and isinstance(value, (list, tuple)):
            out = []
            for m in value:
                try:
                    out.append(encode(mount_spec(m)))
                except TypeError:
                    out.append(encode(m))
            return out
        return encode(value)

    def execute(self, context):
        from airflow.sdk.exceptions import AirflowException

        raise AirflowException(
            "%s runs in a container that the Leoflow server starts; the task runtime only "
            "prepares it (a subclass overriding execute() is a Python task and cannot call "
            "DockerOperator.execute)" % type(self).__name__)


__getattr__ = module_getattr(__name__)
