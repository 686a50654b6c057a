"""Which sandbox works on this machine: bubblewrap, the process sandbox, or none.

``grader ... --sandbox auto`` takes the strongest that works (:func:`resolve_mode`); each
probe says why a mode does not work, for the notice the instructor reads.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from practicum.grader.sandbox.bwrap import bwrap_command, python_paths

MODES = ("bwrap", "process", "off")


# --------------------------------------------------------------------------- availability


@functools.cache
def bwrap_problem() -> str | None:
    """``None`` when bubblewrap can start a sandboxed Python here, else the reason why not."""
    binary = shutil.which("bwrap")
    if binary is None:
        return "bubblewrap (bwrap) is not installed"
    with tempfile.TemporaryDirectory(prefix="practicum-bwrap-probe-") as scratch:
        os.chmod(scratch, 0o755)
        Path(scratch, "worker.py").write_text("")
        Path(scratch, "wire.py").write_text("")
        command = bwrap_command(Path(scratch)) + [sys.executable, "-I", "-c", "pass"]
        try:
            completed = subprocess.run(command, capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bubblewrap does not start: {error}"
    if completed.returncode != 0:
        reason = completed.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap does not work here: {reason[-1] if reason else completed.returncode}"
    return None


UNSHARE = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]


@functools.cache
def namespace_problem() -> str | None:
    """``None`` when ``unshare`` can start a Python in a new mount and PID namespace here
    (process mode as root), else the reason why not."""
    if os.getuid() != 0:
        return "the grader is not root (process mode makes namespaces only as root)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = "import os; assert os.getpid() == 1 and os.listdir('/proc').count('1') == 1"
    try:
        completed = subprocess.run(
            [*UNSHARE, "--", sys.executable, "-I", "-c", probe],
            capture_output=True,
            timeout=60,
            env={},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unshare does not start: {error}"
    if completed.returncode != 0:
        reason = completed.stderr.decode(errors="replace").strip().splitlines()
        return f"unshare does not work here: {reason[-1] if reason else completed.returncode}"
    return None


def _hidden_folders(paths: list[str]) -> list[list] | None:
    """``[[folder, [path, ...]], ...]``: the topmost folders that other users cannot enter
    (e.g. ``/root``) above the interpreter's ``paths``; ``None`` when a path itself is
    private (then no mount can help), ``[]`` when every path is readable by all."""
    hidden: dict[str, list[str]] = {}
    for path in paths:
        current = Path(path)
        try:
            if current.stat().st_mode & 0o005 != 0o005:
                return None
            closed = [
                directory
                for directory in reversed(current.parents)
                if not directory.stat().st_mode & 0o001
            ]
        except OSError:
            return None
        if closed:
            if closed[0] == Path("/"):
                return None
            hidden.setdefault(str(closed[0]), []).append(path)
    return [[folder, inside] for folder, inside in sorted(hidden.items())]


@functools.cache
def process_isolation() -> dict:
    """How process mode isolates the worker on this machine.

    ``{"namespace": bool, "expose": [...], "drop": bool, "problem": str | None}``: a new
    mount and PID namespace (where ``unshare`` works, as root), the folders to open in it
    for the interpreter, whether the worker switches to an unprivileged uid, and, when
    process mode must refuse, why: it never runs a submission as root.
    """
    if os.getuid() != 0:
        return {"namespace": False, "expose": [], "drop": False, "problem": None}
    namespace = namespace_problem() is None
    hidden = _hidden_folders(python_paths())
    if hidden == []:
        return {"namespace": namespace, "expose": [], "drop": True, "problem": None}
    if hidden is not None and namespace:
        return {"namespace": True, "expose": hidden, "drop": True, "problem": None}
    why = namespace_problem() if hidden is not None else "a folder of it is private"
    return {
        "namespace": False,
        "expose": [],
        "drop": False,
        "problem": (
            f"process mode would run submissions as root: the Python installation "
            f"({', '.join(python_paths())}) cannot be read by an unprivileged user, and {why}. "
            "Install bubblewrap, or run the grader from a Python installation every user can "
            "read (e.g. a virtualenv made from /usr/bin/python3)."
        ),
    }


def process_problem() -> str | None:
    """``None`` when process mode can run here without root, else why it refuses."""
    return process_isolation()["problem"]


def available_modes() -> list[str]:
    return (
        (["bwrap"] if bwrap_problem() is None else [])
        + (["process"] if process_problem() is None else [])
        + ["off"]
    )


def resolve_mode(mode: str) -> str:
    """``auto`` -> the strongest mode available (``bwrap``, else ``process``)."""
    if mode == "auto":
        mode = "bwrap" if bwrap_problem() is None else "process"
    if mode not in MODES:
        raise ValueError(
            f"Received: sandbox mode {mode!r}, expected one of auto, {', '.join(MODES)}"
        )
    if mode == "bwrap" and bwrap_problem() is not None:
        raise RuntimeError(f"--sandbox bwrap: {bwrap_problem()}")
    if mode == "process" and process_problem() is not None:
        raise RuntimeError(f"--sandbox process: {process_problem()}")
    return mode


_NOTICES: set[str] = set()


def notice(text: str) -> None:
    """Prints a one-line notice once per process (on stderr)."""
    if text not in _NOTICES:
        _NOTICES.add(text)
        print(f"grader: {text}", file=sys.stderr, flush=True)
