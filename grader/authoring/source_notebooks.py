"""nbgrader source notebooks, generated from ``solutions/``: one notebook per assignment.

``grader notebooks`` writes ``nbgrader/source/<assignment>/<assignment>.ipynb`` for each
assignment in :data:`ASSIGNMENTS`; ``grader notebooks --check`` says whether the committed
notebooks are what the generator makes now (a course test runs it).

A task's section of a notebook is built from ``solutions/<task>.py``:

* the module docstring becomes a Markdown cell, after a short introduction;
* consecutive top-level statements without an answer (imports, constants, provided helpers)
  become one *locked* code cell (nbgrader puts them back as they were when it autogrades);
* each top-level function with an answer region becomes a *solution* cell, keeping
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (nbgrader's markers, as in our solutions);
  ``# HINT:`` lines move just above the region so that nbgrader's stub keeps them;
* then one autograded *check* cell per :class:`Part` (a function or a few functions): it
  runs the task's public tests that belong to the part against the notebook's functions,
  and, between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``, the hidden ones.

Which test belongs to which part is decided by :func:`part_of` from the test's name, the
same way in the notebook (:mod:`practicum.grader.running.notebook_checks`) and in the sandboxed
autograde (:mod:`practicum.grader.grading.nbgrader_submissions`). A task's points
(``grading.toml``) are split over its check cells as
:func:`practicum.grader.grading.scoring.score_task` splits them over its tests
(:func:`part_shares`, from the tests pytest collects), and a check cell ends with the points its
part earned (:func:`practicum.grader.running.notebook_checks.score`), which nbgrader takes as the
cell's partial credit. The written questions of the handouts (``nbgrader/questions.toml``) become
manually graded Markdown answer cells.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import textwrap
from pathlib import Path

import practicum
from practicum.grader.authoring.assignments import (
    ASSIGNMENTS,
    BEGIN,
    COURSE_DIR,
    END,
    HINT,
    KERNELSPEC,
    SETUP,
    TASKS,
    Assignment,
    Part,
    Question,
    check_id,
    part_points,
    tests_of_part,
)

# --------------------------------------------------------------------------- cells


def _metadata(
    role: str,
    task: str | None,
    grade_id: str | None = None,
    *,
    grade=False,
    solution=False,
    locked=False,
    points: float | None = None,
    part: str | None = None,
) -> dict:
    meta: dict = {"practicum": {"role": role}}
    if task:
        meta["practicum"]["task"] = task
    if part:
        meta["practicum"]["part"] = part
    if grade_id:
        nb = {
            "grade": grade,
            "grade_id": grade_id,
            "locked": locked,
            "schema_version": 3,
            "solution": solution,
            "task": False,
        }
        if grade:
            nb["points"] = points
        meta["nbgrader"] = nb
    return meta


def _cell(kind: str, source: str, metadata: dict, cell_id: str) -> dict:
    cell = {"cell_type": kind, "id": cell_id, "metadata": metadata, "source": source.strip("\n")}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _move_hints(chunk: str) -> str:
    """``# HINT:`` lines inside an answer region move just above its BEGIN marker."""
    out, region, hints, begin_at = [], False, [], 0
    for line in chunk.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            region, hints, begin_at = True, [], len(out)
            out.append(line)
        elif stripped == END:
            region = False
            out[begin_at:begin_at] = hints
            out.append(line)
        elif region and stripped.startswith(HINT):
            hints.append(line)
        else:
            out.append(line)
    return "\n".join(out)


_RELATIVE_IMPORT = re.compile(r"^(\s*)from \.(\w+) import (.+)$")


def _notebook_code(line: str) -> str:
    """A module line as notebook code: a relative import of another task names functions
    that an earlier section of the notebook already defines."""
    match = _RELATIVE_IMPORT.match(line)
    if match:
        indent, module, names = match.groups()
        return f"{indent}pass  # {names.strip()}: defined in the {module} section above"
    return line


