"""Files for the worker: a copy of the submission, and the course's runtime library."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path


@functools.cache
def runtime_library() -> str:
    """A copy of the course's runtime helpers that submissions may import (``practicum``,
    ``practicum.datasets``, ...), without the grader: made once per process, read-only
    to the worker. Returns the folder to put on the worker's ``sys.path``."""
    import atexit

    import practicum

    library = Path(tempfile.mkdtemp(prefix="practicum-runtime-"))
    atexit.register(shutil.rmtree, library, True)
    package = Path(practicum.__file__).resolve().parent
    skip = shutil.ignore_patterns(
        "__pycache__", "*.pyc", "grader", "tests", "solutions", "exercises", ".git"
    )
    shutil.copytree(package, library / "practicum", ignore=skip)
    try:
        import practicum.datasets as datasets

        source = Path(datasets.__file__).resolve().parent
        if source != package / "datasets":
            shutil.copytree(
                source, library / "practicum" / "datasets", ignore=skip, dirs_exist_ok=True
            )
    except ImportError:
        pass
    for path in [library, *library.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return str(library)


def copy_submission(source: Path, target: Path, max_bytes: int = 50 * 2**20) -> None:
    """Copies the regular files of a submission (no symlinks, no special files)."""
    budget = max_bytes
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part in ("__pycache__", ".git") for part in relative.parts):
            continue
        if path.is_symlink():
            continue
        if path.is_dir():
            (target / relative).mkdir(parents=True, exist_ok=True)
            continue
        if not path.is_file():
            continue
        size = path.stat().st_size
        if size > budget:
            continue
        budget -= size
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)
        os.chmod(target / relative, 0o644)
    for path in [target, *target.rglob("*")]:
        if path.is_dir():
            os.chmod(path, 0o755)
