"""Virtualenvs for ``PythonVirtualenvOperator`` / ``@task.virtualenv``, built once per
requirement set and kept under the Lite home (``venv_cache`` of the TI, ``home/venvs``).

A venv's key is the hash of what makes it: the base interpreter, its version, the sorted
requirements, ``system_site_packages``, pip's options and index URLs. Building takes a file
lock (two tasks wanting the same venv build it once) and writes ``.leoflow-ready`` last: a venv
without it (a build that was killed) is removed and built again. Progress goes to the task log.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

READY = ".leoflow-ready"
#: Where venvs are kept (the TI's ``venv_cache``, set by the runner).
CACHE_DIR = None


def _requirements(requirements):
    if requirements is None:
        return []
    if isinstance(requirements, str):
        requirements = [requirements]
    out = []
    for r in requirements:
        r = str(r).strip()
        if r and not r.startswith("#"):
            out.append(r)
    return sorted(set(out))


def base_python(python_version=None):
    """The interpreter a venv is made from: ``python<version>`` when the task names a version,
    else the one running the task."""
    if not python_version:
        return sys.executable
    name = "python%s" % python_version
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            "python_version=%r: no %s on PATH; install that Python or drop python_version to "
            "use %s (Python %d.%d)" % (python_version, name, sys.executable,
                                        sys.version_info[0], sys.version_info[1]))
    return found


def key(python, requirements, system_site_packages, pip_install_options, index_urls):
    spec = {
        "python": os.path.realpath(python),
        "version": subprocess.run([python, "-c", "import sys; print(sys.version)"],
                                  capture_output=True, text=True).stdout.strip()
        if python != sys.executable else sys.version,
        "requirements": _requirements(requirements),
        "system_site_packages": bool(system_site_packages),
        "pip_install_options": list(pip_install_options or []),
        "index_urls": list(index_urls or []),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16], spec


def ensure(cache_dir, requirements=None, python_version=None, system_site_packages=True,
           pip_install_options=None, index_urls=None, log=print):
    """The python of a venv with ``requirements`` (built when missing): its path."""
    python = base_python(python_version)
    digest, spec = key(python, requirements, system_site_packages, pip_install_options,
                       index_urls)
    os.makedirs(cache_dir, exist_ok=True)
    target = os.path.join(cache_dir, "venv-" + digest)
    venv_python = os.path.join(target, "bin", "python")
    if os.path.exists(os.path.join(target, READY)):
        log("Using the cached virtualenv %s (requirements: %s)"
            % (target, ", ".join(spec["requirements"]) or "none"))
        return venv_python
    import fcntl

    with open(target + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(target, READY)):
            log("Using the virtualenv %s another task just built" % target)
            return venv_python
        if os.path.exists(target):
            shutil.rmtree(target, ignore_errors=True)
        t0 = time.monotonic()
        log("Creating a virtualenv %s from %s (requirements: %s)"
            % (target, python, ", ".join(spec["requirements"]) or "none"))
        cmd = [python, "-m", "venv", target]
        if system_site_packages:
            cmd.insert(3, "--system-site-packages")
        _run(cmd, log, "creating the virtualenv")
        if spec["requirements"]:
            pip = [venv_python, "-m", "pip", "install", "--disable-pip-version-check",
                   "--no-input"]
            if index_urls:
                pip += ["--index-url", index_urls[0]]
                for extra in index_urls[1:]:
                    pip += ["--extra-index-url", extra]
            pip += list(pip_install_options or []) + spec["requirements"]
            try:
                _run(pip, log, "installing the requirements")
            except RuntimeError:
                shutil.rmtree(target, ignore_errors=True)
                raise
        with open(os.path.join(target, READY), "w") as fh:
            json.dump(spec, fh)
        log("Virtualenv ready in %.1f s" % (time.monotonic() - t0))
    return venv_python


def _run(cmd, log, what):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    tail = []
    for line in proc.stdout:
        line = line.rstrip("\n")
        tail = (tail + [line])[-20:]
        log(line)
    code = proc.wait()
    if code != 0:
        raise RuntimeError("%s failed (exit %d): %s\n%s"
                           % (what, code, " ".join(cmd), "\n".join(tail)))
