"""The check cells of the nbgrader notebooks: the course's tests on a notebook's functions.

A check cell calls ``check(globals(), "conv", "conv_output_shape")``: the public tests of
the task ``conv`` that belong to that part (see
:func:`practicum.grader.authoring.assignments.part_of`) run against the functions the notebook has
defined so far, in this kernel, exactly as ``grader grade`` runs them (same tests, derandomised
hypothesis profile). With ``hidden=True`` the hidden tests run; they need the instructor's copy of
the course (tests and solutions), as nbgrader's ``autograde`` has.

Each ``check`` prints how many tests pass and the messages of the failures; the cell's
last line, ``score("conv", "conv_output_shape", out_of=3.0769)``, evaluates to the points
the part earned, which nbgrader takes as the cell's partial credit: the part's points are
shared by its tests as :func:`practicum.grader.grading.scoring.score_task` shares a task's. Only
when nothing can earn points (no test ran, or every test fails because the functions are not
implemented yet) does ``check`` raise, with a message in place of a traceback (so the hidden part
of a cell does not show in the feedback through one), and nbgrader scores the cell 0.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import sys
import tempfile
from pathlib import Path

import practicum

_NAMESPACES: dict[str, dict] = {}
_OUTCOMES: dict[tuple[str, str], dict[str, list]] = {}  # (task, part) -> kind -> outcomes
_TOKENS = itertools.count()


class _Feedback:
    """Shown by IPython in place of a traceback (IPython calls ``_render_traceback_``)."""

    def _render_traceback_(self) -> list[str]:
        return [
            f"{type(self).__name__}: {line}" if number == 0 else line
            for number, line in enumerate(str(self).splitlines())
        ]


class ChecksFailed(_Feedback, AssertionError):
    """Some tests of this part fail."""


class NotImplementedYet(_Feedback, NotImplementedError):
    """The functions of this part still raise NotImplementedError."""


class ChecksUnavailable(_Feedback, RuntimeError):
    """The course's tests are not installed here."""


def _shim(directory: Path, task: str, token: str) -> None:
    (directory / f"{task}.py").write_text(
        f"import sys\nglobals().update(sys.modules[{__name__!r}]._NAMESPACES[{token!r}])\n",
        encoding="utf-8",
    )


@contextlib.contextmanager
def _quiet():
    """Nothing written to stdout or stderr while the tests run reaches the cell's output:
    nbgrader gives a test cell 0 points for *any* output on stderr (a warning, or a C++
    log line of TensorFlow's), which the same code in the sandbox would not lose."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with (
        tempfile.TemporaryFile() as sink,
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def run_part(
    namespace: dict, task: str, part: str, kind: str, root: Path = practicum.REPO_ROOT
) -> list:
    """The outcomes (:class:`practicum.grader.grading.results.TestOutcome`) of the part's ``kind``
    tests, run on the functions in ``namespace``."""
    from practicum.grader.authoring import assignments
    from practicum.grader.grading import grade

    if not (root / "tests" / kind / f"test_{task}.py").is_file():
        raise ChecksUnavailable(
            f"the {kind} tests of {task} are not installed here ({root / 'tests' / kind}); "
            "they run when the notebook is graded"
        )
    names = set(assignments.tests_of_part(task, part, kind, root))
    if not names:
        return []
    token = f"t{next(_TOKENS)}"
    _NAMESPACES[token] = {
        key: value for key, value in namespace.items() if not key.startswith("__")
    }
    try:
        with tempfile.TemporaryDirectory(prefix="practicum-notebook-") as scratch, _quiet():
            _shim(Path(scratch), task, token)
            outcomes = grade.run_task_tests(
                scratch,
                tasks=[task],
                visibility=(kind,),
                root=root,
                extra_args=["-k", " or ".join(sorted(names)), "--capture=sys"],
            )
    finally:
        _NAMESPACES.pop(token, None)
    return [outcome for outcome in outcomes if outcome.name.split("[", 1)[0] in names]


def check(namespace: dict, task: str, part: str, *, hidden: bool = False) -> None:
    """Runs the part's public (or hidden) tests on the notebook's functions, prints a
    summary and the failures' messages, and keeps the outcomes for :func:`score`.

    Raises (so that nbgrader scores the cell 0) only when nothing can earn points: no
    test ran, or none passed and every failure is a function not implemented yet."""
    kind = "hidden" if hidden else "public"
    outcomes = run_part(namespace, task, part, kind)
    _OUTCOMES.setdefault((task, part), {})[kind] = outcomes
    label = "grading checks" if hidden else "public checks"
    failed = [outcome for outcome in outcomes if outcome.outcome == "failed"]
    passed = sum(outcome.outcome == "passed" for outcome in outcomes)
    if not outcomes:
        raise ChecksFailed(f"{part}: no {label} ran (is the course installed?)")
    lines = [f"{part}: {passed} of {len(outcomes)} {label} pass"]
    for outcome in failed[:3]:
        message = outcome.message.strip() or "failed"
        where = "" if hidden else f"{outcome.name}: "
        lines.append(f"- {where}{message[:600]}")
    if len(failed) > 3:
        lines.append(f"- ... and {len(failed) - 3} more")
    if (
        failed
        and not passed
        and all("not implemented yet" in outcome.message for outcome in failed)
    ):
        raise NotImplementedYet("\n".join(lines))
    print("\n".join(lines))


def score(task: str, part: str, *, out_of: float) -> float:
    """The points this part earns, of ``out_of``: the tests that :func:`check` ran in this
    cell (public and, at grading, hidden) scored by
    :func:`practicum.grader.grading.scoring.score_task` as a task worth ``out_of`` with
    ``grading.toml``'s per-test points, a test's points counting when its functions pass a value
    test in this cell or an earlier one of the task. The cell's last line, so that nbgrader takes
    it as the cell's partial credit."""
    from practicum.grader.grading import scoring

    rows = [
        outcome for outcomes in _OUTCOMES.get((task, part), {}).values() for outcome in outcomes
    ]
    if not rows:
        return 0.0
    config = scoring.load_config(practicum.REPO_ROOT / "grading.toml")
    table = {"points": out_of, "tests": dict(config.tasks.get(task, {}).get("tests", {}))}
    part_config = scoring.GradingConfig(default_points=out_of, tasks={task: table})
    # the value tests of the whole task that ran in this kernel so far (earlier cells too)
    checked = scoring.value_checked(
        outcome
        for (owner, _), kinds in _OUTCOMES.items()
        if owner == task
        for outcomes in kinds.values()
        for outcome in outcomes
    )
    earned = scoring.score_task(task, rows, part_config, checked=checked).score
    return round(max(0.0, min(float(earned), float(out_of))), 4)
