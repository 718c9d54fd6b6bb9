"""Leoflow Lite's fallback ``docker`` package: the few docker-py names DAG files import to
describe a ``DockerOperator`` (``docker.types.Mount``, ``DeviceRequest``, ``Ulimit``,
``LogConfig``; ``docker.errors``). Used only when the interpreter has no real docker-py (it is
last on ``sys.path``, so a real install wins). Imported by DAG files at parse time and in the
task runtime; nothing here talks to an engine (the Leoflow server does).
"""


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError("module 'docker' has no attribute %r" % name)
    raise AttributeError(
        "docker.%s is not available: this 'docker' package is Leoflow Lite's fallback (only "
        "docker.types and docker.errors, to describe a DockerOperator); install docker-py to "
        "use the Docker client itself" % name)
