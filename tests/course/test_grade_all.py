"""`grader grade-all`: a class of good and bad submissions, in parallel, resumable.

The class holds a correct and a partly wrong submission, and one of each kind of bad
submission (syntax error, missing function, wrong signature, exception at import, empty
folder, binary garbage, a notebook that is not JSON) plus a correct notebook. Each is graded
on two tasks (style_losses and conv); some bad style_losses submissions carry a correct
conv.py, which must still be graded. A run killed with SIGKILL half way and run again gives
the same class CSV as an uninterrupted run.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import practicum

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOOD = (practicum.REPO_ROOT / "solutions" / "style_losses.py").read_text()
GOOD_CONV = (FIXTURES / "conv" / "independent_formulas.py").read_text()


def notebook(source: str) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "source": source.splitlines(True),
                    "outputs": [],
                    "metadata": {},
                }
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def partly_wrong() -> str:
    wrong = sorted((FIXTURES / "style_losses" / "wrong").glob("*.py"))[0]
    base = (FIXTURES / "style_losses" / "independent_loops.py").read_text()
    return base + "\n\n" + wrong.read_text()


CLASS = {  # student -> {file name: text or bytes}
    "ada_correct": {"style_losses.py": GOOD, "conv.py": GOOD_CONV},
    "ben_partly_wrong": {"style_losses.py": partly_wrong()},
    "cat_syntax_error": {"style_losses.py": "def gram_matrix(features:\n", "conv.py": GOOD_CONV},
    "dan_missing_function": {"style_losses.py": GOOD.split("\ndef total_loss")[0] + "\n"},
    "eve_wrong_signature": {
        "style_losses.py": GOOD
        + (
            "\n\n_right_gram = gram_matrix\n\n\ndef gram_matrix(features):  # no normalize\n"
            "    return _right_gram(features)\n"
        )
    },
    "fay_raises_at_import": {
        "style_losses.py": "raise RuntimeError('broken on import')\n",
        "conv.py": GOOD_CONV,
    },
    "gus_empty": {},
    "hal_binary_garbage": {"style_losses.py": bytes(range(256)) * 8},
    "ivy_bad_notebook": {"style_losses.ipynb": '{"cells": [', "conv.py": GOOD_CONV},
    "joe_notebook": {"style_losses.ipynb": notebook(GOOD)},
}
TASKS = ["style_losses", "conv"]


def make_class(root: Path) -> Path:
    for student, files in CLASS.items():
        (root / student).mkdir(parents=True)
        for name, content in files.items():
            path = root / student / name
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return root


def command(submissions: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "practicum.grader.cli",
        "grade-all",
        str(submissions),
        "--out",
        str(out),
        "-j",
        "2",
        "--timeout",
        "10",
        *[part for task in TASKS for part in ("--task", task)],
    ]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("class")
    submissions = make_class(root / "submissions")
    completed = subprocess.run(
        command(submissions, root / "out"),
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-3000:]
    return root


def grades(root: Path) -> dict[str, dict]:
    return {
        path.parent.name: json.loads(path.read_text())
        for path in (root / "out").glob("*/grade.json")
    }


def task(grade: dict, name: str) -> dict:
    return next(item for item in grade["tasks"] if item["task"] == name)


def messages(grade: dict, name: str) -> list[str]:
    return [test["message"] for test in task(grade, name)["tests"] if test["outcome"] != "passed"]


def test_every_student_gets_reports_and_a_row_in_the_class_csv(uninterrupted):
    out = uninterrupted / "out"
    rows = list(csv.DictReader((out / "class.csv").open()))
    assert [row["student"] for row in rows] == sorted(CLASS)
    assert set(rows[0]) == {"student", *TASKS, "total", "max_score"}
    for student in CLASS:
        assert {"report.md", "report.html", "results.json", "grade.json"} <= {
            path.name for path in (out / student).iterdir()
        }


def test_a_correct_submission_gets_full_marks_and_a_partly_wrong_one_partial_credit(uninterrupted):
    everyone = grades(uninterrupted)
    ada = everyone["ada_correct"]
    assert ada["score"] == ada["max_score"] > 0
    ben = task(everyone["ben_partly_wrong"], "style_losses")
    assert 0 < ben["score"] < ben["max_score"]
    joe = task(everyone["joe_notebook"], "style_losses")
    assert joe["score"] == joe["max_score"]


@pytest.mark.parametrize(
    ("student", "phrase"),
    [
        ("cat_syntax_error", "SyntaxError at line 1"),
        ("fay_raises_at_import", "broken on import"),
        ("gus_empty", "has no module style_losses.py"),
        ("hal_binary_garbage", "could not be imported"),
        ("ivy_bad_notebook", "style_losses.ipynb is not valid JSON"),
    ],
)
def test_a_broken_task_scores_zero_with_a_clear_message_and_the_rest_is_graded(
    uninterrupted, student, phrase
):
    grade = grades(uninterrupted)[student]
    broken = task(grade, "style_losses")
    assert broken["score"] == 0 and broken["max_score"] > 0
    assert all(phrase in message for message in messages(grade, "style_losses"))
    assert phrase in (uninterrupted / "out" / student / "report.md").read_text()
    conv = task(grade, "conv")
    if "conv.py" in CLASS[student]:
        assert conv["score"] == conv["max_score"] > 0  # the rest is graded
    else:
        assert conv["score"] == 0


def test_missing_functions_and_wrong_signatures_fail_only_their_tests(uninterrupted):
    everyone = grades(uninterrupted)
    for student, function, phrase in [
        ("dan_missing_function", "total_loss", "has no function total_loss()"),
        ("eve_wrong_signature", "gram_matrix", "unexpected keyword argument 'normalize'"),
    ]:
        style = task(everyone[student], "style_losses")
        failed = [test for test in style["tests"] if test["outcome"] != "passed"]
        assert failed and 0 < style["score"] < style["max_score"]
        assert any(phrase in test["message"] for test in failed), failed[0]["message"]
        assert all(
            function in test["name"] or function in test["message"] or "gram" in test["name"]
            for test in failed
        )


def test_a_run_killed_half_way_and_rerun_gives_the_same_class_csv(uninterrupted, tmp_path):
    submissions = make_class(tmp_path / "submissions")
    out = tmp_path / "out"
    process = subprocess.Popen(
        command(submissions, out),
        cwd=practicum.REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 1800
    while len(list(out.glob("*/grade.json"))) < 3 and time.monotonic() < deadline:
        assert process.poll() is None, "grade-all ended before it could be killed"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the whole run: grade-all and its graders
    process.wait()
    done = len(list(out.glob("*/grade.json")))
    assert 3 <= done < len(CLASS), "not killed half way"
    assert not (out / "class.csv").exists()
    completed = subprocess.run(
        command(submissions, out),
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"{done} student(s) already graded" in completed.stdout
    assert (out / "class.csv").read_text() == (uninterrupted / "out" / "class.csv").read_text()
