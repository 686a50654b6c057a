"""The graders graded: known right and wrong implementations get the verdicts they deserve.

For every task with a folder ``tests/fixtures/<task>/``, each implementation there is graded
with the public and hidden tests and the derandomised grading profile, by ``grader compare``
in separate processes, as an instructor would run it. See ``tests/fixtures/README.md``.
A correct implementation also earns every point: no passing test of it is withheld by the
value-test rule (:mod:`practicum.grader.grading.scoring`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import practicum
from practicum.grader.grading import scoring
from tests.support.submissions import on_top_of_the_stub
from tests.support.verdicts import record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TASKS = sorted(
    path.name for path in FIXTURES.iterdir() if path.is_dir() and any(path.glob("independent_*.py"))
)


def independent(task: str) -> list[str]:
    return sorted(path.stem for path in (FIXTURES / task).glob("independent_*.py"))


def wrong(task: str) -> list[str]:
    return sorted(path.stem for path in (FIXTURES / task / "wrong").glob("*.py"))


def directive(task: str, name: str, key: str) -> str | None:
    text = (FIXTURES / task / "wrong" / f"{name}.py").read_text()
    match = re.search(rf"^# {key}: (.+)$", text, re.M)
    return match.group(1).strip() if match else None


KNOWN_RIGHT = [(task, name) for task in TASKS for name in independent(task)]
KNOWN_WRONG = [(task, name) for task in TASKS for name in wrong(task)]
BROKEN = {  # style_losses submissions that cannot even be imported
    "empty_submission": None,
    "syntax_error": "def gram_matrix(features, normalize=True)\n    return features\n",
    "raises_at_import": "raise RuntimeError('this submission breaks on import')\n",
}


def submission_sources() -> dict[str, tuple[str, str | None]]:
    """``label -> (task, module text)`` for every known implementation."""
    sources: dict[str, tuple[str, str | None]] = {}
    for task, name in KNOWN_RIGHT:
        sources[f"{task}--{name}"] = (
            task,
            on_top_of_the_stub(task, (FIXTURES / task / f"{name}.py").read_text()),
        )
    for task, name in KNOWN_WRONG:
        base = directive(task, name, "base") or independent(task)[0]
        sources[f"{task}--{name}"] = (
            task,
            on_top_of_the_stub(
                task,
                (FIXTURES / task / f"{base}.py").read_text(),
                (FIXTURES / task / "wrong" / f"{name}.py").read_text(),
            ),
        )
    for name, text in BROKEN.items():
        sources[f"style_losses--{name}"] = ("style_losses", text)
    base = (FIXTURES / "style_losses" / "independent_loops.py").read_text()
    sources["style_losses--missing_total_loss"] = (
        "style_losses",
        base.split("\n\ndef total_loss")[0] + "\n",
    )
    return sources


def grade(paths: list[str], report: Path, tasks: list[str]) -> dict[str, list[dict]]:
    """Runs ``grader compare`` in its own process; returns ``path -> outcome rows``."""
    selection = [arg for task in tasks for arg in ("--task", task)]
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "practicum.grader.cli",
            "compare",
            *paths,
            *selection,
            "--sandbox",
            "off",
            "--json",
            str(report),
        ],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(report.read_text())


def selected_tasks(session: pytest.Session) -> set[str] | None:
    """The tasks whose tests this run selected (``-k metrics`` grades only metrics's
    fixtures), or None when a test here needs every task."""
    tasks = set()
    for item in session.items:
        if item.module.__name__ != __name__:
            continue
        params = getattr(item, "callspec", None)
        task = params.params.get("task") if params else None
        if task is None:
            return None
        tasks.add(task)
    return tasks


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory, request) -> dict[str, list[dict]]:
    """``label -> outcome rows of that submission's own task``; ``exercises`` -> all rows."""
    root = tmp_path_factory.mktemp("submissions")
    sources = submission_sources()
    wanted = selected_tasks(request.session)
    if wanted is not None:
        sources = {label: source for label, source in sources.items() if source[0] in wanted}
    by_task: dict[str, list[str]] = {}
    for label, (task, text) in sources.items():
        (root / label).mkdir()
        if text is not None:
            (root / label / f"{task}.py").write_text(text)
        by_task.setdefault(task, []).append(str(root / label))
    # One grader process per task, with only that task's tests, two at a time (one per
    # core); the stubs are graded on every task.
    jobs = [(["exercises"], root / "exercises.json", [])] if wanted is None else []
    jobs += [(paths, root / f"{task}.json", [task]) for task, paths in by_task.items()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: grade(*job), jobs))
    verdicts = {}
    for raw in results:
        for key, rows in raw.items():
            verdicts[Path(key).name] = rows
    if wanted is None:
        record("known_implementations", verdicts)  # compared across TensorFlow versions
    return verdicts


