"""Helpers of the nbgrader course tests: a temporary course and exchange, nbgrader's own
commands, and students who fill in the released notebooks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import practicum

ROOT = practicum.REPO_ROOT
COURSE_ID = "dl-practicum"
BIN = Path(sys.executable).parent


def have_nbgrader() -> bool:
    return (BIN / "nbgrader").exists()


def env() -> dict[str, str]:
    # nbgrader's gradebook runs `alembic` from PATH: the virtual environment's bin first
    return {
        **os.environ,
        "PRACTICUM_OFFLINE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
    }


def nbgrader(*args: str, cwd: Path, exchange: Path, timeout: float = 1200) -> str:
    """Runs one of nbgrader's own commands; fails the test with its output if it fails."""
    command = [str(BIN / "nbgrader"), *args, f"--Exchange.root={exchange}"]
    done = subprocess.run(
        command, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout
    )
    output = done.stdout + done.stderr
    if done.returncode:
        errors = [
            line
            for line in output.splitlines()
            if "ERROR" in line or "Error" in line or "rror:" in line
        ][:40]
        raise AssertionError(
            f"nbgrader {args[0]} failed ({done.returncode}):\n"
            + "\n".join(errors)
            + "\n...\n"
            + output[-2000:]
        )
    return output


def make_course(target: Path) -> Path:
    """A course directory as an instructor starts it: the config and the sources."""
    target.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader" / "nbgrader_config.py", target / "nbgrader_config.py")
    shutil.copytree(ROOT / "nbgrader" / "source", target / "source")
    return target


def strip_markers(code: str) -> str:
    return "\n".join(
        line
        for line in code.splitlines()
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


def fill_in(
    released: Path,
    source: Path,
    *,
    changes: dict[str, tuple[str, str]] = (),
    answers: dict[str, str] = (),
) -> None:
    """Writes the reference answers into a released notebook, as a student would type them.

    Args:
        changes: ``grade_id -> (old, new)``: a text replacement in that answer (a mistake).
        answers: ``grade_id -> text`` for the written answers.
    """
    changes, answers = dict(changes), dict(answers)
    reference = {
        cell["metadata"].get("nbgrader", {}).get("grade_id"): cell
        for cell in json.loads(source.read_text())["cells"]
    }
    notebook = json.loads(released.read_text())
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        meta = reference.get(grade_id, {}).get("metadata", {}).get("practicum", {})
        if meta.get("role") == "answer":
            code = strip_markers("".join(reference[grade_id]["source"]))
            if grade_id in changes:
                old, new = changes[grade_id]
                assert old in code, f"{grade_id}: {old!r} not in the reference answer"
                code = code.replace(old, new)
            cell["source"] = code
        elif grade_id in answers:
            cell["source"] = answers[grade_id]
    released.write_text(json.dumps(notebook, indent=1))
