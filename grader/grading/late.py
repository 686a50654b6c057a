"""Late work: due dates, a penalty rule, and when a submission was handed in.

``grading.toml``::

    [late]
    due = 2026-12-10T23:59:00Z     # a TOML date-time (or an ISO 8601 string)
    per = "day"                    # the penalty counts started days, or "hour"
    penalty = 0.1                  # the fraction of the task's points lost per day/hour
    cap = 0.5                      # at most this fraction
    grace_minutes = 10             # later than due by at most this is on time
    [late.due_by_task]             # optional: a task's own due date
    style_losses = 2026-12-17T23:59:00Z

A task handed in ``late`` after its due date keeps ``1 - min(cap, penalty * units)`` of its
points, ``units`` being the started days (or hours) after the grace period::

    >>> policy = LatePolicy(due=parse_time("2026-12-10T23:59:00Z"), per="day", penalty=0.1,
    ...                     cap=0.5)
    >>> policy.fraction_lost("conv", parse_time("2026-12-12T08:00:00Z"))  # 2 started days
    0.2
    >>> policy.fraction_lost("conv", parse_time("2026-12-10 20:00:00.5 UTC"))  # nbgrader's
    0.0

When a submission was handed in comes from what the *collection* wrote, never from the
student's code: an instructor's ``--times`` CSV (``student,submitted_at``), else nbgrader's
``timestamp.txt`` (written by ``nbgrader submit`` and kept by ``collect``), a
``submitted_at`` file the instructor's own collection script wrote, or Gradescope's
``submission_metadata.json`` (``created_at``). Files inside a folder the student uploaded
themselves are only as trustworthy as that upload: prefer ``--times`` from the LMS then.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNITS = {"day": 86400.0, "hour": 3600.0}
TIME_FILES = ("timestamp.txt", "submitted_at")
GRADESCOPE_METADATA = "submission_metadata.json"


def parse_time(value: Any) -> dt.datetime:
    """An aware UTC datetime from a TOML date-time or an ISO 8601 string (``Z`` or an
    offset; no offset means UTC); ValueError with the value if it is neither."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip().removesuffix("UTC").strip().replace(" ", "T", 1)
        text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"Received: {value[:60]!r}, expected a date and time such as 2026-12-10T23:59:00Z"
            ) from None
    else:
        raise ValueError(f"Received: {value!r}, expected a date and time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class LatePolicy:
    due: dt.datetime
    per: str = "day"
    penalty: float = 0.1
    cap: float = 1.0
    grace_minutes: float = 0.0
    due_by_task: Mapping[str, dt.datetime] = field(default_factory=dict)

    def due_for(self, task: str) -> dt.datetime:
        return self.due_by_task.get(task, self.due)

    def units_late(self, task: str, submitted_at: dt.datetime) -> int:
        """Started days (or hours) after the due date and the grace period."""
        late = (submitted_at - self.due_for(task)).total_seconds() - 60 * self.grace_minutes
        return 0 if late <= 0 else math.ceil(late / UNITS[self.per])

    def fraction_lost(self, task: str, submitted_at: dt.datetime) -> float:
        units = self.units_late(task, submitted_at)
        return round(min(self.cap, self.penalty * units), 6) if units else 0.0

    def describe(self, task: str, submitted_at: dt.datetime) -> str:
        """``""`` if on time, else e.g. ``late by 2 started days: -20 % (due ...)``."""
        units = self.units_late(task, submitted_at)
        if not units:
            return ""
        fraction = self.fraction_lost(task, submitted_at)
        capped = " (the cap)" if fraction >= self.cap else ""
        return (
            f"handed in {submitted_at:%Y-%m-%d %H:%M} UTC, late by {units} started "
            f"{self.per}(s) after {self.due_for(task):%Y-%m-%d %H:%M} UTC: "
            f"-{100 * fraction:g} %{capped}"
        )

    def to_json(self) -> dict:
        return {
            "due": self.due.isoformat(),
            "per": self.per,
            "penalty": self.penalty,
            "cap": self.cap,
            "grace_minutes": self.grace_minutes,
            "due_by_task": {task: when.isoformat() for task, when in self.due_by_task.items()},
        }


def load_policy(raw: Any, where: str = "grading.toml") -> LatePolicy | None:
    """The ``[late]`` table of ``grading.toml`` (None if absent); ValueError if malformed."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or "due" not in raw:
        raise ValueError(f"Received: {where} [late] without 'due', expected a due date")
    per = raw.get("per", "day")
    if per not in UNITS:
        raise ValueError(f"Received: {where} [late] per={per!r}, expected 'day' or 'hour'")
    numbers = {}
    for key, default in (("penalty", 0.1), ("cap", 1.0), ("grace_minutes", 0.0)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"Received: {where} [late] {key}={value!r}, expected a number >= 0")
        numbers[key] = float(value)
    if numbers["penalty"] > 1 or numbers["cap"] > 1:
        raise ValueError(f"Received: {where} [late] penalty and cap are fractions of the points")
    by_task = raw.get("due_by_task", {})
    if not isinstance(by_task, dict):
        raise ValueError(f"Received: {where} [late.due_by_task] must be a table of due dates")
    return LatePolicy(
        due=parse_time(raw["due"]),
        per=per,
        **numbers,
        due_by_task={str(task): parse_time(when) for task, when in by_task.items()},
    )


def read_times(path: Path | str) -> dict[str, dt.datetime]:
    """``student -> submitted_at`` from an instructor's CSV with the columns ``student`` and
    ``submitted_at``; ValueError naming the row if a time cannot be read."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"student", "submitted_at"} <= set(rows[0]):
        raise ValueError(
            f"Received: {path} with columns {sorted(rows[0])}, expected student and submitted_at"
        )
    times = {}
    for number, row in enumerate(rows, start=2):
        try:
            times[row["student"].strip()] = parse_time(row["submitted_at"])
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: {error}") from None
    return times


def submission_time(folder: Path) -> tuple[dt.datetime | None, str]:
    """When the submission in ``folder`` was handed in, and which file said so (see the
    module docstring); ``(None, "")`` if nothing says. An unreadable file is ignored."""
    folder = Path(folder)
    for name in TIME_FILES:
        path = folder / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 200:
            try:
                return parse_time(path.read_text(encoding="utf-8").strip()), name
            except (ValueError, UnicodeDecodeError):
                continue
    for path in (folder / GRADESCOPE_METADATA, folder.parent / GRADESCOPE_METADATA):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 2**20:
            try:
                created = json.loads(path.read_text(encoding="utf-8")).get("created_at")
                return parse_time(created), GRADESCOPE_METADATA
            except (ValueError, UnicodeDecodeError, AttributeError):
                continue
    return None, ""
