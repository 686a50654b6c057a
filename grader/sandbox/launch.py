"""How a sandboxed process starts: its folder, its command line and its environment.

Shared by a worker started on its own (:class:`.backend.SandboxBackend`) and by the worker
template (:mod:`.template`), so that both are confined the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from practicum.grader.sandbox.bwrap import bwrap_command
from practicum.grader.sandbox.files import copy_submission
from practicum.grader.sandbox.modes import UNSHARE

WORKER_SOURCE = Path(__file__).with_name("worker.py")
WIRE_SOURCE = Path(__file__).with_name("wire.py")

Mount = tuple[str, str, str]  # (bubblewrap option, path here, path in the sandbox)


def scripts_folder(prefix: str, worker: Path = WORKER_SOURCE) -> Path:
    """A new folder, readable by any uid, holding the worker's ``worker.py`` and
    ``wire.py`` (the codec it shares with the grader)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(folder, 0o755)
    shutil.copyfile(worker, folder / "worker.py")
    shutil.copyfile(WIRE_SOURCE, folder / "wire.py")
    return folder


def submission_folders(folder: Path, submission: Path) -> None:
    """``folder/submission``, a copy of the submission's regular files, and an empty
    ``folder/work``, the only place the worker may write."""
    (folder / "submission").mkdir()
    copy_submission(submission, folder / "submission")
    (folder / "work").mkdir()


def command(
    mode: str,
    scripts: Path,
    isolation: dict,
    config: dict,
    *,
    root: str,
    mounts: list[Mount] = (),
    chdir: str = "",
) -> list[str]:
    """The command line of a worker (or template) with ``config``: in bubblewrap mode, the
    sandbox's file system (:func:`.bwrap.bwrap_command`, the scripts of ``scripts``) with
    ``mounts`` and ``chdir``; in process mode, the process's own namespaces when its
    ``isolation`` has them. ``root`` is where the scripts are as the process sees them."""
    if mode == "bwrap":
        prefix = bwrap_command(scripts)
        for option, here, inside in mounts:
            prefix += [option, here, inside]
        if chdir:
            prefix += ["--chdir", chdir]
    else:
        prefix = [*UNSHARE, "--"] if isolation.get("namespace") else []
    return [*prefix, sys.executable, "-I", "-B", f"{root}/worker.py", json.dumps(config)]


def environment(home: str, **more: str) -> dict[str, str]:
    """A sandboxed process's whole environment (nothing of the grader's), ``HOME`` at
    ``home``, with ``more`` on top."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        **more,
    }
