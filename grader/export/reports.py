"""Reports: a student's grade as Markdown and HTML, a class CSV, Gradescope's results.json.

Every report shows, for each failed test, its feedback message (what the test says about
the answer), never a hidden test's source: lines of pytest's assertion introspection and
anything that names a test file are removed first (:func:`student_message`).

Every string that comes from a submission (file and folder names, exception messages, printed
output, notebook text, the notes about them) is escaped for where it is shown:

* everywhere: characters that hide or reorder text (control and format characters: ANSI
  escapes, bidi overrides such as U+202E, zero-width characters; separators other than a
  space; slash look-alikes such as U+2215) are shown as ``<U+202E>`` (:func:`visible`);
* Markdown: one-line strings (names, notes) keep to their line (a line break is shown as
  ``\\n``) and their Markdown is escaped, so they cannot make a heading, a bold line, a table
  row, an HTML tag or a link (:func:`md_inline`); messages go into a fenced block longer than
  any run of backticks in them (:func:`md_block`);
* HTML: ``html.escape``;
* CSV: a text cell that a spreadsheet would read as a formula (starting with ``= + - @``,
  a tab or a line break) is prefixed with ``'`` (OWASP's rule, :func:`csv_cell`);
* Gradescope's ``results.json``: plain text, with ``output_format`` ``text``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from practicum.grader.grading.results import StudentResult, TaskResult, TestScore
from practicum.grader.grading.scoring import GradingConfig

_SOURCE_LINE = re.compile(r"^\s*(assert |\+\s|where |E\s|>\s|def |@given|tests/|.*\.py:\d+)")


_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_SLASH_LOOKALIKES = frozenset("\u2044\u2215\u2216\u2571\u2572\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def _code_point(char: str) -> str:
    return f"<U+{ord(char):04X}>"


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with nothing hidden: control and format characters (ANSI escapes, bidi
    overrides, zero-width characters), separators other than a space and slash look-alikes
    become ``<U+XXXX>``. Line breaks become ``\\n`` (two characters), or one newline each if
    ``multiline``; a tab becomes ``\\t``, or stays if ``multiline``."""
    text = str(text)
    if multiline:
        text = text.replace("\r\n", "\n")
    out = []
    for char in text:
        if char in _LINE_BREAKS:
            out.append("\n" if multiline else "\\n")
        elif char == "\t":
            out.append("\t" if multiline else "\\t")
        elif char == " ":
            out.append(char)
        elif char in _SLASH_LOOKALIKES or unicodedata.category(char) in _HIDDEN_CATEGORIES:
            out.append(_code_point(char))
        else:
            out.append(char)
    return "".join(out)


_MD_ESCAPED = frozenset("\\`*[]|~$#")
_MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_MD_LEADING = re.compile(r"^(\d+)([.)])|^([-+=])")


def md_inline(text: str) -> str:
    """A one-line string from a submission, safe inside a Markdown line: its Markdown and
    HTML are shown as text, never as structure, and it cannot start a new line."""
    text = visible(text).strip()
    inside_words = {
        index
        for run in re.finditer(r"(?<=[^\W_])_+(?=[^\W_])", text)
        for index in range(*run.span())
    }  # never emphasis
    out = []
    for index, char in enumerate(text):
        if char in _MD_ENTITIES:
            out.append(_MD_ENTITIES[char])
        elif char in _MD_ESCAPED or (char == "_" and index not in inside_words):
            out.append("\\" + char)
        else:
            out.append(char)
    escaped = "".join(out)
    # what would make a list item or a heading underline at the start of a line
    return _MD_LEADING.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escaped, count=1)


def md_block(text: str, info: str = "text") -> list[str]:
    """A multi-line string from a submission as a fenced Markdown code block: the fence is
    longer than any run of backticks in the text, so no line of it can close the block."""
    text = visible(text, multiline=True)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.split("\n"), fence]


