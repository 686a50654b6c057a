"""``grader grade-all``: a whole class, in parallel, resumable.

Every subfolder of the submissions folder is one student. Each student is graded by its own
``grader grade SUBMISSION --out OUT/<student>`` process (up to ``jobs`` at once), which
writes the student's reports and, last and atomically, ``OUT/<student>/grade.json``. A
student whose ``grade.json`` exists is skipped, so a run that was killed half way and is
started again grades only what is missing. The class CSV (``OUT/class.csv``) is rebuilt
from every ``grade.json`` at the end, sorted by student, so it is the same whether the run
was interrupted or not.
"""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from practicum.grader import reports, scoring

RESULT_FILE = "grade.json"


@dataclass
class ClassRun:
    graded: list[str]
    skipped: list[str]
    failed: dict[str, str]
    csv_path: Path
    seconds: float


def students(submissions: Path) -> list[Path]:
    return sorted(path for path in Path(submissions).iterdir()
                  if path.is_dir() and not path.name.startswith("."))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def grade_all(submissions: Path | str, out: Path | str, *, jobs: int = 2,
              sandbox: str = "auto", sandbox_timeout: float | None = None,
              config_path: Path | str | None = None, tasks: Sequence[str] = (),
              reference: str = "solutions", student_timeout: float = 3600,
              progress=print) -> ClassRun:
    """Grades every student folder of ``submissions`` that has no result in ``out`` yet."""
    started = time.monotonic()
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    everyone = students(submissions)
    todo = [path for path in everyone if not (out / path.name / RESULT_FILE).is_file()]
    skipped = [path.name for path in everyone if path not in todo]
    if skipped:
        progress(f"grade-all: {len(skipped)} student(s) already graded, {len(todo)} to go")
    failed: dict[str, str] = {}

    def grade_one(path: Path) -> None:
        command = [sys.executable, "-m", "practicum.grader.cli", "grade", str(path),
                   "--out", str(out / path.name), "--sandbox", sandbox,
                   "--reference", reference, "--student", path.name]
        if sandbox_timeout is not None:
            command += ["--timeout", str(sandbox_timeout)]
        if config_path is not None:
            command += ["--config", str(config_path)]
        for task in tasks:
            command += ["--task", task]
        begin = time.monotonic()
        try:
            completed = subprocess.run(command, capture_output=True, text=True,
                                       timeout=student_timeout, preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired:
            failed[path.name] = f"grading took more than {student_timeout:g} s"
            return
        if completed.returncode != 0 or not (out / path.name / RESULT_FILE).is_file():
            failed[path.name] = (completed.stderr or completed.stdout)[-2000:]
            progress(f"grade-all: {path.name}: FAILED to grade")
            return
        result = json.loads((out / path.name / RESULT_FILE).read_text())
        progress(f"grade-all: {path.name}: {result['score']:.2f} / {result['max_score']:.2f} "
                 f"({time.monotonic() - begin:.0f} s)")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(grade_one, todo))
    csv_path = write_class_csv(out)
    return ClassRun(graded=[p.name for p in todo if p.name not in failed], skipped=skipped,
                    failed=failed, csv_path=csv_path, seconds=time.monotonic() - started)


def write_class_csv(out: Path) -> Path:
    results = [scoring.StudentResult.from_json(json.loads(path.read_text()))
               for path in sorted(Path(out).glob(f"*/{RESULT_FILE}"))]
    csv_path = Path(out) / "class.csv"
    reports.atomic_write(csv_path, reports.class_csv(results))
    return csv_path
