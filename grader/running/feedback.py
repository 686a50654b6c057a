"""What a student reads when a task test fails: the message, the inputs, where to look.

A failing test's exception carries the test's own message (the call, received, expected and
the likely mistake, from :mod:`tests.support.compare`) and, for a hypothesis test, notes with
the failing example. :func:`feedback_message` keeps those and drops what only the course's
developers need: the frames of the course's helpers, hypothesis's "Explanation" of which lines
ran, fixtures such as ``losses=<ModuleHandle object at 0x...>``, and "# or any other generated
value" comments.

Example:
    >>> error = AssertionError("gram_matrix(features) is wrong\\n  received 2, expected 1")
    >>> error.add_note("Falsifying example: test_gram(\\n    losses=<ModuleHandle object "
    ...                "at 0x7f>,\\n    features=array([[1.]], dtype=float32),\\n)")
    >>> print(feedback_message(error))
    gram_matrix(features) is wrong
      received 2, expected 1
    Failing example: features=array([[1.]], dtype=float32)
"""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

from practicum.grader.running.proxy import CandidateError, MissingImplementation

_EXCEPTION_GROUP = getattr(builtins, "BaseExceptionGroup", ())  # Python 3.11+
_EXAMPLE_HEADS = ("Falsifying example:", "Failing test case:", "Falsifying explicit example:")
_HIDDEN_ARGUMENT = re.compile(r"^\w+=(<.* object at 0x[0-9a-f]+>|data\(\.\.\.\))$")
MAX_EXAMPLE_CHARS = 240
# TensorFlow's start-up lines on stderr (absl, oneDNN, CUDA), whatever TF_CPP_MIN_LOG_LEVEL says.
_FRAMEWORK_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog|"
    r"[IWE]0000 00:00:\S+ +\d+ \S+\.cc:\d+\]|"
    r"To enable the following instructions: .* rebuild TensorFlow)"
)


def without_framework_noise(text: str) -> str:
    """``text`` without TensorFlow's log lines (start-up, CUDA, CPU features)."""
    return "\n".join(line for line in text.splitlines() if not _FRAMEWORK_NOISE.match(line))


def feedback_message(error: BaseException, *, limit: int = 4000) -> str:
    """The short text a student should read for a failing test (at most ``limit`` chars)."""
    if _EXCEPTION_GROUP and isinstance(error, _EXCEPTION_GROUP):
        return "\n".join(feedback_message(inner, limit=limit) for inner in error.exceptions[:3])
    text = str(error)
    if isinstance(error, AssertionError):
        text = text.split("\nassert ")[0]  # pytest's rewritten-assert explanation
    elif not _is_course_message(error):
        text = f"{type(error).__name__}: {text}"
    lines = [text.strip(), *example_lines(getattr(error, "__notes__", []))]
    return "\n".join(line for line in lines if line)[:limit]


def _is_course_message(error: BaseException) -> bool:
    """Messages the course writes for students (not a bare exception of the test itself)."""
    return isinstance(error, (CandidateError, MissingImplementation, pytest.skip.Exception))


