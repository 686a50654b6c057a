"""Scores that a notebook cannot fake, and the same work the same score on every path.

One temporary nbgrader course (``generate_assignment``: a real gradebook), four
submissions of Assignment 3 put where ``nbgrader collect`` puts them:

* ``stub``: the released notebook, untouched;
* ``mallory``: the same stub, with the three written-answer cells turned into code cells
  with ``solution: false``, ``points: 1000`` and no outputs, and a check cell claiming
  1000 points with an output that says so (issue 11, item 1);
* ``typo``: the reference answers with one missing ``:`` (in ``content_loss``'s cell);
* ``planted``: the reference answers with two mistakes: the Gram matrix not normalised
  and ``accuracy`` returning a count (issue 12, item 2);
* ``raiser``: the reference answers, but ``content_loss``'s cell raises before its
  ``def`` when it runs.

``grader nbgrader-autograde`` grades all five; nbgrader's own ``autograde`` grades
``typo`` and ``planted`` in a copy of the course; the planted mistakes are also graded as
modules by ``grader grade``, ``grader grade-all`` (sandboxed) and Gradescope's
``run_autograder`` (built with the assignment's three tasks): five paths, one fraction.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.course.nbgrader_helpers import (
    BIN,
    COURSE_ID,
    ROOT,
    env,
    fill_in,
    have_nbgrader,
    make_course,
    nbgrader,
)
from tests.course.test_gradescope import run_autograder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.nbgrader,
    pytest.mark.skipif(not have_nbgrader(), reason="nbgrader is not installed"),
]

ASSIGNMENT = "assignment3"
TASKS = ("conv", "metrics", "style_losses")
WRITTEN = ("q_cifar_harder", "q_repeated_filter", "q_depth_conv")
TYPO = {
    "style_losses_content_loss": (
        "def content_loss(generated, target) -> tf.Tensor:",
        "def content_loss(generated, target) -> tf.Tensor",
    )
}
PLANTED = {
    "style_losses_gram_matrix": (
        "gram = gram / tf.cast(height * width, gram.dtype)",
        "gram = gram",
    ),
    "metrics_accuracy": ("float(np.mean(y_pred == y_true))", "float(np.sum(y_pred == y_true))"),
}
RAISER = {
    "style_losses_content_loss": (
        "def content_loss(generated, target) -> tf.Tensor:",
        "undefined_helper()\n\n\ndef content_loss(generated, target) -> tf.Tensor:",
    )
}
SOLUTION_FILES = {"style_losses_gram_matrix": "style_losses", "metrics_accuracy": "metrics"}


def scores_by_cell(course: Path, student: str) -> dict[str, float | None]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {grade.name: grade.auto_score for grade in notebook.grades}


def mallory(released: dict) -> dict:
    notebook = json.loads(json.dumps(released))
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade_id") in WRITTEN:
            cell.update(cell_type="code", outputs=[], execution_count=None)
            meta.update(solution=False, points=1000)
        elif meta.get("grade_id") == "check_conv_conv_output_shape":
            meta["points"] = 1000
            cell["outputs"] = [
                {
                    "output_type": "execute_result",
                    "execution_count": 1,
                    "metadata": {},
                    "data": {"text/plain": "1000.0"},
                }
            ]
    return notebook


def submit(course: Path, student: str, notebook_path: Path) -> None:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copy(notebook_path, folder / f"{ASSIGNMENT}.ipynb")
    (folder / "timestamp.txt").write_text("2024-05-01 12:00:00.000000 UTC")


def planted_modules(target: Path) -> Path:
    target.mkdir()
    for task in TASKS:
        code = (ROOT / "solutions" / f"{task}.py").read_text()
        for grade_id, (old, new) in PLANTED.items():
            if SOLUTION_FILES[grade_id] == task:
                assert old in code
                code = code.replace(old, new)
        (target / f"{task}.py").write_text(code)
    return target


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("integrity")
    course, exchange = make_course(tmp / "course"), tmp / "exchange"
    exchange.mkdir()
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course, exchange=exchange)
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    work = tmp / "work"
    work.mkdir()
    (work / "mallory.ipynb").write_text(json.dumps(mallory(json.loads(released.read_text()))))
    for student, changes in (("typo", TYPO), ("planted", PLANTED), ("raiser", RAISER)):
        shutil.copy(released, work / f"{student}.ipynb")
        fill_in(work / f"{student}.ipynb", source, changes=changes)
    shutil.copy(released, work / "stub.ipynb")
    own = tmp / "own"
    shutil.copytree(course, own)
    for student in ("stub", "mallory", "typo", "planted", "raiser"):
        submit(course, student, work / f"{student}.ipynb")
    for student in ("typo", "planted"):
        submit(own, student, work / f"{student}.ipynb")

    done = subprocess.run(
        [str(BIN / "grader"), "nbgrader-autograde", str(course), ASSIGNMENT],
        env=env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    nbgrader("autograde", ASSIGNMENT, cwd=own, exchange=exchange)
    report = tmp / "report"
    graded_modules = subprocess.run(
        [
            str(BIN / "grader"),
            "grade",
            str(planted_modules(tmp / "planted_modules")),
            "--out",
            str(report),
            *[arg for task in TASKS for arg in ("--task", task)],
        ],
        env=env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert graded_modules.returncode in (0, 1), graded_modules.stdout + graded_modules.stderr
    tasks = [arg for task in TASKS for arg in ("--task", task)]
    shutil.copytree(tmp / "planted_modules", tmp / "class" / "planted")
    class_run = subprocess.run(
        [
            str(BIN / "grader"),
            "grade-all",
            str(tmp / "class"),
            "--out",
            str(tmp / "class_out"),
            *tasks,
        ],
        env=env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert class_run.returncode == 0, class_run.stdout + class_run.stderr
    zip_path = tmp / "autograder.zip"
    built = subprocess.run(
        [str(BIN / "grader"), "gradescope", "build", "--out", str(zip_path), *tasks],
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    gradescope = run_autograder(
        zip_path,
        tmp / "gradescope",
        {path.name: path.read_text() for path in (tmp / "planted_modules").glob("*.py")},
    )
    return {
        "course": course,
        "own": own,
        "log": done.stdout + done.stderr,
        "grade": json.loads((report / "grade.json").read_text()),
        "class": list(csv.DictReader((tmp / "class_out" / "class.csv").open())),
        "gradescope": gradescope,
    }


def test_a_notebook_whose_cells_claim_points_gets_exactly_what_the_stub_gets(graded):
    stub = scores_by_cell(graded["course"], "stub")
    attack = scores_by_cell(graded["course"], "mallory")
    assert attack == stub
    assert sum(score or 0.0 for score in attack.values()) == 0.0
    assert all(stub[grade_id] == 0.0 for grade_id in WRITTEN)  # unchanged: 0, as nbgrader


def test_what_was_ignored_is_said_without_quoting_the_submission(graded):
    log = graded["log"]
    for grade_id in WRITTEN:
        assert (
            f"mallory: cell '{grade_id}' was handed in as a code cell with changed "
            f"solution, points: graded as the source's markdown written answer"
        ) in log
    assert (
        "mallory: cell 'check_conv_conv_output_shape' was handed in as a code cell with "
        "changed points: graded as the source's code check cell"
    ) in log
    assert "1000" not in log
    assert "stub: cell" not in log  # an untouched notebook has nothing to report


def test_a_syntax_error_in_one_cell_costs_only_what_that_cell_defines(graded):
    ours = scores_by_cell(graded["course"], "typo")
    theirs = scores_by_cell(graded["own"], "typo")
    assert ours["check_style_losses_content_loss"] == 0.0
    assert theirs["check_style_losses_content_loss"] == 0.0
    for grade_id, score in ours.items():
        if grade_id.startswith("check_") and grade_id != "check_style_losses_content_loss":
            assert score > 0, grade_id
            assert score == pytest.approx(theirs[grade_id], abs=1e-3), grade_id
    assert (
        "typo: cell 29 (style_losses_content_loss) does not compile (line 1: expected ':')"
    ) in graded["log"]


def test_a_cell_that_raises_costs_only_what_it_defines_and_is_named(graded):
    raiser = scores_by_cell(graded["course"], "raiser")
    typo = scores_by_cell(graded["course"], "typo")
    assert raiser == typo  # both lose content_loss's checks, and only those
    assert (
        "raiser: cell 29 (style_losses_content_loss) raised NameError when it ran: the "
        "rest of that cell did not run"
    ) in graded["log"]


def test_the_planted_mistakes_score_the_same_fraction_on_every_path(graded):
    ours = scores_by_cell(graded["course"], "planted")
    theirs = scores_by_cell(graded["own"], "planted")
    checks = [grade_id for grade_id in ours if grade_id.startswith("check_")]
    for grade_id in checks:
        assert ours[grade_id] == pytest.approx(theirs[grade_id], abs=1e-3), grade_id
    grade = graded["grade"]
    by_grade = grade["score"] / grade["max_score"]
    assert grade["max_score"] == 40.0
    assert sum(ours[g] for g in checks) / 40.0 == pytest.approx(by_grade, abs=1e-3)
    assert sum(theirs[g] for g in checks) / 40.0 == pytest.approx(by_grade, abs=1e-3)
    assert 0.5 < by_grade < 1.0
    [planted] = graded["class"]
    assert float(planted["total"]) / float(planted["max_score"]) == pytest.approx(
        by_grade, abs=1e-3
    )
    gradescope = graded["gradescope"]
    assert sum(test["max_score"] for test in gradescope["tests"]) == pytest.approx(40.0)
    assert gradescope["score"] / 40.0 == pytest.approx(by_grade, abs=1e-3)
    assert ours["check_conv_conv_output_shape"] == theirs["check_conv_conv_output_shape"] > 0
