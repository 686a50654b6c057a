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
                   tasks: Iterable[str] = (), quiet: bool = True) -> list[TestOutcome]:
    """Runs the task tests on ``impl`` in this process and returns their outcomes.

    Args:
        impl: ``"exercises"``, ``"solutions"`` or a directory of modules.
        reference: the reference solution set (``"solutions"`` or a directory).
        visibility: which test folders to run (``tests/public``, ``tests/hidden``).
        root: the course root (holding ``tests/``).
        profile: the hypothesis profile; ``grading`` is derandomised.
        tasks: only these tasks (modules); all when empty.
        quiet: suppress pytest's own output.
    """
    import pytest

    folders = [str(root / "tests" / kind) for kind in visibility
               if (root / "tests" / kind).is_dir()]
    impl = str(impl) if str(impl) in ("exercises", "solutions") else str(Path(impl).resolve())
    reference = (str(reference) if str(reference) in ("exercises", "solutions")
                 else str(Path(reference).resolve()))
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        args = [*folders, "--impl", impl, "--reference", reference,
                "--grade-report", str(report), "--hypothesis-profile", profile,
                "-p", "no:cacheprovider", "--rootdir", str(root), "-c",
                str(root / "pyproject.toml")]
        selected = list(tasks)
        for task in selected:
            args += ["--task", task]
        if quiet:
            args += ["-p", "no:terminal"]
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
