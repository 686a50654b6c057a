"""Grades for a learning-management system: ``grader export canvas|outcomes|json OUT``.

All three read a ``grade-all`` output folder (``OUT/<student>/grade.json``):

* ``canvas``: the CSV that Canvas's gradebook import reads (*Grades > Import*): the columns
  ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment,
  after a ``Points Possible`` row. With ``--roster`` (nbgrader's format,
  :mod:`practicum.grader.grading.roster`) a student's Canvas ID is the roster's
  ``lms_user_id``, the SIS user ID its ``id``, the login its ``email``; every roster student
  gets a row (0 if nothing was handed in). Canvas matches rows by any of those IDs.
* ``outcomes``: a long-format CSV, one row per student and test (any LMS or spreadsheet);
* ``json``: every student's result as ``grade-all`` stored it, in one list.

Every text cell is neutralised for spreadsheets (:func:`.reports.csv_cell`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from practicum.grader.export.reports import csv_cell
from practicum.grader.grading import grade_all
from practicum.grader.grading.results import StudentResult
from practicum.grader.grading.roster import Student

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def stored_results(out: Path | str) -> list[StudentResult]:
    """Every ``OUT/<student>/grade.json``, sorted by student; ValueError if there is none."""
    results = grade_all.stored_results(Path(out))
    if not results:
        raise ValueError(
            f"Received: {out} with no <student>/grade.json, expected the --out "
            "folder of grader grade-all"
        )
    return results


def canvas_csv(
    results: list[StudentResult],
    roster: dict[str, Student] | None = None,
    column: str = "Practicum",
) -> str:
    """Canvas's gradebook import (see the module docstring): one assignment column."""
    by_student = {result.student: result for result in results}
    names = sorted(set(by_student) | set(roster or {}))
    possible = max((result.max_score for result in results), default=0.0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, csv_cell(column)])
    writer.writerow(["Points Possible", "", "", "", "", f"{possible:.2f}"])
    for name in names:
        person = (roster or {}).get(name) or Student(name)
        result = by_student.get(name)
        writer.writerow(
            [
                csv_cell(person.name or name),
                csv_cell(person.lms_user_id),
                csv_cell(person.id),
                csv_cell(person.email),
                "",
                f"{result.score:.2f}" if result is not None else "0.00",
            ]
        )
    return out.getvalue()


def outcomes_csv(results: list[StudentResult]) -> str:
    """One row per student and test: what was run, its outcome, its points and feedback."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "student",
            "task",
            "test",
            "visibility",
            "outcome",
            "score",
            "max_score",
            "withheld",
            "message",
        ]
    )
    for result in results:
        for task in result.tasks:
            for test in task.tests:
                writer.writerow(
                    [
                        csv_cell(result.student),
                        csv_cell(task.task),
                        csv_cell(test.name),
                        test.visibility,
                        test.outcome,
                        f"{test.score:.4f}",
                        f"{test.max_score:.4f}",
                        csv_cell(test.withheld),
                        csv_cell(test.message),
                    ]
                )
    return out.getvalue()


def results_json(results: list[StudentResult]) -> str:
    return json.dumps([result.to_json() for result in results], indent=1, sort_keys=True)