_FORMULA_START = tuple("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a text cell starting with ``= + - @``, a tab
    or a line break gets a leading ``'`` (OWASP's rule); numbers stay numbers."""
    text = value if isinstance(value, str) else str(value)
    if text.lstrip(" ").startswith(_FORMULA_START) and not _NUMBER.match(text):
        text = "'" + text
    return visible(text)


def plain(text: str, *, multiline: bool = False) -> str:
    """A string from a submission in plain text (Gradescope's ``output``, the terminal)."""
    return visible(text, multiline=multiline)


def student_message(test: TestScore, limit: int = 2000) -> str:
    """The feedback a student may read: the message without test source."""
    lines = []
    for line in test.message.splitlines():
        if _SOURCE_LINE.match(line) and 'File "' not in line:
            continue
        if "tests/hidden" in line or "tests/public" in line or "/solutions/" in line:
            continue
        lines.append(line.rstrip())
    text = "\n".join(lines).strip()
    if not text:
        text = "a check of this test failed (no further details)"
    return text[:limit] + ("\n[... cut]" if len(text) > limit else "")


def _fmt(points: float) -> str:
    return f"{points:.2f}".rstrip("0").rstrip(".") if points != int(points) else f"{points:g}"


def _failed(result: StudentResult) -> list[TestScore]:
    return [test for task in result.tasks for test in task.tests if not test.passed]


def _until(reason: str) -> str:
    return reason.removeprefix("counts once ")


def withheld_lines(task: TaskResult) -> list[str]:
    """One line per reason a task's passing tests score 0 (see
    :mod:`practicum.grader.grading.scoring`)."""
    reasons: dict[str, list[str]] = {}
    for test in task.tests:
        if test.passed and test.withheld:
            reasons.setdefault(test.withheld, []).append(test.name)
    return [
        f"{len(names)} passing test{'s' if len(names) > 1 else ''} score 0 until "
        f"{_until(reason)}: {', '.join(names)}"
        for reason, names in reasons.items()
    ]


def failures_by_function(task: TaskResult) -> list[tuple[str, list[TestScore]]]:
    """The task's failed tests grouped by the answer functions they exercised (``"a and b"``
    for a test of two; the task's name if unknown), in the order the tests ran."""
    groups: dict[str, list[TestScore]] = {}
    for test in task.tests:
        if not test.passed:
            names = list(test.functions)
            label = " and ".join(names) if names else task.task
            groups.setdefault(label, []).append(test)
    return list(groups.items())


def markdown(result: StudentResult) -> str:
    md = md_inline
    lines = [
        f"# Grade report: {md(result.student)}",
        "",
        f"**Total: {_fmt(result.score)} / {_fmt(result.max_score)}**",
        "",
    ]
    for note in result.notes:
        lines += [f"> {md(note)}", ""]
    lines += ["| task | score | tests passed |", "| --- | ---: | ---: |"]
    for task in result.tasks:
        lines.append(
            f"| {md(task.task)} | {_fmt(task.score)} / {_fmt(task.max_score)} | "
            f"{task.passed} / {len(task.tests)} |"
        )
    lines.append("")
    for task in result.tasks:
        failed = [test for test in task.tests if not test.passed]
        withheld = withheld_lines(task)
        if not failed and not task.note and not withheld:
            continue
        lines += [f"## {md(task.task)}", ""]
        if task.note:
            lines += [f"> {md(task.note)}", ""]
        for line in withheld:
            lines += [f"> {md(line)}", ""]
        for label, tests in failures_by_function(task):
            lost = sum(test.max_score for test in tests)
            lines += [f"### {md(label)}: {len(tests)} failed (-{_fmt(lost)})", ""]
            for test in tests:
                lines += [
                    f"#### {md(test.name)} ({_fmt(test.score)} / {_fmt(test.max_score)})",
                    "",
                    *md_block(student_message(test)),
                    "",
                ]
    if not _failed(result):
        lines.append("Every test passes.")
    return "\n".join(lines).rstrip() + "\n"


def _html(text: str, *, multiline: bool = False) -> str:
    return html.escape(visible(text, multiline=multiline))


def html_report(result: StudentResult) -> str:
    e = _html
    rows = "".join(
        f"<tr><td>{e(t.task)}</td><td>{_fmt(t.score)} / {_fmt(t.max_score)}</td>"
        f"<td>{t.passed} / {len(t.tests)}</td></tr>"
        for t in result.tasks
    )
    sections = []
    for task in result.tasks:
        failed = [test for test in task.tests if not test.passed]
        withheld = withheld_lines(task)
        if not failed and not task.note and not withheld:
            continue
        parts = [f"<h2>{e(task.task)}</h2>"]
        if task.note:
            parts.append(f"<p class='note'>{e(task.note)}</p>")
        parts += [f"<p class='note'>{e(line)}</p>" for line in withheld]
        for label, tests in failures_by_function(task):
            lost = sum(test.max_score for test in tests)
            parts.append(f"<h3>{e(label)}: {len(tests)} failed (-{_fmt(lost)})</h3>")
            parts += [
                f"<h4>{e(test.name)} ({_fmt(test.score)} / {_fmt(test.max_score)})</h4>"
                f"<pre>{e(student_message(test), multiline=True)}</pre>"
                for test in tests
            ]
        sections.append("".join(parts))
    notes = "".join(f"<p class='note'>{e(note)}</p>" for note in result.notes)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>Grade report: {e(result.student)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}"
        "pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}.note{color:#a33}</style>"
        f"</head><body><h1>Grade report: {e(result.student)}</h1>"
        f"<p><strong>Total: {_fmt(result.score)} / {_fmt(result.max_score)}</strong></p>"
        f"{notes}<table><tr><th>task</th><th>score</th><th>tests passed</th></tr>{rows}"
        f"</table>{''.join(sections) or '<p>Every test passes.</p>'}</body></html>\n"
    )


