"""The bubblewrap command line: what the worker sees of the file system.

Read-only: the system's libraries (:data:`SYSTEM_DIRS`), a few files of ``/etc``, Python
and its site-packages; the worker and its codec under :data:`SANDBOX_ROOT`. Nothing else
of the host (no home, no course, no tests) exists inside.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
from pathlib import Path

SANDBOX_ROOT = "/sandbox"


# --------------------------------------------------------------------------- paths


def python_paths() -> list[str]:
    """What the worker's Python needs to see: the installation, the environment, and its
    site-packages (read-only)."""
    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            paths.add(value)
    for value in [
        *site.getsitepackages(),
        os.path.dirname(os.path.realpath(sys.executable)),
        os.path.dirname(os.path.abspath(sys.executable)),
    ]:
        paths.add(value)
    real = {os.path.realpath(path) for path in paths if os.path.exists(path)}
    real |= {path for path in paths if os.path.exists(path)}
    return outermost(real)


def outermost(paths: set[str]) -> list[str]:
    chosen: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path == kept or path.startswith(kept.rstrip("/") + "/") for kept in chosen):
            chosen.append(path)
    return sorted(chosen)


ETC_FILES = [
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/alternatives",
]
#: the system's programs and libraries (a symlink to /usr on merged-/usr systems)
SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: what the worker may read under Landlock (the bwrap command mounts the same)
SYSTEM_READ = ["/usr", *SYSTEM_DIRS, "/proc", "/sys", *ETC_FILES]


def bwrap_command(scratch: Path) -> list[str]:
    command = [
        "bwrap",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
    ]
    if os.getuid() != 0:
        command.append("--unshare-user")
    command += ["--ro-bind", "/usr", "/usr"]
    for name in SYSTEM_DIRS:
        if os.path.islink(name):
            command += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            command += ["--ro-bind", name, name]
    for name in ETC_FILES:
        if os.path.exists(name):
            command += ["--ro-bind", name, name]
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    made: set[str] = {"/", "/usr", "/tmp", "/proc", "/dev", "/etc"}
    for path in [*python_paths(), SANDBOX_ROOT]:
        parents = []
        parent = os.path.dirname(path)
        while parent not in made and parent != "/":
            parents.append(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(parents):
            command += ["--perms", "0755", "--dir", directory]
            made.add(directory)
        if path == SANDBOX_ROOT:
            continue
        if not path.startswith("/usr/"):
            command += ["--ro-bind", path, path]
        made.add(path)
    command += [
        "--perms",
        "0755",
        "--dir",
        SANDBOX_ROOT,
        "--ro-bind",
        str(scratch / "worker.py"),
        f"{SANDBOX_ROOT}/worker.py",
        "--ro-bind",
        str(scratch / "wire.py"),
        f"{SANDBOX_ROOT}/wire.py",
        "--chdir",
        "/",
    ]
    return command