def quiet_sections(sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A failure's captured-output sections without TensorFlow's start-up noise."""
    kept = []
    for title, content in sections:
        if "stderr" in title:
            content = without_framework_noise(content)
        if content.strip():
            kept.append((title, content))
    return kept


def example_lines(notes: list[str]) -> list[str]:
    """The failing example of hypothesis's notes, in at most two short lines."""
    arguments: list[str] = []
    draws: list[str] = []
    for note in notes:
        head = note.lstrip()
        if head.startswith(_EXAMPLE_HEADS):
            arguments += _arguments(note)
        elif head.startswith("Draw "):  # "Draw 1 (b): 0  # or any other generated value"
            match = re.match(r"Draw \d+(?: \((.+?)\))?: (.*)", head)
            if match:
                value = match.group(2).split("  #")[0].strip()
                draws.append(f"{match.group(1)}={value}" if match.group(1) else value)
    lines = []
    if arguments:
        lines.append("Failing example: " + _shorten(", ".join(arguments)))
    if draws:
        lines.append("  drawn: " + _shorten(", ".join(draws)))
    return lines


def _arguments(note: str) -> list[str]:
    """``name=value`` of each argument in a hypothesis example note, fixtures left out."""
    body = note.split("(", 1)[1] if "(" in note else ""
    body = body.rsplit(")", 1)[0]
    kept, current = [], ""
    for raw in body.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current = f"{current} {line}" if current else line
        if _balanced(current) and current.endswith(","):
            kept.append(current[:-1])
            current = ""
    if current:
        kept.append(current.rstrip(","))
    collapsed = [re.sub(r"\s+", " ", re.sub(r"([\[(])\s+", r"\1", argument)) for argument in kept]
    return [argument for argument in collapsed if not _HIDDEN_ARGUMENT.match(argument)]


def _balanced(text: str) -> bool:
    return text.count("(") == text.count(")") and text.count("[") == text.count("]")


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_EXAMPLE_CHARS else text[: MAX_EXAMPLE_CHARS - 3] + "..."


# --------------------------------------------------------------------------- the summary

SHOWN_FAILURES = 3


def task_summary(rows: list[dict], impl: Path) -> list[str]:
    """The end of a student's run: each task's count of passing tests, its first failures,
    and the next thing to do (the first function still to write, else the first failure).

    Args:
        rows: the outcome rows of the run (as ``--grade-report`` writes them).
        impl: the folder of the implementation under test, for file names and lines.
    """
    per_task: dict[str, list[dict]] = {}
    for row in rows:
        per_task.setdefault(row["task"], []).append(row)
    kinds = {row.get("visibility") for row in rows}
    kind = f"{kinds.pop()} " if len(kinds) == 1 and None not in kinds else ""
    lines, done = [], []
    for task, task_rows in sorted(per_task.items()):
        failed = [row for row in task_rows if row["outcome"] == "failed"]
        passed = sum(row["outcome"] == "passed" for row in task_rows)
        if not failed:
            done.append(task)
        lines.append(
            f"[{'todo' if failed else 'done'}] {task:<22} "
            f"{passed}/{len(task_rows)} {kind}tests pass"
        )
        for row in failed[:SHOWN_FAILURES]:
            lines.append(f"    FAILED {row['name']}: {headline(row)[:100]}")
        if len(failed) > SHOWN_FAILURES:
            lines.append(f"    ... and {len(failed) - SHOWN_FAILURES} more (-rf lists them)")
    lines.append(f"{len(done)} of {len(per_task)} task(s) pass every {kind}test")
    todo = next_todo(impl, [task for task in sorted(per_task) if task not in done])
    failing = [row for row in rows if row["outcome"] == "failed"]
    if todo:
        path, line, function = todo
        lines.append(f"Next TODO: {function}() in {path}:{line} (still raises NotImplementedError)")
    elif failing:
        first = failing[0]
        lines.append(f"Next: fix {first['task']}: {first['name']}: {headline(first)[:150]}")
    elif rows:
        lines.append("Everything passes. Well done!")
    return lines


def headline(row: dict) -> str:
    """The first line of a row's message, without the stub's NotImplementedError text."""
    return without_stub_text(row["message"].splitlines()[0] if row.get("message") else "")


def without_stub_text(message: str) -> str:
    """``"m.f is not implemented yet"``, without the stub's ``(NotImplementedError: ...)``
    and the traceback after it."""
    return message.split(" (NotImplementedError")[0]


def next_todo(impl: Path, tasks: list[str]) -> tuple[str, int, str] | None:
    """The first function, in the given tasks' modules, whose body raises
    NotImplementedError: ``(file, line, function)``."""
    for task in tasks:
        path = Path(impl) / f"{task}.py"
        try:
            tree = ast.parse(path.read_text())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Raise) and inner.exc is not None:
                    target = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
                    if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                        return _shown(path), inner.lineno, node.name
    return None


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it lies inside it."""
    return str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