def failures(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["outcome"] != "passed"]


@pytest.mark.parametrize(("task", "name"), KNOWN_RIGHT)
def test_an_independently_written_correct_implementation_passes_every_test(verdicts, task, name):
    rows = verdicts[f"{task}--{name}"]
    assert rows, f"no tests ran for {name}"
    assert not failures(rows), "\n".join(
        f"{row['name']}: {row['message'][:300]}" for row in failures(rows)
    )


@pytest.mark.parametrize(("task", "name"), KNOWN_RIGHT)
def test_an_independently_written_correct_implementation_earns_every_point(verdicts, task, name):
    config = scoring.load_config(practicum.REPO_ROOT / "grading.toml")
    result = scoring.score_task(task, verdicts[f"{task}--{name}"], config)
    assert result.score == result.max_score == config.task_points(task), [
        (test.name, test.withheld) for test in result.tests if test.withheld
    ]


@pytest.mark.parametrize("visibility", ["public", "hidden"])
@pytest.mark.parametrize(("task", "name"), KNOWN_WRONG)
def test_a_plausible_mistake_fails_with_feedback_that_names_it(verdicts, task, name, visibility):
    """The student's own run (public tests) names the mistake, and so does the grading."""
    failed = [
        row for row in failures(verdicts[f"{task}--{name}"]) if row["visibility"] == visibility
    ]
    assert failed, f"the wrong implementation {task}/{name} passed every {visibility} test"
    phrase = directive(task, name, "expect")
    assert phrase, f"{task}/wrong/{name}.py has no '# expect:' line"
    messages = [row["message"] for row in failed]
    assert any(phrase in message for message in messages), (
        f"no {visibility} feedback for {name} mentions {phrase!r}; the messages were:\n"
        + "\n".join(message.splitlines()[0] for message in messages if message)
    )


def test_the_stubs_fail_every_task_test_with_not_implemented(verdicts):
    rows = verdicts["exercises"]
    assert rows and all(row["outcome"] == "failed" for row in rows)
    assert all("not implemented yet" in row["message"] for row in rows), [
        row["message"][:120] for row in rows if "not implemented yet" not in row["message"]
    ]


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("empty_submission", "has no module style_losses.py"),
        ("syntax_error", "SyntaxError at line 1"),
        ("raises_at_import", "this submission breaks on import"),
    ],
)
def test_a_broken_submission_fails_its_tests_with_a_clear_message(verdicts, name, phrase):
    rows = verdicts[f"style_losses--{name}"]
    assert rows and all(row["outcome"] == "failed" for row in rows)
    assert all(phrase in row["message"] for row in rows), rows[0]["message"]


def test_a_missing_function_fails_only_the_tests_that_need_it(verdicts):
    rows = verdicts["style_losses--missing_total_loss"]
    failed = failures(rows)
    assert failed and all("total_loss" in row["name"] for row in failed)
    assert all("has no function total_loss()" in row["message"] for row in failed)
    assert sum(row["outcome"] == "passed" for row in rows) == len(rows) - len(failed) > 20
