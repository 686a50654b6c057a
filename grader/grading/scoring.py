"""Points: test outcomes -> scores per test, per task and per student, from ``grading.toml``.

The configuration file (``grading.toml`` at the course root) gives each task its points;
a task's tests share them equally, unless a test has its own points (an override, by test
name or by the name of a parametrised test without its ``[...]`` part, in which case the
instances share those points). Partial credit is per test: a task with 10 points and 40
tests gives 0.25 per passing test. A task not named in the file gets ``default_points``.

Points for correct work only. A test that compares an answer function with the reference
(or is marked ``@pytest.mark.value_test``) is a *value test* for the functions it compared;
any other passing test (a property, an invariance, a rejected invalid input) counts its points
only when every answer function it exercised also passes at least one value test in the same
grading of the task. Otherwise it stays "passed" (its feedback holds) but scores 0, with the
reason in ``withheld`` ("counts once gram_matrix matches the reference on a value test"): a
constant, an echo or an answer that rejects everything passes many properties but no value
test, so it scores 0. The lists come from the grade report (``functions`` and
``value_test_for``, see :mod:`.gating`); rows without them (older ``grade.json`` files) are
scored as before.

Example ``grading.toml``::

    default_points = 10
    hidden_visibility = "after_published"   # Gradescope visibility of hidden tests

    [tasks.style_losses]
    points = 20
    [tasks.style_losses.tests]
    test_total_loss_rejects_weights_outside_the_unit_interval = 1
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from practicum.grader.grading.late import LatePolicy, load_policy, parse_time
from practicum.grader.grading.results import StudentResult, TaskResult, TestScore

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


@dataclass(frozen=True)
class GradingConfig:
    """What ``grading.toml`` says."""

    default_points: float = 10.0
    tasks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    public_visibility: str = "visible"
    hidden_visibility: str = "after_published"
    late: LatePolicy | None = None  # [late]: due dates and the penalty rule
    # [sandbox] time_budget: seconds a submission may lose to calls that time out or crash
    time_budget: float = 45.0

    def task_points(self, task: str) -> float:
        return float(self.tasks.get(task, {}).get("points", self.default_points))

    def overrides(self, task: str) -> dict[str, float]:
        return {
            str(name): float(points)
            for name, points in self.tasks.get(task, {}).get("tests", {}).items()
        }


def load_config(path: Path | str | None) -> GradingConfig:
    """Reads ``grading.toml``; no file gives the defaults. Raises ValueError if malformed."""
    if path is None or not Path(path).is_file():
        return GradingConfig()
    try:
        raw = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"Received: {path} is not valid TOML ({error})") from None
    tasks = raw.get("tasks", {})
    if not isinstance(tasks, dict) or not all(isinstance(v, dict) for v in tasks.values()):
        raise ValueError(f"Received: {path} [tasks] must hold one table per task")
    config = GradingConfig(
        default_points=float(raw.get("default_points", 10.0)),
        tasks=tasks,
        public_visibility=raw.get("public_visibility", "visible"),
        hidden_visibility=raw.get("hidden_visibility", "after_published"),
        late=load_policy(raw.get("late"), str(path)),
        time_budget=_time_budget(raw.get("sandbox", {}), str(path)),
    )
    for task, table in tasks.items():
        if float(table.get("points", 0)) < 0:
            raise ValueError(f"Received: tasks.{task}.points < 0, expected points >= 0")
        if sum(config.overrides(task).values()) > config.task_points(task) + 1e-9:
            raise ValueError(
                f"Received: tasks.{task}.tests give more points than the task's "
                f"{config.task_points(task)}"
            )
    for key in ("public_visibility", "hidden_visibility"):
        if getattr(config, key) not in VISIBILITIES:
            raise ValueError(
                f"Received: {key}={getattr(config, key)!r}, expected one of "
                f"{', '.join(VISIBILITIES)}"
            )
    return config


def _time_budget(table: Any, path: str) -> float:
    if not isinstance(table, dict):
        raise ValueError(f"Received: {path} [sandbox] is not a table")
    budget = table.get("time_budget", 45.0)
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not budget > 0:
        raise ValueError(
            f"Received: {path} [sandbox] time_budget={budget!r}, expected a number of seconds > 0"
        )
    return float(budget)


def base_name(name: str) -> str:
    return name.split("[", 1)[0]


def value_checked(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """The answer functions that pass at least one value test among ``rows``."""
    checked: set[str] = set()
    for row in rows:
        row = row if isinstance(row, Mapping) else vars(row)
        if row["outcome"] == "passed":
            checked.update(row.get("value_test_for") or ())
    return checked


def withheld_reason(row: Mapping[str, Any], checked: set[str]) -> str:
    """``""`` if a passing row's points count, else why not (see the module docstring)."""
    missing = sorted(set(row.get("functions") or ()) - checked)
    if not missing:
        return ""
    names = [name.rsplit(".", 1)[-1] for name in missing]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "matches" if len(names) == 1 else "match"
    return f"counts once {listed} {verb} the reference on a value test"


