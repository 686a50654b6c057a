"""nbgrader's ``autograded/`` notebooks from a sandboxed grading, for ``generate_feedback``.

``nbgrader generate_feedback`` turns ``autograded/<student>/<assignment>/<notebook>.ipynb``
and the gradebook's scores into each student's HTML feedback. nbgrader's own ``autograde``
writes that notebook by running the student's code in a kernel; the sandboxed path
(``grader nbgrader-autograde``) never does, so it writes the notebook itself:

* every cell nbgrader knows (by grade id) gets the source notebook's type and metadata; a
  locked cell the source's code; a check cell the *released* code (the hidden-test block
  removed) and, as its output, the feedback of the tests of its part: how many pass, and
  each failure's name and message;
* the student's answer cells and their own extra cells keep the student's text, without
  any output (a submission's outputs are untrusted: they could hold any HTML), and raw HTML
  in the student's Markdown is escaped, so the feedback shows it as text;
* the first code cell's output lists the grader's notes (the sandbox used, cells that did not
  compile, ...).
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from pathlib import Path

from practicum.grader.authoring import assignments
from practicum.grader.grading.nbgrader_submissions import cell_source, grade_id_of, role_of

HIDDEN = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S
)
MAX_MESSAGE_LINES = 12


def released_check_code(code: str) -> str:
    """A check cell's code as students get it: without the hidden-test block."""
    return HIDDEN.sub("", code)


def part_feedback(outcomes) -> dict[str, str]:
    """``grade_id -> text``: each check cell's test results, failures with their message."""
    by_cell: dict[str, list] = defaultdict(list)
    for outcome in outcomes:
        if outcome.task in assignments.TASKS and outcome.outcome != "skipped":
            part = assignments.part_of(outcome.task, outcome.name)
            by_cell[assignments.check_id(outcome.task, part)].append(outcome)
    texts = {}
    for grade_id, rows in by_cell.items():
        passed = sum(row.passed for row in rows)
        lines = [f"{passed} of {len(rows)} grading checks pass (public and hidden tests)"]
        for row in rows:
            if not row.passed:
                message = "\n    ".join(str(row.message).splitlines()[:MAX_MESSAGE_LINES])
                lines.append(f"- {row.name}: {message}")
        texts[grade_id] = "\n".join(lines) + "\n"
    return texts


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def _escape_html(markdown: str) -> str:
    return markdown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def autograded_notebook(
    source_nb: dict, submitted_nb: dict | None, outcomes, notes: list[str]
) -> dict:
    """The notebook nbgrader's ``generate_feedback`` reads (see the module docstring).
    ``submitted_nb`` None (nothing readable was handed in): the released notebook."""
    source_cells = {grade_id_of(cell): cell for cell in source_nb["cells"] if grade_id_of(cell)}
    feedback = part_feedback(outcomes)
    cells = []
    for cell in (submitted_nb or source_nb)["cells"]:
        grade_id = grade_id_of(cell)
        theirs = cell if submitted_nb is not None else None
        mine = source_cells.get(grade_id)
        role = role_of(mine) if mine is not None else None
        from_student = False
        if mine is not None and role in ("provided", "check"):
            new = copy.deepcopy(mine)
            if role == "check":
                new["source"] = released_check_code(cell_source(mine))
        elif mine is not None:  # an answer or a written answer: the student's text
            new = copy.deepcopy(mine)
            new["source"] = cell_source(theirs) if theirs is not None else cell_source(mine)
            from_student = theirs is not None
        else:  # a cell nbgrader does not track (the student may have changed or added it)
            try:
                text = cell_source(cell)
            except ValueError:
                continue
            kind = cell.get("cell_type") if cell.get("cell_type") in ("code", "markdown") else "raw"
            new = {"cell_type": kind, "metadata": {}, "source": text}
            from_student = submitted_nb is not None
        if from_student and new["cell_type"] == "markdown":
            new["source"] = _escape_html(cell_source(new))
        new.pop("attachments", None)
        if new["cell_type"] == "code":
            new["execution_count"] = None
            new["outputs"] = [_stream(feedback[grade_id])] if grade_id in feedback else []
        else:
            new.pop("outputs", None)
            new.pop("execution_count", None)
        cells.append(new)
    first_code = next((new for new in cells if new["cell_type"] == "code"), None)
    if notes and first_code is not None:
        first_code["outputs"] = [_stream("".join(f"grader: {note}\n" for note in notes))]
    return {
        "cells": cells,
        "metadata": copy.deepcopy(source_nb.get("metadata", {})),
        "nbformat": source_nb.get("nbformat", 4),
        "nbformat_minor": source_nb.get("nbformat_minor", 5),
    }


def write_autograded(course: Path, student: str, assignment: str, notebook: str, nb: dict) -> Path:
    """Writes ``course/autograded/<student>/<assignment>/<notebook>.ipynb``."""
    folder = Path(course) / "autograded" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.ipynb"
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    return path