def solution_chunks(source: str) -> tuple[str, list[tuple[bool, str]]]:
    """Splits a solution module into its docstring and code chunks ``(is_answer, text)``:
    each top-level statement with an answer region is a chunk; the statements between
    them (imports, constants, provided helpers) are merged, as in the source."""
    tree = ast.parse(source)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree) or ""
    body = [
        node
        for node in tree.body
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
    ]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]

    def first_line(node: ast.stmt) -> int:  # 0-based, decorators included
        return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1

    spans: list[tuple[bool, int, int]] = []  # (is_answer, first line, end line)
    for index, node in enumerate(body):
        begin = first_line(node)
        end = first_line(body[index + 1]) if index + 1 < len(body) else len(lines)
        answer = any(line.strip() == BEGIN for line in lines[node.lineno - 1 : end])
        if spans and not answer and not spans[-1][0]:
            spans[-1] = (False, spans[-1][1], end)
        else:
            spans.append((answer, begin, end))
    chunks: list[tuple[bool, str]] = []
    carry: list[str] = []
    for answer, begin, end in spans:
        block = carry + lines[begin:end]
        carry = []
        # comments at column 0 just before the next statement introduce it
        while block and (not block[-1].strip() or block[-1].startswith("#")):
            line = block.pop()
            if line.strip():
                carry.insert(0, line)
        text = "\n".join(_notebook_code(line) for line in block).strip("\n")
        chunks.append((answer, _move_hints(text) if answer else text))
    return docstring, chunks


def _check_source(task: str, part: Part, points: float, root: Path) -> str:
    public = tests_of_part(task, part.name, "public", root)
    hidden = tests_of_part(task, part.name, "hidden", root)
    if not public and not hidden:
        raise ValueError(f"{task}: no test belongs to the part {part.name}")
    title = part.title or part.name
    heading = f"Checks of {title} ({points:g} points, shared by its checks)."
    lines = textwrap.wrap(heading, width=98, initial_indent="# ", subsequent_indent="# ")
    lines += ["from practicum.grader.running.notebook_checks import check, score", ""]
    if public:
        lines.append(f'check(globals(), "{task}", "{part.name}")')
    else:
        lines.append(f"# (no public check for {part.name}: it is graded by hidden checks)")
    if hidden:
        lines += [
            "### BEGIN HIDDEN TESTS",
            f'check(globals(), "{task}", "{part.name}", hidden=True)',
            "### END HIDDEN TESTS",
        ]
    lines.append(f'score("{task}", "{part.name}", out_of={points!r})  # the points earned')
    return "\n".join(lines)


