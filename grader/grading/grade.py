"""Grade: run the task tests against an implementation and turn outcomes into scores.

:func:`run_task_tests` runs pytest on the course's task tests with ``--impl`` set to
the implementation, and returns one :class:`TestOutcome` per test (from the plugin's
``--grade-report``). :func:`score_by_task` sums them per task. Several implementations
can be graded in one process (TensorFlow is imported once), each in a fresh pytest run.

:func:`grade_submission` grades one submission and records, in its ``grade.json``, what
decided the grade (:func:`fingerprint`: the submission, the reference, the tests, the points,
the task list and the course's own code) and every test's outcome, so that ``grade-all``
can tell a stale grade and rescore one after a points-only change without running any code.
:func:`check_reference` runs the public tests on a reference before it is graded against.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import practicum
from practicum.grader.grading.results import TaskScore, TestOutcome


def run_task_tests(
    impl: Path | str,
    *,
    reference: Path | str = "solutions",
    visibility: Sequence[str] = ("public", "hidden"),
    root: Path = practicum.REPO_ROOT,
    profile: str = "grading",
    tasks: Iterable[str] = (),
    quiet: bool = True,
    sandbox: str = "off",
    sandbox_timeout: float | None = None,
    extra_args: Sequence[str] = (),
    config_path: Path | str | None = None,
) -> list[TestOutcome]:
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
        config_path: the ``grading.toml`` that tests reading it use (the challenge's budgets
            and thresholds); default the course's.
    """
    import pytest

    folders = [
        str(root / "tests" / kind) for kind in visibility if (root / "tests" / kind).is_dir()
    ]
    tasks = wanted = list(tasks)
    if wanted:  # collect only those tasks' test files (by convention test_<task>.py)
        files = [
            root / "tests" / kind / f"test_{task}.py" for kind in visibility for task in wanted
        ]
        if all(
            any(path.is_file() for path in files if path.stem == f"test_{task}") for task in wanted
        ):
            folders = [str(path) for path in files if path.is_file()]
    impl = str(impl) if str(impl) in ("exercises", "solutions") else str(Path(impl).resolve())
    reference = (
        str(reference)
        if str(reference) in ("exercises", "solutions")
        else str(Path(reference).resolve())
    )
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        args = [
            *folders,
            "--impl",
            impl,
            "--reference",
            reference,
            "--grade-report",
            str(report),
            "--hypothesis-profile",
            profile,
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(root),
            "-c",
            str(root / "pyproject.toml"),
        ]
        if config_path is not None:
            args += ["--grading-config", str(Path(config_path).resolve())]
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
    return [TestOutcome.from_row(row) for row in rows]


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
    return {
        task: TaskScore(task, passed, total) for task, (passed, total) in sorted(counts.items())
    }


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
    return sorted(
        {
            path.stem.removeprefix("test_")
            for kind in ("public", "hidden")
            for path in (root / "tests" / kind).glob("test_*.py")
        }
    )


def _named(name: Path | str, root: Path) -> Path:
    """``solutions``/``exercises`` -> the course's folders, anything else -> that path."""
    return root / str(name) if str(name) in ("exercises", "solutions") else Path(name).resolve()


_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}


def _file_digest(path: Path) -> bytes:
    sha = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(2**20), b""):
                sha.update(chunk)
    except OSError as error:  # unreadable: its digest is the reason
        return b"unreadable:" + str(error.errno).encode()
    return sha.digest()


def digest(*paths: Path, root: Path | None = None) -> str:
    """A short SHA-256 of the files under ``paths`` (names relative to ``root`` and
    contents; symbolic links and caches are left out, as the grader never reads them)."""
    sha = hashlib.sha256()
    for path in paths:
        base = root or path
        files = (
            [path]
            if path.is_file()
            else sorted(
                item
                for item in path.rglob("*")
                if item.is_file()
                and not item.is_symlink()
                and not _SKIPPED_PARTS & set(item.relative_to(path).parts)
                and item.suffix != ".pyc"
            )
            if path.is_dir()
            else []
        )
        if not files:
            sha.update(b"missing:" + os.fsencode(str(path.name)) + b"\0")
        for item in files:
            name = item.name if item == base else item.relative_to(base).as_posix()
            sha.update(os.fsencode(name) + b"\0")
            sha.update(_file_digest(item))
    return sha.hexdigest()[:16]


def fingerprint_common(
    *,
    reference: Path | str = "solutions",
    config_path: Path | str | None = None,
    tasks: Iterable[str] = (),
    root: Path = practicum.REPO_ROOT,
) -> dict[str, Any]:
    """What decides every student's grade alike (see :func:`fingerprint`)."""
    from practicum.grader.grading import scoring

    config = scoring.load_config(config_path if config_path is not None else root / "grading.toml")
    points = json.dumps(
        {
            "default_points": config.default_points,
            "tasks": config.tasks,
            "public_visibility": config.public_visibility,
            "hidden_visibility": config.hidden_visibility,
            "late": config.late.to_json() if config.late else None,
        },
        sort_keys=True,
    )
    tests = root / "tests"
    course = practicum.REPO_ROOT
    return {
        "reference": digest(_named(reference, root)),
        "tests": digest(
            *(
                tests / name
                for name in ("__init__.py", "conftest.py", "public", "hidden", "support")
            ),
            root=tests,
        ),
        "points": hashlib.sha256(points.encode()).hexdigest()[:16],
        "tasks": sorted(tasks) or task_names(root),
        "course": f"{practicum.__version__}+"
        + digest(course / "grader", course / "practicum", root=course),
    }