def class_csv(results: Iterable[StudentResult], roster: Mapping[str, Any] | None = None) -> str:
    """One row per student (sorted), one column per task, then total and maximum; with late
    work, when each was handed in and the points taken off; with a ``roster``
    (:func:`practicum.grader.grading.roster.read_roster`), each student's name and email,
    a 0 row for every student who handed nothing in, and a ``status`` column (``missing``,
    ``not on the roster``). Every text cell is neutralised for spreadsheets
    (:func:`csv_cell`)."""
    from practicum.grader.grading.roster import statuses

    results = sorted(results, key=lambda result: result.student)
    tasks = sorted({task.task for result in results for task in result.tasks})
    late = any(result.submitted_at for result in results)
    status = statuses(roster, [result.student for result in results])
    maxima = Counter(f"{result.max_score:.2f}" for result in results)
    usual_max = maxima.most_common(1)[0][0] if maxima else ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["student", *(["name", "email"] if roster is not None else []), *tasks]
    header += ["total", "max_score", *(["submitted_at", "late_penalty"] if late else [])]
    header += ["status"] if roster is not None else []
    writer.writerow([csv_cell(cell) for cell in header])
    by_student = {result.student: result for result in results}
    for name in sorted(status):
        person = roster.get(name) if roster is not None else None
        row = [csv_cell(name)]
        if roster is not None:
            row += [csv_cell(getattr(person, "name", "")), csv_cell(getattr(person, "email", ""))]
        result = by_student.get(name)
        if result is None:  # on the roster, nothing handed in
            row += ["0.00" for _ in tasks] + ["0.00", usual_max] + (["", ""] if late else [])
        else:
            by_task = {task.task: task for task in result.tasks}
            row += [f"{by_task[t].score:.2f}" if t in by_task else "" for t in tasks]
            row += [f"{result.score:.2f}", f"{result.max_score:.2f}"]
            if late:
                penalty = sum(task.penalty for task in result.tasks)
                row += [csv_cell(result.submitted_at), f"{penalty:.2f}"]
        writer.writerow(row + ([csv_cell(status[name])] if roster is not None else []))
    return out.getvalue()


