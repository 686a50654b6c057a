"""The records of a grading, from one test's verdict to a student's grade.

* :class:`TestOutcome`: one task test's verdict, as the pytest plugin reports it (``grader
  grade`` and ``compare`` collect these);
* :class:`TestScore`: the same verdict with its points (``score``, ``max_score``, and why a
  passing test scores 0, ``withheld``): one record, extended, not a second copy;
* :class:`TaskResult`, :class:`StudentResult`: a task's and a submission's points, what the
  reports, results.json and class.csv are made of;
* :class:`TaskScore`: tests passed per task, for ``grader compare``'s table.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class TestOutcome:
    """One task test's verdict, as plain data."""

    __test__ = False  # not a pytest test class

    nodeid: str
    name: str
    task: str
    visibility: str
    outcome: str
    message: str

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TestOutcome:
        """One row of the plugin's ``--grade-report``. Fields beyond the six above (the
        plugin may add some) are kept as attributes, so ``vars(outcome)`` is the whole row."""
        known = {item.name for item in fields(cls)}
        outcome = cls(**{key: row.get(key, "") for key in known})
        for key, value in row.items():
            if key not in known:
                object.__setattr__(outcome, key, value)
        return outcome

    def row(self) -> dict[str, Any]:
        """Every field, as the plugin reported it."""
        return dict(vars(self))


@dataclass(frozen=True)
class TaskScore:
    task: str
    passed: int
    total: int

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class TestScore(TestOutcome):
    """A verdict with its points (:func:`practicum.grader.grading.scoring.score_task`)."""

    score: float = 0.0
    max_score: float = 0.0
    withheld: str = ""  # why a passing test scores 0 (see the scoring module's docstring)
    functions: tuple[str, ...] = ()  # the answer functions the test exercised
    # {column: number} measured by the test (the challenge's accuracy, seconds, parameters)
    leaderboard: dict[str, float] = field(default_factory=dict)


@dataclass
class TaskResult:
    task: str
    score: float
    max_score: float
    tests: list[TestScore]
    note: str = ""
    penalty: float = 0.0  # points taken off for late work (already out of ``score``)

    @property
    def passed(self) -> int:
        return sum(test.passed for test in self.tests)


@dataclass
class StudentResult:
    """One submission's grade: what the reports and the class CSV are made of."""

    student: str
    tasks: list[TaskResult]
    notes: list[str] = field(default_factory=list)
    sandbox: str = ""
    seconds: float = 0.0
    submitted_at: str = ""  # ISO 8601, UTC; "" if unknown

    @property
    def score(self) -> float:
        return round(sum(task.score for task in self.tasks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(task.max_score for task in self.tasks), 4)

    def to_json(self) -> dict:
        return {
            "student": self.student,
            "score": self.score,
            "max_score": self.max_score,
            "notes": self.notes,
            "sandbox": self.sandbox,
            "seconds": self.seconds,
            "submitted_at": self.submitted_at,
            "tasks": [
                {
                    **{k: v for k, v in asdict(task).items() if k != "tests"},
                    "tests": [asdict(test) for test in task.tests],
                }
                for task in self.tasks
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> StudentResult:
        tasks = [
            TaskResult(
                task=t["task"],
                score=t["score"],
                max_score=t["max_score"],
                note=t.get("note", ""),
                penalty=t.get("penalty", 0.0),
                tests=[
                    TestScore(**{**test, "functions": tuple(test.get("functions", ()))})
                    for test in t["tests"]
                ],
            )
            for t in data["tasks"]
        ]
        return cls(
            student=data["student"],
            tasks=tasks,
            notes=list(data.get("notes", [])),
            sandbox=data.get("sandbox", ""),
            seconds=data.get("seconds", 0.0),
            submitted_at=data.get("submitted_at", ""),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, sort_keys=True)
