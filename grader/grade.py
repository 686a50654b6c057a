"""Grade: run the task tests against an implementation and turn outcomes into scores.

:func:`run_task_tests` runs pytest on the course's task tests with ``--impl`` set to
the implementation, and returns one :class:`TestOutcome` per test (from the plugin's
``--grade-report``). :func:`score_by_task` sums them per task. Several implementations
can be graded in one process (TensorFlow is imported once), each in a fresh pytest run.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import practicum


@dataclass(frozen=True)
class TestOutcome:
    """One task test's verdict, as plain data."""

    __test__ = False  # not a pytest test class

    nodeid: str
    name: str
    task: str
    visibility: str
    outcome: str
    message: str

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


@dataclass(frozen=True)
class TaskScore:
    task: str
    passed: int
    total: int

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


def run_task_tests(impl: Path | str, *, reference: Path | str = "solutions",
                   visibility: Sequence[str] = ("public", "hidden"),
                   root: Path = practicum.REPO_ROOT, profile: str = "grading",
                   tasks: Iterable[str] = (), quiet: bool = True, sandbox: str = "off",
                   sandbox_timeout: float | None = None,
                   extra_args: Sequence[str] = ()) -> list[TestOutcome]:
    """Runs the task tests on ``impl`` in this process and returns their outcomes.

    Args:
        impl: ``"exercises"``, ``"solutions"`` or a directory of modules.
        reference: the reference solution set (``"solutions"`` or a directory).
        visibility: which test folders to run (``tests/public``, ``tests/hidden``).
        root: the course root (holding ``tests/``).
        profile: the hypothesis profile; ``grading`` is derandomised.
        tasks: only these tasks (modules); all when empty.
        quiet: suppress pytest's own output.
        sandbox: where the implementation runs (``off``: in this process; ``process``,
            ``bwrap`` or ``auto``: in a sandboxed worker, see :mod:`.sandbox`).
        sandbox_timeout: the wall-time limit of one sandboxed call, in seconds.
        extra_args: more pytest arguments (``-k`` to select tests, ...).
    """
    import pytest

    folders = [str(root / "tests" / kind) for kind in visibility
               if (root / "tests" / kind).is_dir()]
    tasks = wanted = list(tasks)
    if wanted:  # collect only those tasks' test files (by convention test_<task>.py)
        files = [root / "tests" / kind / f"test_{task}.py" for kind in visibility
                 for task in wanted]
        if all(any(path.is_file() for path in files if path.stem == f"test_{task}")
               for task in wanted):
            folders = [str(path) for path in files if path.is_file()]
    impl = str(impl) if str(impl) in ("exercises", "solutions") else str(Path(impl).resolve())
    reference = (str(reference) if str(reference) in ("exercises", "solutions")
                 else str(Path(reference).resolve()))
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        args = [*folders, "--impl", impl, "--reference", reference,
                "--grade-report", str(report), "--hypothesis-profile", profile,
                "-p", "no:cacheprovider", "--rootdir", str(root), "-c",
                str(root / "pyproject.toml")]
        if sandbox != "off":
            args += ["--sandbox", sandbox]
            if sandbox_timeout is not None:
                args += ["--sandbox-timeout", str(sandbox_timeout)]
        selected = list(tasks)
        for task in selected:
            args += ["--task", task]
        if quiet:
            args += ["-p", "no:terminal"]
        args += list(extra_args)
        _forget_test_modules()
        cwd = os.getcwd()
        try:
            os.chdir(root)
            pytest.main(args)
        finally:
            os.chdir(cwd)
        if not report.exists():
            return []
        rows = json.loads(report.read_text())
    return [TestOutcome(**row) for row in rows]


def _forget_test_modules() -> None:
    """Lets a second pytest run in this process import the test modules afresh."""
    for name in list(sys.modules):
        if name == "tests" or name.startswith(("tests.", "_practicum_impl_")):
            del sys.modules[name]


def score_by_task(outcomes: Iterable[TestOutcome]) -> dict[str, TaskScore]:
    """Tests passed and run, per task."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for outcome in outcomes:
        counts[outcome.task][0] += outcome.passed
        counts[outcome.task][1] += 1
    return {task: TaskScore(task, passed, total)
            for task, (passed, total) in sorted(counts.items())}


def format_score_table(scores: dict[str, dict[str, TaskScore]]) -> str:
    """A plain-text table: one row per task, one column per graded implementation."""
    labels = list(scores)
    tasks = sorted({task for per_task in scores.values() for task in per_task})
    width = max([len("task"), *map(len, tasks)]) + 2
    columns = [max(len(label), 12) + 2 for label in labels]
    lines = ["task".ljust(width) + "".join(label.rjust(w) for label, w in zip(labels, columns))]
    lines.append("-" * len(lines[0]))
    for task in tasks:
        cells = []
        for label, w in zip(labels, columns):
            score = scores[label].get(task)
            cells.append((f"{score.passed}/{score.total}" if score else "-").rjust(w))
        lines.append(task.ljust(width) + "".join(cells))
    return "\n".join(lines)


# --------------------------------------------------------------------------- one submission


def task_names(root: Path = practicum.REPO_ROOT) -> list[str]:
    """The tasks that have tests (``tests/{public,hidden}/test_<task>.py``)."""
    return sorted({path.stem.removeprefix("test_") for kind in ("public", "hidden")
                   for path in (root / "tests" / kind).glob("test_*.py")})


def grade_submission(submission: Path | str, out: Path | str | None = None, *,
                     student: str | None = None, sandbox: str = "auto",
                     sandbox_timeout: float | None = None, config_path: Path | str | None = None,
                     reference: Path | str = "solutions", tasks: Iterable[str] = (),
                     root: Path = practicum.REPO_ROOT):
    """Grades one submission (a folder of modules and/or notebooks) with the public and
    hidden tests, the candidate in a sandbox; writes the reports to ``out`` if given.

    Returns:
        the :class:`~practicum.grader.scoring.StudentResult`.
    """
    import time

    from practicum.grader import notebooks, reports, scoring

    started = time.monotonic()
    submission = Path(submission).resolve()
    config = scoring.load_config(config_path if config_path is not None
                                 else root / "grading.toml")
    selected = list(tasks)
    with tempfile.TemporaryDirectory(prefix="practicum-submission-") as scratch:
        prepared = notebooks.prepare_submission(submission, Path(scratch) / "modules")
        outcomes = run_task_tests(prepared.directory, reference=reference, root=root,
                                  tasks=selected, sandbox=sandbox,
                                  sandbox_timeout=sandbox_timeout)
    mode = sandbox
    if sandbox == "auto":
        from practicum.grader.sandbox import resolve_mode

        mode = resolve_mode("auto")
    notes = list(prepared.notes)
    if not outcomes:
        notes.append("no test ran: the grader could not run the tests on this submission")
    result = scoring.score_student(
        student or submission.name, outcomes, config,
        expected_tasks=selected or task_names(root), task_notes=prepared.task_notes,
        notes=notes, sandbox=mode, seconds=time.monotonic() - started)
    if out is not None:
        reports.write_student_reports(result, config, Path(out))
    return result
