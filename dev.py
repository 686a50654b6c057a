#!/usr/bin/env python3
"""The few commands people actually type, with nothing but Python 3.10+ installed.

    python3 dev.py demo     set up, build the release, grade solutions and stubs
    python3 dev.py test     set up (bubblewrap too, as root with apt), then the linter, the
                            formatter's check and the test suite
    python3 dev.py setup    only create .venv and install the course into it
    python3 dev.py tox      the suite on TensorFlow 2.15, 2.16 and the newest (tox.ini)

Set-up creates ``.venv`` next to this file and installs the course with its test tools
(``pip install -e ".[dev]"``); it runs again only when ``pyproject.toml`` changes.
Extra arguments after ``test`` go to pytest (``python3 dev.py test -k gram``), after ``tox``
to tox (``python3 dev.py tox -e tf215``: one environment). The whole suite runs on two cores
(pytest-xdist, one test file per worker); ``-p no:xdist`` runs it in one process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed-from"


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    completed = subprocess.run([str(part) for part in command], cwd=ROOT, env=env)
    if completed.returncode:
        sys.exit(completed.returncode)


def setup() -> None:
    """Creates the virtual environment and installs the course, once per pyproject."""
    if sys.version_info < (3, 10):  # noqa: UP036 - dev.py runs before any set-up
        sys.exit(f"Python 3.10 or newer is needed; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == digest:
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PYTHON, "-m", "pip", "install", "--upgrade", "--quiet", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(digest)


def offline_env() -> dict[str, str]:
    """Tests and the demo never reach the network: datasets fall back to the samples."""
    return {**os.environ, "PRACTICUM_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def demo(_: list[str]) -> None:
    run(BIN / "grader", "demo", env=offline_env())


def parallel(extra: list[str]) -> list[str]:
    """pytest-xdist's options for the whole suite: one worker per core (at most 2), each
    test file in one worker (its module fixtures grade their submissions once); none when
    the arguments choose the workers themselves or a few tests (``-k``, a path)."""
    chosen = "no:xdist" in extra or any(
        arg.startswith(("-n", "--numprocesses", "-k", "tests")) for arg in extra
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [] if chosen or (cores or 1) < 2 else ["-n", "2", "--dist", "loadfile"]


APT_STEPS = (["install", "-y", "bubblewrap"], ["update"], ["install", "-y", "bubblewrap"])
NO_BWRAP = """
!! bubblewrap (bwrap) is not installed, and could not be installed here:
!! the bwrap sandbox tests will SKIP (the process-mode sandbox is still tested).
!! Install it with: sudo apt-get install -y bubblewrap
"""


def ensure_bubblewrap() -> None:
    """The sandbox's tests need bubblewrap (``bwrap``): installed from Debian's packages
    when this runs as root with apt, else the tests that need it skip and this says so."""
    if shutil.which("bwrap") or sys.platform != "linux":
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("+ apt-get install -y bubblewrap (for the sandbox tests)", flush=True)
        for step in APT_STEPS:
            subprocess.run(["apt-get", "-qq", *step], capture_output=True)
            if shutil.which("bwrap"):
                return
    print(NO_BWRAP, flush=True)


def test(extra: list[str]) -> None:
    ensure_bubblewrap()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    command = [PYTHON, "-m", "pytest", "--impl", "solutions", *parallel(extra), *extra]
    run(*command, env=offline_env())


def tox(extra: list[str]) -> None:
    run(BIN / "tox", *extra)


COMMANDS = {"demo": demo, "test": test, "tox": tox, "setup": lambda _: None}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    setup()
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
