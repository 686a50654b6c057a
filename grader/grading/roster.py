"""The class roster: who should have handed in.

A CSV in the format of nbgrader's ``nbgrader db student import``: a header with ``id``
(required), ``first_name``, ``last_name``, ``email`` and ``lms_user_id`` (all optional; a
single ``name`` column is read as well)::

    id,first_name,last_name,email,lms_user_id
    alice,Alice,Liddell,alice@example.org,1001

``grader grade-all --roster roster.csv`` lists every student of the roster in
``class.csv``: one who handed nothing in gets 0 and the status ``missing``; a folder whose
name is not on the roster is graded and gets the status ``not on the roster``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

MISSING = "missing"
UNKNOWN = "not on the roster"


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""
    lms_user_id: str = ""


def read_roster(path: Path | str) -> dict[str, Student]:
    """``id -> Student``, in the file's order; ValueError (with the line) for a roster
    without an ``id`` column, an empty id or an id listed twice."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"Received: roster {path} could not be read ({error})") from None
    if rows and "id" not in header:
        raise ValueError(
            f"Received: roster {path} with columns {sorted(header)}, expected an 'id' "
            "column (nbgrader's db student import format)"
        )
    roster: dict[str, Student] = {}
    for number, row in enumerate(rows, start=2):
        student_id = (row.get("id") or "").strip()
        if not student_id:
            raise ValueError(f"Received: roster {path}, line {number}: an empty id")
        if student_id in roster:
            raise ValueError(f"Received: roster {path}, line {number}: {student_id!r} twice")
        name = (row.get("name") or "").strip() or " ".join(
            part
            for part in (
                (row.get("first_name") or "").strip(),
                (row.get("last_name") or "").strip(),
            )
            if part
        )
        roster[student_id] = Student(
            student_id,
            name,
            (row.get("email") or "").strip(),
            (row.get("lms_user_id") or "").strip(),
        )
    return roster


def statuses(roster: dict[str, Student] | None, graded: list[str]) -> dict[str, str]:
    """``student -> status`` for the class CSV: ``""`` (on the roster, graded),
    :data:`MISSING` or :data:`UNKNOWN`. Without a roster, everyone graded is ``""``."""
    if roster is None:
        return {name: "" for name in graded}
    found = {name: ("" if name in roster else UNKNOWN) for name in graded}
    found.update({name: MISSING for name in roster if name not in found})
    return found
