"""The check cells of the nbgrader notebooks: the course's tests on a notebook's functions.

A check cell calls ``check(globals(), "conv", "conv_output_shape")``: the public tests of
the task ``conv`` that belong to that part (see :func:`.nbgrader_course.part_of`) run
against the functions the notebook has defined so far, in this kernel, exactly as
``grader grade`` runs them (same tests, derandomised hypothesis profile). With
``hidden=True`` the hidden tests run; they need the instructor's copy of the course
(tests and solutions), as nbgrader's ``autograde`` has.

A failure raises an exception that nbgrader counts as a failed test cell; its traceback
shows only the feedback (the message of each failed test), never the cell's code, so the
hidden part of a cell does not show in the feedback through a traceback.
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
_TOKENS = itertools.count()


class _Feedback:
    """Shown by IPython in place of a traceback (IPython calls ``_render_traceback_``)."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {line}" if number == 0 else line
                for number, line in enumerate(str(self).splitlines())]


class ChecksFailed(_Feedback, AssertionError):
    """Some tests of this part fail."""


class NotImplementedYet(_Feedback, NotImplementedError):
    """The functions of this part still raise NotImplementedError."""


class ChecksUnavailable(_Feedback, RuntimeError):
    """The course's tests are not installed here."""


def _shim(directory: Path, task: str, token: str) -> None:
    (directory / f"{task}.py").write_text(
        "import sys\n"
        f"globals().update(sys.modules[{__name__!r}]._NAMESPACES[{token!r}])\n",
        encoding="utf-8")


@contextlib.contextmanager
def _quiet():
    """Nothing written to stdout or stderr while the tests run reaches the cell's output:
    nbgrader gives a test cell 0 points for *any* output on stderr (a warning, or a C++
    log line of TensorFlow's), which the same code in the sandbox would not lose."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def run_part(namespace: dict, task: str, part: str, kind: str,
             root: Path = practicum.REPO_ROOT) -> list:
    """The outcomes (:class:`.grade.TestOutcome`) of the part's ``kind`` tests, run on the
    functions in ``namespace``."""
    from practicum.grader import grade, nbgrader_course

    if not (root / "tests" / kind / f"test_{task}.py").is_file():
        raise ChecksUnavailable(
            f"the {kind} tests of {task} are not installed here ({root / 'tests' / kind}); "
            "they run when the notebook is graded")
    names = set(nbgrader_course.tests_of_part(task, part, kind, root))
    if not names:
        return []
    token = f"t{next(_TOKENS)}"
    _NAMESPACES[token] = {key: value for key, value in namespace.items()
                          if not key.startswith("__")}
    try:
        with tempfile.TemporaryDirectory(prefix="practicum-notebook-") as scratch, _quiet():
            _shim(Path(scratch), task, token)
            outcomes = grade.run_task_tests(
                scratch, tasks=[task], visibility=(kind,), root=root,
                extra_args=["-k", " or ".join(sorted(names)), "--capture=sys"])
    finally:
        _NAMESPACES.pop(token, None)
    return [outcome for outcome in outcomes if outcome.name.split("[", 1)[0] in names]


def check(namespace: dict, task: str, part: str, *, hidden: bool = False) -> None:
    """Runs the part's public (or hidden) tests on the notebook's functions; prints a
    summary, and raises when a test fails."""
    kind = "hidden" if hidden else "public"
    outcomes = run_part(namespace, task, part, kind)
    label = "grading checks" if hidden else "public checks"
    failed = [outcome for outcome in outcomes if outcome.outcome == "failed"]
    passed = len(outcomes) - len(failed)
    if not outcomes:
        raise ChecksFailed(f"{part}: no {label} ran (is the course installed?)")
    if not failed:
        print(f"{part}: {passed} of {len(outcomes)} {label} pass")
        return
    lines = [f"{part}: {passed} of {len(outcomes)} {label} pass"]
    for outcome in failed[:3]:
        message = outcome.message.strip() or "failed"
        where = "" if hidden else f"{outcome.name}: "
        lines.append(f"- {where}{message[:600]}")
    if len(failed) > 3:
        lines.append(f"- ... and {len(failed) - 3} more")
    if all("not implemented yet" in outcome.message for outcome in failed):
        raise NotImplementedYet("\n".join(lines))
    raise ChecksFailed("\n".join(lines))
