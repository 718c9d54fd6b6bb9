"""``ObjectStoragePath``: Airflow's pathlib-like object storage path, for local paths.

Leoflow Lite implements the ``file`` scheme (``file:///abs/path``, ``file://conn_id@/abs``,
``local://...`` or a plain path) with the standard library; any other scheme (``s3``, ``gs``,
``abfs``...) can be written in a DAG (the DAG loads) but the first operation that needs the
storage raises an ``UnsupportedError`` naming the scheme.
"""
import fnmatch
import os
import posixpath
import shutil
import stat as _stat

LOCAL_SCHEMES = ("file", "local")


def _unsupported(scheme, path):
    from leoflow_rt.unsupported import UnsupportedError

    return UnsupportedError(
        "ObjectStoragePath scheme %r (%s) is not supported by Leoflow Lite: only local paths "
        "are (file:///absolute/path, or a path without a scheme)" % (scheme, path))


def attach(protocol=None, conn_id=None, alias=None, encryption_type="", fs=None, **kwargs):
    """Airflow's ``attach``: only the local file system can be attached."""
    if protocol not in (None, "") and protocol not in LOCAL_SCHEMES:
        raise _unsupported(protocol, "attach(%r)" % protocol)
    return _LocalFS()


class _LocalFS:
    protocol = ("file", "local")

    def __repr__(self):
        return "LocalFileSystem()"


class _StatResult(dict):
    """``stat()``: ``os.stat_result`` attributes plus fsspec's info keys (``size``, ``type``)."""

    def __init__(self, path, st):
        super().__init__(name=path, size=st.st_size,
                         type="directory" if _stat.S_ISDIR(st.st_mode) else "file",
                         created=st.st_ctime, mtime=st.st_mtime, mode=st.st_mode,
                         uid=st.st_uid, gid=st.st_gid, ino=st.st_ino, nlink=st.st_nlink)
        self._st = st

    def __getattr__(self, name):
        if name.startswith("st_"):
            return getattr(self._st, name)
        raise AttributeError(name)


