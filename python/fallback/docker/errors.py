"""``docker.errors`` of the fallback ``docker`` package (see ``docker/__init__.py``):
the exceptions its ``docker.types`` raise, named as in docker-py."""


class DockerException(Exception):
    """Base class of docker-py's errors."""


class InvalidArgument(DockerException):
    """A ``docker.types`` object was given incompatible or unknown values."""
