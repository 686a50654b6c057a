"""Reports: a student's grade as Markdown and HTML, a class CSV, Gradescope's results.json.

Every report shows, for each failed test, its feedback message (what the test says about
the answer), never a hidden test's source: lines of pytest's assertion introspection and
anything that names a test file are removed first (:func:`student_message`).
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from practicum.grader.scoring import GradingConfig, StudentResult, TestScore

_SOURCE_LINE = re.compile(r"^\s*(assert |\+\s|where |E\s|>\s|def |@given|tests/|.*\.py:\d+)")


def student_message(test: TestScore, limit: int = 2000) -> str:
    """The feedback a student may read: the message without test source."""
    lines = []
    for line in test.message.splitlines():
        if _SOURCE_LINE.match(line) and "File \"" not in line:
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


def markdown(result: StudentResult) -> str:
    lines = [f"# Grade report: {result.student}", "",
             f"**Total: {_fmt(result.score)} / {_fmt(result.max_score)}**", ""]
    for note in result.notes:
        lines.append(f"> {note}")
    if result.notes:
        lines.append("")
    lines += ["| task | score | tests passed |", "| --- | ---: | ---: |"]
    for task in result.tasks:
        lines.append(f"| {task.task} | {_fmt(task.score)} / {_fmt(task.max_score)} | "
                     f"{task.passed} / {len(task.tests)} |")
    lines.append("")
    for task in result.tasks:
        failed = [test for test in task.tests if not test.passed]
        if not failed and not task.note:
            continue
        lines += [f"## {task.task}", ""]
        if task.note:
            lines += [f"> {task.note}", ""]
        for test in failed:
            lines += [f"### {test.name} ({_fmt(test.score)} / {_fmt(test.max_score)})", "",
                      "```text", student_message(test).replace("```", "'''"), "```", ""]
    if not _failed(result):
        lines.append("Every test passes.")
    return "\n".join(lines).rstrip() + "\n"


def html_report(result: StudentResult) -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{e(t.task)}</td><td>{_fmt(t.score)} / {_fmt(t.max_score)}</td>"
                   f"<td>{t.passed} / {len(t.tests)}</td></tr>" for t in result.tasks)
    sections = []
    for task in result.tasks:
        failed = [test for test in task.tests if not test.passed]
        if not failed and not task.note:
            continue
        parts = [f"<h2>{e(task.task)}</h2>"]
        if task.note:
            parts.append(f"<p class='note'>{e(task.note)}</p>")
        for test in failed:
            parts.append(f"<h3>{e(test.name)} ({_fmt(test.score)} / {_fmt(test.max_score)})"
                         f"</h3><pre>{e(student_message(test))}</pre>")
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
        f"</table>{''.join(sections) or '<p>Every test passes.</p>'}</body></html>\n")


def class_csv(results: Iterable[StudentResult]) -> str:
    """One row per student (sorted), one column per task, then total and maximum."""
    results = sorted(results, key=lambda result: result.student)
    tasks = sorted({task.task for result in results for task in result.tasks})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *tasks, "total", "max_score"])
    for result in results:
        by_task = {task.task: task for task in result.tasks}
        writer.writerow([result.student,
                         *(f"{by_task[t].score:.2f}" if t in by_task else "" for t in tasks),
                         f"{result.score:.2f}", f"{result.max_score:.2f}"])
    return out.getvalue()


def gradescope_results(result: StudentResult, config: GradingConfig) -> dict:
    """Gradescope's ``results.json``: ``score``, ``output``, ``visibility``,
    ``stdout_visibility`` and one entry per test (``name``, ``score``, ``max_score``,
    ``status`` "passed"/"failed", ``output``, ``visibility``, ``tags``, ``number``)."""
    tests = []
    for task_index, task in enumerate(result.tasks, start=1):
        if not task.tests:
            tests.append({"name": f"{task.task}: no test ran", "number": f"{task_index}",
                          "score": 0.0, "max_score": task.max_score, "status": "failed",
                          "output": task.note, "visibility": config.public_visibility,
                          "tags": [task.task]})
        for test_index, test in enumerate(task.tests, start=1):
            visibility = (config.public_visibility if test.visibility == "public"
                          else config.hidden_visibility)
            tests.append({
                "name": f"{task.task}: {test.name}", "number": f"{task_index}.{test_index}",
                "score": test.score, "max_score": test.max_score,
                "status": "passed" if test.passed else "failed",
                "output": "" if test.passed else student_message(test),
                "visibility": visibility, "tags": [task.task],
            })
    summary = [f"{task.task}: {_fmt(task.score)} / {_fmt(task.max_score)}"
               for task in result.tasks]
    return {"score": result.score, "output": "\n".join([*result.notes, *summary]),
            "visibility": "visible", "stdout_visibility": "hidden",
            "execution_time": round(result.seconds), "tests": tests}


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


def write_student_reports(result: StudentResult, config: GradingConfig, out: Path) -> None:
    """``out/report.md``, ``out/report.html``, ``out/results.json`` (Gradescope's format)
    and ``out/grade.json`` (everything, for the class CSV), the last one written last."""
    out = Path(out)
    atomic_write(out / "report.md", markdown(result))
    atomic_write(out / "report.html", html_report(result))
    atomic_write(out / "results.json", json.dumps(gradescope_results(result, config),
                                                  indent=1))
    atomic_write(out / "grade.json", result.dumps())
