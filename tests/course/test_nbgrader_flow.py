"""nbgrader end to end, with nbgrader's own commands, a real exchange and gradebook.

In a temporary course and exchange: ``generate_assignment``, ``release_assignment``,
``fetch_assignment`` by two students (each in their own folder), who fill in the notebook
(alice with the reference answers, bob with two mistakes), ``submit``, ``collect``,
``autograde``, ``generate_feedback``, ``export``. Then the same submissions, in a copy of
the course taken after ``collect``, are graded by ``grader nbgrader-autograde`` (the code in
the sandbox) and exported again: the grades must agree, cell by cell.

Assignment 3 runs here; Assignment 2 runs top to bottom in test_nbgrader_notebooks.py.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.course.nbgrader_helpers import (
    BIN,
    COURSE_ID,
    env,
    fill_in,
    have_nbgrader,
    make_course,
    nbgrader,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.nbgrader,
    pytest.mark.skipif(not have_nbgrader(), reason="nbgrader is not installed"),
]

ASSIGNMENT = "assignment3"
FULL = 40.0  # the check cells of Assignment 3
# bob's mistakes, each caught by the tests of its own part only: total_loss weights
# content by w, log_loss clips only from below (the probability metrics),
# pool_output_shape moves by 1 instead of the window by default
BOB_CHANGES = {
    "style_losses_total_loss": (
        "weight * style + (1.0 - weight) * content",
        "weight * content + (1.0 - weight) * style",
    ),
    "metrics_log_loss": ("np.clip(picked, eps, 1.0 - eps)", "np.clip(picked, eps, 1.0)"),
    "conv_pool_output_shape": (
        "strides = window if stride is None else stride",
        "strides = 1 if stride is None else stride",
    ),
}
BOB_LOSES = (
    "check_style_losses_total_loss",
    "check_metrics_probability_metrics",
    "check_conv_pool_output_shape",
)  # some of those parts' points, no others'


def scores_by_cell(course: Path, student: str) -> dict[str, float | None]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {grade.name: grade.auto_score for grade in notebook.grades}


def exported(course: Path, exchange: Path) -> dict[str, dict[str, str]]:
    nbgrader("export", "--to", "grades.csv", cwd=course, exchange=exchange)
    with open(course / "grades.csv", newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nbgrader")
    course, exchange = make_course(tmp / "course"), tmp / "exchange"
    exchange.mkdir()
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course, exchange=exchange)
    nbgrader("release_assignment", ASSIGNMENT, cwd=course, exchange=exchange)
    source = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    work = {}
    for student, changes in (("alice", {}), ("bob", BOB_CHANGES)):
        home = tmp / student
        home.mkdir()
        nbgrader(
            "fetch_assignment", ASSIGNMENT, f"--course={COURSE_ID}", cwd=home, exchange=exchange
        )
        notebook = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        answers = {"q_cifar_harder": "Colour photos of objects vary much more than digits."}
        if student == "alice":
            answers["q_depth_conv"] = "Better up to a few layers, then it levels off."
        fill_in(notebook, source, changes=changes, answers=answers)
        nbgrader(
            "submit",
            ASSIGNMENT,
            f"--course={COURSE_ID}",
            f"--student={student}",
            cwd=home,
            exchange=exchange,
        )
        work[student] = notebook
    nbgrader("collect", ASSIGNMENT, cwd=course, exchange=exchange)
    sandboxed = tmp / "sandboxed"
    shutil.copytree(course, sandboxed)  # the course as it is after collect
    # a third submission that is not a notebook at all: only for the sandboxed path
    broken = sandboxed / "submitted" / "carol" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [ this is not json')

    nbgrader("autograde", ASSIGNMENT, cwd=course, exchange=exchange)
    nbgrader("generate_feedback", ASSIGNMENT, cwd=course, exchange=exchange)
    done = subprocess.run(
        [str(BIN / "grader"), "nbgrader-autograde", str(sandboxed), ASSIGNMENT],
        env=env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    nbgrader("generate_feedback", ASSIGNMENT, cwd=sandboxed, exchange=exchange)
    return {
        "course": course,
        "exchange": exchange,
        "sandboxed": sandboxed,
        "work": work,
        "log": done.stdout + done.stderr,
        "nbgrader_csv": exported(course, exchange),
        "sandboxed_csv": exported(sandboxed, exchange),
    }


def test_the_released_notebook_has_no_solution_and_no_hidden_test(flow):
    released = json.loads(
        (flow["course"] / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    )
    text = "\n".join("".join(cell["source"]) for cell in released["cells"])
    assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
    assert "BEGIN SOLUTION" not in text and "A model answer" not in text
    assert "raise NotImplementedError()" in text
    assert 'check(globals(), "conv", "conv_output_shape")' in text  # public checks stay


def test_nbgrader_autograde_gives_alice_everything_and_bob_all_but_his_mistakes(flow):
    alice = scores_by_cell(flow["course"], "alice")
    bob = scores_by_cell(flow["course"], "bob")
    checks = {name: score for name, score in alice.items() if name.startswith("check_")}
    assert len(checks) == 11
    assert sum(checks.values()) == pytest.approx(FULL, abs=1e-3)
    for name, score in bob.items():
        if name in BOB_LOSES:  # partial credit: the share of each test that passes
            assert 0.0 <= score < alice[name], name
        elif name.startswith("check_"):
            assert score == alice[name], name
    # written answers: given ones wait for a grader, a blank one scores 0
    assert alice["q_depth_conv"] is None and bob["q_depth_conv"] == 0.0
    assert alice["q_cifar_harder"] is None and alice["q_repeated_filter"] == 0.0


def test_the_export_has_the_right_totals(flow):
    rows = flow["nbgrader_csv"]
    bob = scores_by_cell(flow["course"], "bob")
    assert float(rows["alice"]["score"]) == pytest.approx(FULL, abs=1e-3)
    assert float(rows["bob"]["score"]) == pytest.approx(
        sum(score or 0.0 for score in bob.values()), abs=1e-3
    )
    assert float(rows["bob"]["score"]) < FULL - 1
    assert float(rows["alice"]["max_score"]) == pytest.approx(FULL + 15.0)  # and 15 written


def test_the_feedback_shows_the_failures_but_not_the_hidden_tests(flow):
    for student in ("alice", "bob"):
        html = (
            flow["course"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        ).read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "hidden=True" not in html
        assert "check_metrics_probability_metrics" in html or "probability_metrics" in html
    bob = (flow["course"] / "feedback" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "grading checks pass" in bob and "log_loss" in bob


def test_the_sandboxed_autograde_gives_the_same_grades_as_nbgrader(flow):
    for student in ("alice", "bob"):
        ours, theirs = (
            scores_by_cell(flow["sandboxed"], student),
            scores_by_cell(flow["course"], student),
        )
        assert ours.keys() == theirs.keys()
        for name, score in theirs.items():  # the same partial credit, within rounding
            assert ours[name] == (score if score is None else pytest.approx(score, abs=1e-3))
        ours, theirs = flow["sandboxed_csv"][student], flow["nbgrader_csv"][student]
        for column in ("raw_score", "score", "max_score"):
            assert float(ours[column]) == pytest.approx(float(theirs[column]), abs=1e-2)


def test_a_malformed_notebook_scores_zero_with_a_message_and_the_others_are_graded(flow):
    assert "carol: assignment3.ipynb is not valid JSON" in flow["log"]
    assert "could not be read" in flow["log"]
    rows = flow["sandboxed_csv"]
    assert float(rows["carol"]["score"]) == 0.0
    assert float(rows["alice"]["score"]) == pytest.approx(FULL, abs=1e-3)


def test_the_sandboxed_path_rebuilds_modules_as_the_kernel_sees_them(flow):
    from practicum.grader.grading.nbgrader_submissions import read_notebook, task_modules

    source = read_notebook(flow["course"] / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    submitted = read_notebook(
        flow["course"] / "submitted" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    )
    modules = task_modules(source, submitted)
    assert sorted(modules) == ["conv", "metrics", "style_losses"]
    assert "weight * content + (1.0 - weight) * style" in modules["style_losses"]
    assert "def conv_output_shape" in modules["metrics"]  # what the kernel has defined
    assert "def gram_matrix" not in modules["metrics"]
    assert all("check(globals()" not in text for text in modules.values())
    assert json.dumps(modules)  # plain text


def test_the_sandboxed_path_says_which_sandbox_graded(flow):
    assert re.search(
        r"grading assignment3 with --sandbox (bwrap|process): 3 submission", flow["log"]
    )
    assert "SAWarning" not in flow["log"] and "MovedIn20Warning" not in flow["log"]


def test_the_sandboxed_path_gives_every_student_nbgraders_feedback_without_hidden_tests(flow):
    for student in ("alice", "bob", "carol"):
        html = (
            flow["sandboxed"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        ).read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "hidden=True" not in html, student
        assert "def test_" not in html, student
    bob = (flow["sandboxed"] / "feedback" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "grading checks pass" in bob and "log_loss" in bob
    carol = (
        flow["sandboxed"] / "feedback" / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    ).read_text()
    assert "could not be read" in carol


def test_the_sandboxed_feedback_shows_the_gradebook_s_scores(flow):
    for student in ("alice", "bob"):
        html = (
            flow["sandboxed"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        ).read_text()
        total = float(flow["sandboxed_csv"][student]["score"])
        shown = re.search(r"Score:\s*([0-9.]+)\s*/\s*([0-9.]+)", html)
        assert shown, html[:2000]
        assert float(shown.group(1)) == pytest.approx(total, abs=0.01)