class ObjectStoragePath:
    """A path on an object storage; ``file://`` paths are local files."""

    sep = "/"

    def __init__(self, *args, scheme=None, conn_id=None, protocol=None, **storage_options):
        parts = [a.__str__() if isinstance(a, ObjectStoragePath) else os.fspath(a)
                 if hasattr(a, "__fspath__") else a for a in args] or ["."]
        for p in parts:
            if not isinstance(p, str):
                raise TypeError("ObjectStoragePath arguments must be str or path-like, not %s"
                                % type(p).__name__)
        first = parts[0]
        self._scheme = scheme or protocol or ""
        self._conn_id = conn_id
        self._netloc = ""
        if "://" in first:
            sch, rest = first.split("://", 1)
            self._scheme = sch
            netloc, slash, path = rest.partition("/")
            if "@" in netloc:
                cid, netloc = netloc.split("@", 1)
                self._conn_id = self._conn_id or cid or None
            self._netloc = netloc
            first = "/" + path if slash else ""
            if self.is_local and netloc and netloc != "localhost":
                first = "/" + netloc + first
                self._netloc = ""
        path = posixpath.join(first, *parts[1:]) if len(parts) > 1 else first
        if self.is_local:
            path = posixpath.normpath(path) if path else "."
            if path.startswith("//"):
                path = "/" + path.lstrip("/")
        self._path = path
        self.storage_options = storage_options

    # -- identity ------------------------------------------------------------------------------
    @property
    def is_local(self):
        return self._scheme in ("",) + LOCAL_SCHEMES

    @property
    def protocol(self):
        return self._scheme or "file"

    scheme = protocol

    @property
    def conn_id(self):
        return self._conn_id

    @property
    def bucket(self):
        return self._netloc

    @property
    def key(self):
        return self._path.lstrip("/")

    @property
    def path(self):
        return self._path

    @property
    def namespace(self):
        return "%s://%s" % (self.protocol, self._netloc) if self._netloc else self.protocol

    @property
    def fs(self):
        self._local()
        return _LocalFS()

    def _local(self):
        if not self.is_local:
            raise _unsupported(self._scheme, str(self))
        return self._path

    def _new(self, path):
        p = object.__new__(type(self))
        p._scheme, p._conn_id, p._netloc = self._scheme, self._conn_id, self._netloc
        p._path, p.storage_options = path, dict(self.storage_options)
        return p

    def __str__(self):
        if not self._scheme:
            return self._path
        auth = "%s@" % self._conn_id if self._conn_id else ""
        return "%s://%s%s%s" % (self._scheme, auth, self._netloc, self._path)

    def __repr__(self):
        return "ObjectStoragePath(%r)" % str(self)

    def __fspath__(self):
        return self._local()

    def __eq__(self, other):
        if not isinstance(other, ObjectStoragePath):
            return NotImplemented
        return (self.protocol, self._netloc, self._path) == (other.protocol, other._netloc,
                                                              other._path)

    def __hash__(self):
        return hash((self.protocol, self._netloc, self._path))

    def __lt__(self, other):
        return str(self) < str(other)

    # -- pure path operations --------------------------------------------------------------------
    def __truediv__(self, other):
        return self.joinpath(other)

    def __rtruediv__(self, other):
        return ObjectStoragePath(other).joinpath(self._path)

    def joinpath(self, *others):
        path = self._path
        for o in others:
            o = o._path if isinstance(o, ObjectStoragePath) else os.fspath(o)
            path = posixpath.join(path, o)
        return self._new(posixpath.normpath(path) if self.is_local else path)

    @property
    def name(self):
        return posixpath.basename(self._path.rstrip("/"))

    @property
    def suffix(self):
        name = self.name
        i = name.rfind(".")
        return name[i:] if 0 < i < len(name) - 1 else ""

    @property
    def suffixes(self):
        name = self.name.lstrip(".")
        return ["." + s for s in name.split(".")[1:]] if "." in name else []

    @property
    def stem(self):
        suffix = self.suffix
        return self.name[:-len(suffix)] if suffix else self.name

    @property
    def parent(self):
        return self._new(posixpath.dirname(self._path.rstrip("/")) or "/")

    @property
    def parents(self):
        out, p = [], self
        while p.parent._path != p._path:
            p = p.parent
            out.append(p)
        return out

    @property
    def parts(self):
        return tuple(x for x in self._path.split("/") if x) if self._path else ()

    def with_name(self, name):
        return self.parent / name

    def with_suffix(self, suffix):
        return self.parent / (self.stem + suffix)

    def with_stem(self, stem):
        return self.parent / (stem + self.suffix)

    def is_absolute(self):
        return self._path.startswith("/")

    def relative_to(self, other):
        base = other._path if isinstance(other, ObjectStoragePath) else str(other)
        rel = posixpath.relpath(self._path, base)
        if rel.startswith(".."):
            raise ValueError("%r is not in the subpath of %r" % (str(self), base))
        return ObjectStoragePath(rel)

    def as_uri(self):
        return "%s://%s%s" % (self.protocol, self._netloc, self._path)

    def match(self, pattern):
        return fnmatch.fnmatch(self._path, "*" + pattern if not pattern.startswith("/")
                               else pattern)

    # -- the file system -------------------------------------------------------------------------
    def exists(self):
        return os.path.exists(self._local())

    def is_dir(self):
        return os.path.isdir(self._local())

    def is_file(self):
        return os.path.isfile(self._local())

    def is_symlink(self):
        return os.path.islink(self._local())

    def stat(self, follow_symlinks=True):
        p = self._local()
        return _StatResult(p, os.stat(p) if follow_symlinks else os.lstat(p))

    def lstat(self):
        return self.stat(follow_symlinks=False)

    def size(self):
        return self.stat().st_size

    def iterdir(self):
        p = self._local()
        for name in sorted(os.listdir(p)):
            yield self._new(posixpath.join(p, name))

    def glob(self, pattern):
        import glob as _glob

        p = self._local()
        for m in sorted(_glob.glob(posixpath.join(p, pattern), recursive="**" in pattern)):
            yield self._new(m)

    def rglob(self, pattern):
        return self.glob("**/" + pattern)

    def walk(self, top_down=True):
        for root, dirs, files in os.walk(self._local(), topdown=top_down):
            yield self._new(root), dirs, files

    def mkdir(self, mode=0o777, parents=False, exist_ok=False):
        p = self._local()
        try:
            if parents:
                os.makedirs(p, mode)
            else:
                os.mkdir(p, mode)
        except FileExistsError:
            if not exist_ok or not os.path.isdir(p):
                raise

    def touch(self, mode=0o666, exist_ok=True):
        p = self._local()
        if os.path.exists(p):
            if not exist_ok:
                raise FileExistsError(p)
            os.utime(p)
            return
        with open(p, "a"):
            pass
        os.chmod(p, mode & ~_umask())

    def unlink(self, missing_ok=False):
        try:
            os.unlink(self._local())
        except FileNotFoundError:
            if not missing_ok:
                raise

    def rmdir(self, recursive=True):
        p = self._local()
        if recursive:
            shutil.rmtree(p)
        else:
            os.rmdir(p)

    def open(self, mode="r", buffering=-1, encoding=None, errors=None, newline=None, **kwargs):
        return open(self._local(), mode, buffering, encoding, errors, newline)

    def read_text(self, encoding=None, errors=None):
        with self.open("r", encoding=encoding, errors=errors) as f:
            return f.read()

    def write_text(self, data, encoding=None, errors=None, newline=None):
        if not isinstance(data, str):
            raise TypeError("data must be str, not %s" % type(data).__name__)
        with self.open("w", encoding=encoding, errors=errors, newline=newline) as f:
            return f.write(data)

    def read_bytes(self):
        with self.open("rb") as f:
            return f.read()

    def write_bytes(self, data):
        with self.open("wb") as f:
            return f.write(memoryview(data))

    def resolve(self, strict=False):
        return self._new(os.path.realpath(self._local()))

    def absolute(self):
        return self._new(os.path.abspath(self._local()))

    def samefile(self, other):
        other = other if isinstance(other, ObjectStoragePath) else ObjectStoragePath(other)
        return os.path.samefile(self._local(), other._local())

    def rename(self, target):
        target = target if isinstance(target, ObjectStoragePath) else ObjectStoragePath(target)
        os.rename(self._local(), target._local())
        return target

    def replace(self, target):
        target = target if isinstance(target, ObjectStoragePath) else ObjectStoragePath(target)
        os.replace(self._local(), target._local())
        return target

    def copy(self, dst, recursive=False, **kwargs):
        """Copy to ``dst`` (a directory receives the file under its name; ``recursive``
        copies a directory tree)."""
        dst = dst if isinstance(dst, ObjectStoragePath) else ObjectStoragePath(dst)
        src, target = self._local(), dst._local()
        if os.path.isdir(src):
            if not recursive:
                raise ValueError("%s is a directory: copy it with recursive=True" % self)
            if os.path.isdir(target):
                target = posixpath.join(target, self.name)
            shutil.copytree(src, target, dirs_exist_ok=True)
            return
        if os.path.isdir(target):
            target = posixpath.join(target, self.name)
        shutil.copy2(src, target)

    def move(self, path, recursive=False, **kwargs):
        """Move to ``path`` (copy, then remove the source)."""
        path = path if isinstance(path, ObjectStoragePath) else ObjectStoragePath(path)
        src, target = self._local(), path._local()
        if os.path.isdir(src) and not recursive:
            raise ValueError("%s is a directory: move it with recursive=True" % self)
        if os.path.isdir(target):
            target = posixpath.join(target, self.name)
        shutil.move(src, target)

    def checksum(self):
        import hashlib

        return int(hashlib.md5(self.read_bytes()).hexdigest(), 16)  # noqa: S324 - fsspec's

    def read_block(self, offset, length, delimiter=None):
        with self.open("rb") as f:
            f.seek(offset)
            return f.read(length)

    def sign(self, expiration=100, **kwargs):
        raise NotImplementedError("local paths cannot be signed")

    def serialize(self):
        return {"path": str(self), "conn_id": self._conn_id, "kwargs": dict(self.storage_options)}

    @classmethod
    def deserialize(cls, data, version=0):
        return cls(data["path"], conn_id=data.get("conn_id"), **data.get("kwargs", {}))

    @classmethod
    def cwd(cls):
        return cls(os.getcwd())

    @classmethod
    def home(cls):
        return cls(os.path.expanduser("~"))


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m
