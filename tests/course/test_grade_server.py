"""The warm grader: one grader process grades student after student (``grade-all`` with a
sandbox), and what one student's code does never reaches the next student's grade.

Each student's code runs in a sandboxed worker of its own; the grader process that is kept
runs only the course's code. The leaking student below changes everything its process can
reach at import (numpy, builtins, the environment, a file in its working directory); the
next student's ``accuracy`` answers wrongly if it finds any of it. Graded one after the
other in the same warm process, the second still earns full marks, as a fresh process gives.
"""

from __future__ import annotations

import json

import pytest

import practicum
from practicum.grader.grading import grade
from practicum.grader.grading.grade_server import WarmGrader
from practicum.grader.sandbox import bwrap_problem, process_problem

GOOD = (practicum.REPO_ROOT / "solutions" / "metrics.py").read_text()
LEAKER = GOOD + (
    "\nimport builtins, os\n"
    "import numpy\n"
    "numpy.LEAKED = builtins.LEAKED = True\n"
    "os.environ['LEAKED'] = '1'\n"
    "open('LEAKED', 'w').write('1')\n"
)
CHECKER = GOOD + (
    "\nimport builtins, os\n"
    "import numpy\n"
    "_right_accuracy = accuracy\n\n\n"
    "def accuracy(*args, **kwargs):\n"
    "    leaked = (getattr(numpy, 'LEAKED', False) or getattr(builtins, 'LEAKED', False)\n"
    "              or 'LEAKED' in os.environ or os.path.exists('LEAKED'))\n"
    "    return -1.0 if leaked else _right_accuracy(*args, **kwargs)\n"
)


def request(folder, out, student):
    return {
        "submission": str(folder),
        "out": str(out),
        "student": student,
        "sandbox": "auto",
        "tasks": ["metrics"],
    }


@pytest.fixture
def students(tmp_path):
    if bwrap_problem() and process_problem():
        pytest.skip(f"no sandbox here: {bwrap_problem()}; {process_problem()}")
    for name, text in (("leaker", LEAKER), ("checker", CHECKER)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.py").write_text(text)
    return tmp_path


def score(out) -> float:
    return json.loads((out / "grade.json").read_text())["score"]


def test_one_student_s_state_never_reaches_the_next_in_a_warm_grader(students, tmp_path):
    grader = WarmGrader()
    try:
        for name in ("leaker", "checker"):
            reply = grader.grade(request(students / name, tmp_path / f"out-{name}", name), 600)
            assert reply == {"ok": True}, reply
        assert grader.starts == 1  # both in one grader process
    finally:
        grader.close()
    full = score(tmp_path / "out-leaker")
    assert full > 0
    assert score(tmp_path / "out-checker") == full  # the leak never reached it
    alone = grade.grade_submission(
        students / "checker", tmp_path / "alone", student="checker", tasks=["metrics"]
    )
    assert alone.score == full  # the same as a fresh process


def test_a_failed_request_is_reported_and_the_next_student_is_still_graded(students, tmp_path):
    grader = WarmGrader()
    try:
        broken = {**request(students / "checker", tmp_path / "x", "x"), "sandbox": "off"}
        reply = grader.grade(broken, 600)
        assert reply["ok"] is False and "sandbox only" in reply["error"]
        reply = grader.grade(request(students / "leaker", tmp_path / "ok", "ok"), 600)
        assert reply == {"ok": True} and grader.starts == 1
    finally:
        grader.close()


def test_a_student_over_the_time_limit_stops_the_process_and_the_next_gets_a_new_one(
    students, tmp_path
):
    grader = WarmGrader()
    try:
        reply = grader.grade(request(students / "leaker", tmp_path / "slow", "slow"), 0.5)
        assert reply == {"ok": False, "error": "grading took more than 0.5 s"}
        assert grader.process is None  # killed
        reply = grader.grade(request(students / "checker", tmp_path / "next", "next"), 600)
        assert reply == {"ok": True} and grader.starts == 2
    finally:
        grader.close()
