"""The graders graded: known right and wrong implementations get the verdicts they deserve.

Every implementation below is graded once, in one ``grader grade`` run (a separate process,
as an instructor would run it), with the public and hidden tests and the derandomised
grading profile. The fixtures are described in ``tests/fixtures/README.md``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import practicum

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "style_losses"
WRONG = sorted(path.stem for path in (FIXTURES / "wrong").glob("*.py"))
INDEPENDENT = ["independent_loops", "independent_tnp"]
BROKEN = {
    "empty_submission": None,
    "syntax_error": "def gram_matrix(features, normalize=True)\n    return features\n",
    "raises_at_import": "raise RuntimeError('this submission breaks on import')\n",
}


def expected_phrase(name: str) -> str:
    match = re.search(r"^# expect: (.+)$", (FIXTURES / "wrong" / f"{name}.py").read_text(), re.M)
    assert match, f"{name}.py has no '# expect:' line"
    return match.group(1).strip()


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("submissions")
    base = (FIXTURES / "independent_loops.py").read_text()
    submissions = {}
    for name in INDEPENDENT:
        submissions[name] = (FIXTURES / f"{name}.py").read_text()
    for name in WRONG:
        submissions[name] = base + "\n\n# --- the mistake ---\n" + (
            FIXTURES / "wrong" / f"{name}.py").read_text()
    submissions.update(BROKEN)
    submissions["missing_total_loss"] = base.split("\n\ndef total_loss")[0] + "\n"
    for name, text in submissions.items():
        (root / name).mkdir()
        if text is not None:
            (root / name / "style_losses.py").write_text(text)
    paths = ["exercises", *(str(root / name) for name in submissions)]
    # Two graders side by side, one per core: each imports TensorFlow once.
    halves = [paths[0::2], paths[1::2]]
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "practicum.grader.cli", "grade", *half, "--task", "style_losses",
             "--json", str(root / f"verdicts{index}.json")],
            cwd=practicum.REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for index, half in enumerate(halves)
    ]
    verdicts = {}
    for index, process in enumerate(running):
        _, stderr = process.communicate(timeout=900)
        assert process.returncode == 0, stderr[-3000:]
        raw = json.loads((root / f"verdicts{index}.json").read_text())
        verdicts.update({Path(key).name: rows for key, rows in raw.items()})
    return verdicts


def failures(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["outcome"] != "passed"]


@pytest.mark.parametrize("name", INDEPENDENT)
def test_an_independently_written_correct_implementation_passes_every_test(verdicts, name):
    rows = verdicts[name]
    assert rows, f"no tests ran for {name}"
    assert not failures(rows), "\n".join(
        f"{row['name']}: {row['message'][:300]}" for row in failures(rows))


@pytest.mark.parametrize("name", WRONG)
def test_a_plausible_mistake_fails_with_feedback_that_names_it(verdicts, name):
    failed = failures(verdicts[name])
    assert failed, f"the wrong implementation {name} passed every test"
    phrase = expected_phrase(name)
    messages = [row["message"] for row in failed]
    assert any(phrase in message for message in messages), (
        f"no feedback for {name} mentions {phrase!r}; the messages were:\n"
        + "\n".join(message.splitlines()[0] for message in messages if message)
    )


def test_the_stubs_fail_every_task_test_with_not_implemented(verdicts):
    rows = verdicts["exercises"]
    assert rows and all(row["outcome"] == "failed" for row in rows)
    assert all("not implemented yet" in row["message"] for row in rows), [
        row["message"][:120] for row in rows if "not implemented yet" not in row["message"]]


@pytest.mark.parametrize(("name", "phrase"), [
    ("empty_submission", "has no module style_losses.py"),
    ("syntax_error", "SyntaxError at line 1"),
    ("raises_at_import", "this submission breaks on import"),
])
def test_a_broken_submission_fails_its_tests_with_a_clear_message(verdicts, name, phrase):
    rows = verdicts[name]
    assert rows and all(row["outcome"] == "failed" for row in rows)
    assert all(phrase in row["message"] for row in rows), rows[0]["message"]


def test_a_missing_function_fails_only_the_tests_that_need_it(verdicts):
    rows = verdicts["missing_total_loss"]
    failed = failures(rows)
    assert failed and all("total_loss" in row["name"] for row in failed)
    assert all("has no function total_loss()" in row["message"] for row in failed)
    assert sum(row["outcome"] == "passed" for row in rows) == len(rows) - len(failed) > 20