def load_questions(assignment: str, root: Path = practicum.REPO_ROOT) -> list[Question]:
    """The written questions of an assignment, from ``nbgrader/questions.toml``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = root / COURSE_DIR / "questions.toml"
    if not path.is_file():
        return []
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        Question(
            entry["grade_id"],
            entry["points"],
            " ".join(entry["prompt"].split()),
            " ".join(entry["model_answer"].split()),
        )
        for entry in table.get(assignment, [])
    ]


def _intro(assignment: Assignment, questions: list[Question], total: float) -> str:
    written = sum(question.points for question in questions)
    return (
        f"# {assignment.title}\n\n{assignment.intro}\n\n"
        "**How to work.** Run the cells from the top. In each cell that says "
        "`YOUR CODE HERE`, replace the `raise NotImplementedError()` with your answer, "
        "keeping the function's name and arguments. After each section, the check "
        "cells run the public tests on your functions and say what is wrong. At "
        "grading, more checks (hidden ones) run in the same cells: a check cell's "
        "points are shared by its checks, and it earns the share of each check that "
        "passes (as `grader grade` scores the same tests). Do not delete or reorder "
        "cells, and do not edit the locked ones.\n\n"
        f"Points: {total:g} for code (the check cells), {written:g} for the written "
        "answers at the end (graded by hand)."
    )


def build_notebook(assignment_name: str, root: Path = practicum.REPO_ROOT) -> dict:
    """The nbgrader source notebook of one assignment, as a JSON-ready dict."""
    assignment = ASSIGNMENTS[assignment_name]
    questions = load_questions(assignment_name, root)
    points = part_points(assignment_name, root)
    total = round(sum(share for _, _, share in points.values()), 4)
    cells = [
        _cell("markdown", _intro(assignment, questions, total), _metadata("intro", None), "intro"),
        _cell("code", SETUP, _metadata("provided", None, "setup", locked=True), "setup"),
    ]
    for number, task_name in enumerate(assignment.tasks, start=1):
        task = TASKS[task_name]
        source = (root / "solutions" / f"{task_name}.py").read_text(encoding="utf-8")
        docstring, chunks = solution_chunks(source)
        text = (
            f"## Part {number}: {task.title} (`{task_name}`, handout {task.handout})\n\n"
            f"{task.intro}\n\n"
            "The conventions and a worked example, as in the module's docstring:\n\n"
            + "\n".join(f"    {line}" if line else "" for line in docstring.splitlines())
        )
        cells.append(
            _cell("markdown", text, _metadata("instructions", task_name), f"{task_name}-intro")
        )
        provided = answers = 0
        for is_answer, chunk in chunks:
            if is_answer:
                name = re.search(r"^(?:def|class)\s+(\w+)", chunk, re.M)
                grade_id = f"{task_name}_{name.group(1) if name else answers}"
                answers += 1
                meta = _metadata("answer", task_name, grade_id, solution=True)
            else:
                provided += 1
                grade_id = f"{task_name}_provided_{provided}"
                meta = _metadata("provided", task_name, grade_id, locked=True)
            cells.append(_cell("code", chunk, meta, grade_id.replace("_", "-")))
        cells.append(
            _cell(
                "markdown",
                f"### Checks of part {number} (`{task_name}`)",
                _metadata("instructions", task_name),
                f"{task_name}-checks",
            )
        )
        for part in task.parts:
            grade_id = check_id(task_name, part.name)
            share = points[grade_id][2]
            meta = _metadata(
                "check", task_name, grade_id, grade=True, locked=True, points=share, part=part.name
            )
            cells.append(
                _cell(
                    "code",
                    _check_source(task_name, part, share, root),
                    meta,
                    grade_id.replace("_", "-"),
                )
            )
    if questions:
        cells.append(
            _cell(
                "markdown",
                "## Written questions\n\nAnswer each question in "
                "the cell below it, in a few sentences of your own. These "
                "answers are graded by hand.",
                _metadata("instructions", None),
                "questions",
            )
        )
    for question in questions:
        cells.append(
            _cell(
                "markdown",
                f"**Question ({question.points:g} points).** {question.prompt}",
                _metadata("question", None),
                f"{question.grade_id}-prompt".replace("_", "-"),
            )
        )
        meta = _metadata(
            "written", None, question.grade_id, grade=True, solution=True, points=question.points
        )
        cells.append(
            _cell(
                "markdown",
                f"*A model answer (removed from the release):* {question.model_answer}",
                meta,
                question.grade_id.replace("_", "-"),
            )
        )
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
            "practicum": {
                "assignment": assignment_name,
                "tasks": list(assignment.tasks),
                "generated_by": "grader notebooks (from solutions/)",
            },
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def notebook_text(assignment: str, root: Path = practicum.REPO_ROOT) -> str:
    return (
        json.dumps(build_notebook(assignment, root), indent=1, ensure_ascii=False, sort_keys=True)
        + "\n"
    )


def notebook_path(assignment: str, course: Path) -> Path:
    return course / "source" / assignment / f"{assignment}.ipynb"


def write_notebooks(course: Path | None = None, root: Path = practicum.REPO_ROOT) -> list[Path]:
    course = course or root / COURSE_DIR
    written = []
    for assignment in ASSIGNMENTS:
        path = notebook_path(assignment, course)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook_text(assignment, root), encoding="utf-8")
        written.append(path)
    return written


def stale_notebooks(course: Path | None = None, root: Path = practicum.REPO_ROOT) -> list[str]:
    """One message (with the start of a diff) per notebook that differs from what the
    generator makes now; empty when everything is up to date."""
    course = course or root / COURSE_DIR
    problems = []
    for assignment in ASSIGNMENTS:
        path = notebook_path(assignment, course)
        expected = notebook_text(assignment, root)
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        actual = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = list(
                difflib.unified_diff(
                    actual.splitlines(),
                    expected.splitlines(),
                    "committed",
                    "generated",
                    lineterm="",
                    n=1,
                )
            )
            problems.append(f"{path} is out of date:\n" + "\n".join(diff[:20]))
    return problems