def fingerprint(submission: Path | str, submitted_at: str = "", **common: Any) -> dict[str, Any]:
    """What decided a grade: digests of the submission, the reference, the tests, the points
    configuration (late rule included) and the course's own code (with its version), the
    task list, and when it was handed in. Equal fingerprints give equal grades; if only
    ``points`` or ``submitted_at`` differ, the stored outcomes can be rescored
    (:func:`practicum.grader.grading.grade_all.rescore`)."""
    return {
        "submission": digest(Path(submission).resolve()),
        "submitted_at": submitted_at,
        **fingerprint_common(**common),
    }


def check_reference(
    reference: Path | str, *, tasks: Iterable[str] = (), root: Path = practicum.REPO_ROOT
) -> list[TestOutcome]:
    """Runs the public tests on ``reference`` (compared with itself) and returns the tests
    that do not pass: a reference to grade against must pass all of them."""
    outcomes = run_task_tests(
        _named(reference, root),
        reference=_named(reference, root),
        visibility=("public",),
        root=root,
        tasks=tasks,
    )
    if not outcomes:
        return [TestOutcome("", "no public test ran", "", "public", "failed", "")]
    return [outcome for outcome in outcomes if outcome.outcome not in ("passed", "skipped")]


def reference_problem(
    reference: Path | str,
    *,
    tasks: Iterable[str] = (),
    root: Path = practicum.REPO_ROOT,
    limit: int = 5,
) -> str:
    """``""`` if ``reference`` passes every public test, else a short message naming the
    tests it fails."""
    failing = check_reference(reference, tasks=tasks, root=root)
    if not failing:
        return ""
    names = [
        f"{outcome.task}: {outcome.name}" if outcome.task else outcome.name for outcome in failing
    ]
    shown = "; ".join(names[:limit]) + (
        f"; and {len(names) - limit} more" if len(names) > limit else ""
    )
    return (
        f"Received: --reference {reference}, which fails {len(failing)} public test(s) "
        f"({shown}); expected a reference that passes them all (--force grades against "
        "it anyway)"
    )


def grade_submission(
    submission: Path | str,
    out: Path | str | None = None,
    *,
    student: str | None = None,
    sandbox: str = "auto",
    sandbox_timeout: float | None = None,
    config_path: Path | str | None = None,
    reference: Path | str = "solutions",
    tasks: Iterable[str] = (),
    root: Path = practicum.REPO_ROOT,
    submitted_at: str = "",
):
    """Grades one submission (a folder of modules and/or notebooks) with the public and
    hidden tests, the candidate in a sandbox; writes the reports to ``out`` if given, and in
    ``grade.json`` the :func:`fingerprint` and every test's outcome. ``submitted_at`` (ISO
    8601) is when it was handed in, for ``grading.toml``'s ``[late]`` rule.

    Returns:
        the :class:`~practicum.grader.grading.results.StudentResult`.
    """
    import time

    from practicum.grader.export import reports
    from practicum.grader.grading import scoring, submissions

    started = time.monotonic()
    submission = Path(submission).resolve()
    config = scoring.load_config(config_path if config_path is not None else root / "grading.toml")
    selected = list(tasks)
    if submitted_at:
        from practicum.grader.grading.late import parse_time

        submitted_at = parse_time(submitted_at).isoformat()
    stamp = fingerprint(
        submission,
        submitted_at,
        reference=reference,
        config_path=config_path,
        tasks=selected,
        root=root,
    )
    with tempfile.TemporaryDirectory(prefix="practicum-submission-") as scratch:
        prepared = submissions.prepare_submission(submission, Path(scratch) / "modules")
        outcomes = run_task_tests(
            prepared.directory,
            reference=reference,
            root=root,
            tasks=selected,
            sandbox=sandbox,
            sandbox_timeout=sandbox_timeout,
            config_path=config_path,
        )
    mode = sandbox
    if sandbox == "auto":
        from practicum.grader.sandbox import resolve_mode

        mode = resolve_mode("auto")
    notes = list(prepared.notes)
    if not outcomes:
        notes.append("no test ran: the grader could not run the tests on this submission")
    scored_from = {
        "outcomes": [outcome.row() for outcome in outcomes],
        "expected_tasks": selected or task_names(root),
        "task_notes": dict(prepared.task_notes),
        "notes": notes,
        "submitted_at": submitted_at,
    }
    result = scoring.score_student(
        student or submission.name,
        scored_from["outcomes"],
        config,
        expected_tasks=scored_from["expected_tasks"],
        task_notes=prepared.task_notes,
        notes=notes,
        sandbox=mode,
        seconds=time.monotonic() - started,
        submitted_at=submitted_at,
    )
    if out is not None:
        reports.write_student_reports(
            result, config, Path(out), fingerprint=stamp, scored_from=scored_from
        )
    return result