def score_task(
    task: str,
    rows: list[Mapping[str, Any]],
    config: GradingConfig,
    note: str = "",
    checked: Iterable[str] | None = None,
) -> TaskResult:
    """Points for one task's test rows (dicts or TestOutcome-like objects).

    Args:
        checked: the answer functions that pass a value test in this grading; by default
            those of ``rows`` (:func:`value_checked`). Pass the set of the whole task when
            scoring some of its rows alone (one notebook cell's tests).
    """
    rows = [dict(row) if isinstance(row, Mapping) else vars(row) for row in rows]
    rows = [row for row in rows if row["outcome"] != "skipped"]
    checked = value_checked(rows) if checked is None else set(checked)
    total = config.task_points(task)
    overrides = config.overrides(task)
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        key = row["name"] if row["name"] in overrides else base_name(row["name"])
        groups[key if key in overrides else ""].append(row)
    fixed = sum(points for name, points in overrides.items() if groups.get(name))
    shared = groups.get("", [])
    each_shared = (total - fixed) / len(shared) if shared else 0.0
    tests = []
    for row in rows:
        key = row["name"] if row["name"] in overrides else base_name(row["name"])
        worth = overrides[key] / len(groups[key]) if key in overrides else each_shared
        message = row.get("message", "")
        if note and row["outcome"] != "passed":
            message = f"{note}\n{message}".strip()
        passed = row["outcome"] == "passed"
        withheld = withheld_reason(row, checked) if passed else ""
        earned = worth * float(row.get("credit", 1.0)) if passed and not withheld else 0.0
        if passed and row.get("note"):
            message = f"{message}\n{row['note']}".strip()
        tests.append(
            TestScore(
                nodeid=row["nodeid"],
                name=row["name"],
                task=task,
                visibility=row.get("visibility") or "hidden",
                outcome=row["outcome"],
                message=message,
                score=round(earned, 6),
                max_score=round(worth, 6),
                withheld=withheld,
                functions=tuple(
                    name.rsplit(".", 1)[-1] for name in sorted(row.get("functions") or ())
                ),
                leaderboard=dict(row.get("leaderboard") or {}),
            )
        )
    score = round(sum(test.score for test in tests), 4)
    max_score = round(sum(test.max_score for test in tests), 4) if tests else total
    return TaskResult(task=task, score=score, max_score=max_score, tests=tests, note=note)


def score_student(
    student: str,
    rows: Iterable[Mapping[str, Any]],
    config: GradingConfig,
    *,
    expected_tasks: Iterable[str] = (),
    task_notes: Mapping[str, str] = {},
    notes: Iterable[str] = (),
    sandbox: str = "",
    seconds: float = 0.0,
    submitted_at: str = "",
) -> StudentResult:
    """Scores every task of one submission. A task in ``expected_tasks`` whose tests did
    not run at all gets 0 out of its points, with a note saying so. With a ``[late]`` rule
    in the configuration and ``submitted_at`` (ISO 8601), a late task loses its share
    (:mod:`practicum.grader.grading.late`), noted on the task."""
    per_task: dict[str, list] = defaultdict(list)
    for row in rows:
        row = dict(row) if isinstance(row, Mapping) else vars(row)
        per_task[row["task"]].append(row)
    tasks = []
    for task in sorted(set(per_task) | set(expected_tasks)):
        note = task_notes.get(task, "")
        if per_task.get(task):
            tasks.append(score_task(task, per_task[task], config, note=note))
        else:
            tasks.append(
                TaskResult(
                    task=task,
                    score=0.0,
                    max_score=config.task_points(task),
                    tests=[],
                    note=note or "no test of this task ran",
                )
            )
    if config.late is not None and submitted_at:
        tasks = [late_task(task, config.late, parse_time(submitted_at)) for task in tasks]
    return StudentResult(
        student=student,
        tasks=tasks,
        notes=list(notes),
        sandbox=sandbox,
        seconds=round(seconds, 2),
        submitted_at=submitted_at,
    )


def late_task(task: TaskResult, policy: LatePolicy, submitted_at) -> TaskResult:
    """``task`` with the late penalty taken off its score (the tests keep their points, so
    each test's feedback still says what it earned), and a note saying why."""
    fraction = policy.fraction_lost(task.task, submitted_at)
    if not fraction:
        return task
    penalty = round(task.score * fraction, 4)
    note = "; ".join(part for part in (task.note, policy.describe(task.task, submitted_at)) if part)
    return TaskResult(
        task=task.task,
        score=round(task.score - penalty, 4),
        max_score=task.max_score,
        tests=task.tests,
        note=note,
        penalty=penalty,
    )
