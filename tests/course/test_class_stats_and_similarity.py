"""What a TA reads before a section: ``grader stats`` and ``grader similarity`` on a class.

A class of known implementations of the metrics task, graded once: one written
independently and right; two students who made the same classic mistake (accuracy as a
count) in two different, independently written modules; and a fourth who copied the first
student's module and renamed a few variables.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

import practicum
from tests.support.submissions import known

pytestmark = pytest.mark.slow
CLASS = {
    "ann": ("independent_onehot", None),
    "ben": ("accuracy_count", "independent_vectorised"),
    "cat": ("accuracy_count", "independent_loops"),
}


def grader(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "practicum.grader.cli", *map(str, args)],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("section")
    for student, (fixture, base) in CLASS.items():
        (root / "submitted" / student).mkdir(parents=True)
        (root / "submitted" / student / "metrics.py").write_text(known("metrics", fixture, base))
    copied = (root / "submitted" / "ann" / "metrics.py").read_text()
    for old, new in (("labels", "targets"), ("probs", "scores"), ("count", "n")):
        copied = re.sub(rf"\b{old}\b", new, copied)
    (root / "submitted" / "fay").mkdir()
    (root / "submitted" / "fay" / "metrics.py").write_text(copied)
    done = grader(
        "grade-all", root / "submitted", "--out", root / "out", "--task", "metrics", "-j", "2"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root


def test_stats_rank_the_tests_and_name_the_class_s_most_common_mistake(graded_class):
    done = grader("stats", graded_class / "out", "--out", graded_class / "stats")
    assert done.returncode == 0, done.stderr
    stats = graded_class / "stats"
    mistakes = list(csv.DictReader((stats / "mistakes.csv").open()))
    assert mistakes[0]["students"] == "2" and "fraction" in mistakes[0]["mistake"]
    tests = list(csv.DictReader((stats / "tests.csv").open()))
    rates = [float(row["pass_rate"]) for row in tests]
    assert rates == sorted(rates) and rates[0] < 1.0 and rates[-1] == 1.0
    assert all(row["students"] == "4" for row in tests)
    for name in ("stats.md", "scores.png", "failures.png"):
        assert (stats / name).stat().st_size > 0
    assert "| metrics | 4 |" in (stats / "stats.md").read_text()


def test_similarity_puts_the_copied_submission_on_top_and_changes_no_score(graded_class):
    before = (graded_class / "out" / "class.csv").read_text()
    done = grader(
        "similarity", graded_class / "submitted", "--out", graded_class / "sim", "--task", "metrics"
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((graded_class / "sim" / "similarity.csv").open()))
    assert len(rows) == 6  # every pair of four students
    assert {rows[0]["first"], rows[0]["second"]} == {"ann", "fay"}
    assert float(rows[0]["share_of_first"]) > 0.5
    assert all(float(row["share_of_first"]) < 0.5 for row in rows[1:])  # written apart
    html = (graded_class / "sim" / "similarity.html").read_text()
    assert "ann" in html and "<script" not in html
    assert (graded_class / "out" / "class.csv").read_text() == before


def test_stats_and_similarity_refuse_what_they_cannot_read(tmp_path):
    done = grader("stats", tmp_path / "nothing", "--out", tmp_path / "stats")
    assert done.returncode == 2 and "no <student>/grade.json" in done.stderr
    done = grader("similarity", tmp_path / "nothing", "--out", tmp_path / "sim")
    assert done.returncode == 2 and "is not a folder" in done.stderr