def gradescope_results(result: StudentResult, config: GradingConfig) -> dict:
    """Gradescope's ``results.json``: ``score``, ``output``, ``visibility``,
    ``stdout_visibility`` and one entry per test (``name``, ``score``, ``max_score``,
    ``status`` "passed"/"failed", ``output``, ``visibility``, ``tags``, ``number``). Every
    text is plain (``output_format``, ``test_output_format``, ``test_name_format``,
    ``name_format``: ``text``), with nothing hidden in it (:func:`visible`)."""
    tests = []
    for task_index, task in enumerate(result.tasks, start=1):
        if not task.tests:
            tests.append(
                {
                    "name": f"{plain(task.task)}: no test ran",
                    "name_format": "text",
                    "number": f"{task_index}",
                    "score": 0.0,
                    "max_score": task.max_score,
                    "status": "failed",
                    "output": plain(task.note),
                    "output_format": "text",
                    "visibility": config.public_visibility,
                    "tags": [task.task],
                }
            )
        for test_index, test in enumerate(task.tests, start=1):
            visibility = (
                config.public_visibility
                if test.visibility == "public"
                else config.hidden_visibility
            )
            tests.append(
                {
                    "name": f"{plain(task.task)}: {plain(test.name)}",
                    "name_format": "text",
                    "number": f"{task_index}.{test_index}",
                    "score": test.score,
                    "max_score": test.max_score,
                    "status": "passed" if test.passed else "failed",
                    "output": (
                        plain(f"passed, scores 0 until {_until(test.withheld)}")
                        if test.passed and test.withheld
                        else plain(test.message, multiline=True)
                        if test.passed
                        else plain(student_message(test), multiline=True)
                    ),
                    "output_format": "text",
                    "visibility": visibility,
                    "tags": [task.task],
                }
            )
    summary = [
        f"{plain(task.task)}: {_fmt(task.score)} / {_fmt(task.max_score)}"
        + (f" ({plain(task.note)})" if task.penalty else "")
        for task in result.tasks
    ]
    penalty = round(sum(task.penalty for task in result.tasks), 4)
    return {
        # the tests' points minus any late penalty (Gradescope takes this over their sum)
        "score": result.score,
        **({"extra_data": {"late_penalty": penalty}} if penalty else {}),
        "output": "\n".join([*(plain(note) for note in result.notes), *summary]),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "execution_time": round(result.seconds),
        "tests": tests,
        **({"leaderboard": board} if (board := gradescope_leaderboard(result)) else {}),
    }


#: Gradescope's leaderboard columns: (the test's measured key, the column's name, order).
LEADERBOARD = (
    ("accuracy", "Accuracy (%)", "desc"),
    ("seconds", "Seconds", "asc"),
    ("parameters", "Parameters", "asc"),
)


def gradescope_leaderboard(result: StudentResult) -> list[dict]:
    """``results.json``'s ``leaderboard``: the first measured test's columns (the CIFAR-10
    challenge's accuracy, seconds and parameters), ``[]`` when no test measured any."""
    for task in result.tasks:
        for test in task.tests:
            if test.leaderboard:
                return [
                    {"name": name, "value": test.leaderboard[key], "order": order}
                    for key, name, order in LEADERBOARD
                    if key in test.leaderboard
                ]
    return []


def atomic_write(path: Path | str, text: str) -> None:
    """Writes ``text`` to ``path`` so that a reader sees the old file or the new one,
    never a part: a temporary file in the same folder, flushed, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_student_reports(
    result: StudentResult,
    config: GradingConfig,
    out: Path,
    *,
    fingerprint: dict | None = None,
    scored_from: dict | None = None,
) -> None:
    """``out/report.md``, ``out/report.html``, ``out/results.json`` (Gradescope's format)
    and ``out/grade.json`` (everything, for the class CSV, with the ``fingerprint`` of what
    decided the grade and the outcomes it was ``scored_from``), the last one written last."""
    out = Path(out)
    atomic_write(out / "report.md", markdown(result))
    atomic_write(out / "report.html", html_report(result))
    atomic_write(out / "results.json", json.dumps(gradescope_results(result, config), indent=1))
    record = result.to_json()
    if fingerprint is not None:
        record["fingerprint"] = fingerprint
    if scored_from is not None:
        record["scored_from"] = scored_from
    atomic_write(out / "grade.json", json.dumps(record, indent=1, sort_keys=True))
