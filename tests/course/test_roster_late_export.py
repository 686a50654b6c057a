"""A term's bookkeeping around the grades: the roster, late work, and LMS exports.

One class is graded once (the conv task, real sandboxed grading): alice on time (the
instructor's ``--times`` CSV), bob two started days late (nbgrader's ``timestamp.txt``),
dave handed in but is not on the roster, carol is on the roster and handed nothing in.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import practicum
from practicum.grader.grading import late, roster

from .test_scoring_reports import validate_gradescope

pytestmark = pytest.mark.slow
CORRECT = (practicum.REPO_ROOT / "solutions" / "conv.py").read_text()
CONFIG = """
[tasks.conv]
points = 10

[late]
due = 2026-12-10T23:59:00Z
per = "day"
penalty = 0.1
cap = 0.5
grace_minutes = 5
"""
ROSTER = """id,first_name,last_name,email,lms_user_id
alice,Alice,Liddell,alice@example.org,1001
bob,Bob,Marley,bob@example.org,1002
carol,=cmd|' /C calc'!A0,Carol,carol@example.org,1003
"""


def grader(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "practicum.grader.cli", *map(str, args)],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def table(path: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader(path.open())}


@pytest.fixture(scope="module")
def term(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("term")
    for student in ("alice", "bob", "dave"):
        (root / "submitted" / student).mkdir(parents=True)
        (root / "submitted" / student / "conv.py").write_text(CORRECT)
    (root / "submitted" / "bob" / "timestamp.txt").write_text("2026-12-12 08:00:00.000000 UTC")
    (root / "grading.toml").write_text(CONFIG)
    (root / "roster.csv").write_text(ROSTER)
    (root / "times.csv").write_text("student,submitted_at\nalice,2026-12-10T22:00:00Z\n")
    done = grader(
        "grade-all",
        root / "submitted",
        "--out",
        root / "out",
        "--task",
        "conv",
        "--config",
        root / "grading.toml",
        "--roster",
        root / "roster.csv",
        "--times",
        root / "times.csv",
        "-j",
        "2",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"root": root, "log": done.stdout, "csv": table(root / "out" / "class.csv")}


def test_the_class_csv_lists_the_roster_with_the_missing_student_at_zero(term):
    rows = term["csv"]
    assert set(rows) == {"alice", "bob", "carol", "dave"}
    assert rows["carol"]["status"] == "missing" and rows["carol"]["total"] == "0.00"
    assert rows["dave"]["status"] == "not on the roster" and rows["dave"]["total"] == "10.00"
    assert rows["alice"]["status"] == "" and rows["alice"]["name"] == "Alice Liddell"
    assert rows["carol"]["name"].startswith("'")  # a formula in the roster stays text
    assert "1 on the roster handed nothing in: carol" in term["log"]
    assert "1 folder(s) not on the roster: dave" in term["log"]


def test_a_late_submission_loses_its_share_and_the_report_says_why(term):
    rows = term["csv"]
    assert rows["alice"]["total"] == "10.00" and rows["alice"]["late_penalty"] == "0.00"
    assert rows["bob"]["total"] == "8.00" and rows["bob"]["late_penalty"] == "2.00"
    assert rows["bob"]["submitted_at"].startswith("2026-12-12T08:00:00")
    report = (term["root"] / "out" / "bob" / "report.md").read_text()
    assert "late by 2 started day(s)" in report and "-20 %" in report
    results = json.loads((term["root"] / "out" / "bob" / "results.json").read_text())
    assert results["score"] == pytest.approx(8.0)
    assert results["extra_data"]["late_penalty"] == pytest.approx(2.0)
    validate_gradescope(results)


def test_a_new_hand_in_time_rescores_without_running_code(term, tmp_path):
    root = tmp_path / "term"
    shutil.copytree(term["root"], root)
    (root / "times.csv").write_text("student,submitted_at\nalice,2026-12-20T12:00:00Z\n")
    done = grader(
        "grade-all",
        root / "submitted",
        "--out",
        root / "out",
        "--task",
        "conv",
        "--config",
        root / "grading.toml",
        "--roster",
        root / "roster.csv",
        "--times",
        root / "times.csv",
        "--rescore",
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 rescored" in done.stdout
    assert table(root / "out" / "class.csv")["alice"]["total"] == "5.00"  # the 50 % cap


def test_the_canvas_export_has_one_row_per_roster_student_with_canvas_ids(term, tmp_path):
    done = grader(
        "export",
        "canvas",
        term["root"] / "out",
        "--out",
        tmp_path / "canvas.csv",
        "--roster",
        term["root"] / "roster.csv",
        "--column",
        "Assignment 3",
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader((tmp_path / "canvas.csv").open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 3"]
    assert rows[1] == ["Points Possible", "", "", "", "", "10.00"]
    by_id = {row[2]: row for row in rows[2:]}
    assert by_id["alice"] == ["Alice Liddell", "1001", "alice", "alice@example.org", "", "10.00"]
    assert by_id["bob"][-1] == "8.00" and by_id["carol"][-1] == "0.00"
    assert by_id["dave"][1] == ""  # not on the roster: no Canvas ID to match


def test_the_outcomes_export_has_a_row_per_student_and_test(term, tmp_path):
    done = grader("export", "outcomes", term["root"] / "out", "--out", tmp_path / "long.csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((tmp_path / "long.csv").open()))
    assert {row["student"] for row in rows} == {"alice", "bob", "dave"}
    assert all(row["task"] == "conv" and row["outcome"] == "passed" for row in rows)
    done = grader("export", "json", term["root"] / "out", "--out", tmp_path / "all.json")
    assert [r["student"] for r in json.loads((tmp_path / "all.json").read_text())] == [
        "alice",
        "bob",
        "dave",
    ]


def test_a_bad_roster_or_times_file_stops_with_a_clear_message(term, tmp_path):
    (tmp_path / "roster.csv").write_text("name,email\nAlice,a@example.org\n")
    done = grader(
        "grade-all",
        term["root"] / "submitted",
        "--out",
        tmp_path / "out",
        "--roster",
        tmp_path / "roster.csv",
        "--task",
        "conv",
    )
    assert done.returncode == 2 and "expected an 'id' column" in done.stderr
    (tmp_path / "times.csv").write_text("student,submitted_at\nalice,yesterday\n")
    done = grader(
        "grade-all",
        term["root"] / "submitted",
        "--out",
        tmp_path / "out",
        "--times",
        tmp_path / "times.csv",
        "--task",
        "conv",
    )
    assert done.returncode == 2 and "times.csv, line 2" in done.stderr
    done = grader("export", "canvas", tmp_path / "nothing", "--out", tmp_path / "c.csv")
    assert done.returncode == 2 and "no <student>/grade.json" in done.stderr


# ------------------------------------------------------------------ the rules, without grading


def policy(**options) -> late.LatePolicy:
    return late.LatePolicy(due=late.parse_time("2026-12-10T23:59:00Z"), **options)


def test_started_hours_count_with_the_cap_and_the_grace_period():
    hourly = policy(per="hour", penalty=0.05, cap=0.3, grace_minutes=10)
    assert hourly.fraction_lost("conv", late.parse_time("2026-12-11T00:05:00Z")) == 0.0
    assert hourly.fraction_lost("conv", late.parse_time("2026-12-11T00:10:01Z")) == 0.05
    assert hourly.fraction_lost("conv", late.parse_time("2026-12-11T02:30:00+01:00")) == 0.1
    assert hourly.fraction_lost("conv", late.parse_time("2026-12-13T00:00:00Z")) == 0.3


def test_a_task_can_have_its_own_due_date():
    rule = policy(penalty=0.1, due_by_task={"conv": late.parse_time("2026-12-17T23:59Z")})
    when = late.parse_time("2026-12-12T12:00:00Z")
    assert rule.fraction_lost("conv", when) == 0.0 and rule.fraction_lost("metrics", when) == 0.2


@pytest.mark.parametrize(
    "table, phrase",
    [
        ({"per": "day"}, "without 'due'"),
        ({"due": "2026-12-10T23:59Z", "per": "week"}, "expected 'day' or 'hour'"),
        ({"due": "2026-12-10T23:59Z", "penalty": -1}, "penalty=-1"),
        ({"due": "2026-12-10T23:59Z", "cap": 2}, "fractions of the points"),
        ({"due": "tomorrow"}, "expected a date and time"),
    ],
)
def test_a_malformed_late_rule_is_refused_with_what_is_wrong(table, phrase):
    with pytest.raises(ValueError, match=phrase):
        late.load_policy(table)


def test_the_hand_in_time_comes_from_the_collection_s_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "submitted_at").write_text("2026-12-11T10:00:00+02:00\n")
    assert late.submission_time(tmp_path / "a") == (
        late.parse_time("2026-12-11T08:00Z"),
        "submitted_at",
    )
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "submission_metadata.json").write_text(
        json.dumps({"created_at": "2026-12-11T08:00:00.123456-08:00"})
    )
    assert late.submission_time(tmp_path / "b")[1] == "submission_metadata.json"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "timestamp.txt").write_text("not a time")
    assert late.submission_time(tmp_path / "c") == (None, "")


def test_a_roster_in_nbgraders_format_is_read_and_a_duplicate_refused(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    read = roster.read_roster(path)
    assert list(read) == ["alice", "bob", "carol"] and read["bob"].lms_user_id == "1002"
    path.write_text(ROSTER + "alice,A,L,a@example.org,1\n")
    with pytest.raises(ValueError, match="line 5: 'alice' twice"):
        roster.read_roster(path)
