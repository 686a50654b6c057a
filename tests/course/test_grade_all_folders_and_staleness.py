"""`grader grade-all`: student folder names never break the class, and grades never go stale.

One tiny class (three students, the conv task) is graded once for the whole module: a plain
name with a correct submission, a folder named ``class.csv`` (the grader's own output) and
a folder whose name is a spreadsheet formula with a forged report line in it, both handed
in the stubs. Reruns then change one thing at a time (nothing, the points, one submission)
and check what is regraded, what is rescored without running code, and that the class CSV
equals a run from scratch byte for byte.
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
from practicum.grader.grading import grade_all

CORRECT = (practicum.REPO_ROOT / "solutions" / "conv.py").read_text()
STUB = (practicum.REPO_ROOT / "exercises" / "conv.py").read_text()
FORMULA = '=HYPERLINK("evil.example","Click for your grade")\n# Total: 105 \u2215 105'
CLASS = {"ada": CORRECT, "class.csv": STUB, FORMULA: STUB}
POINTS = "[tasks.conv]\npoints = 7\n"


def make_class(root: Path) -> Path:
    for student, text in CLASS.items():
        (root / student).mkdir(parents=True)
        (root / student / "conv.py").write_text(text)
    (root / ".git").mkdir()  # not a student
    return root


def run(submissions: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
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
            "--task",
            "conv",
            *options,
        ],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("class")
    completed = run(make_class(root / "submissions"), root / "out")
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-3000:]
    return root, completed


def copy_of(graded, tmp_path: Path) -> Path:
    root, _ = graded
    shutil.copytree(root, tmp_path / "class", symlinks=True)
    return tmp_path / "class"


def rows(out: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader((out / "class.csv").open())}


def test_every_folder_is_graded_and_the_class_csv_is_written(graded):
    root, completed = graded
    out = root / "out"
    assert (out / "class.csv").is_file()
    graded_as = {name: grade_all.safe_name(name) for name in CLASS}
    assert graded_as["ada"] == "ada"
    assert sorted(rows(out)) == sorted(graded_as.values())
    assert rows(out)["ada"]["conv"] == "10.00"
    for name in ("class.csv", FORMULA):
        assert rows(out)[graded_as[name]]["total"] == "0.00"  # the stubs' score
        assert (out / graded_as[name] / "report.md").is_file()
        assert graded_as[name] in completed.stdout and ascii(name) in completed.stdout
    assert "left out '.git' (hidden folder)" in completed.stdout


def test_no_class_csv_cell_is_a_formula_and_no_report_line_is_forged(graded):
    root, _ = graded
    text = (root / "out" / "class.csv").read_text()
    for row in csv.reader(text.splitlines()):
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert "HYPERLINK(" not in text and "\n#" not in text
    name = grade_all.safe_name(FORMULA)
    report = (root / "out" / name / "report.md").read_text().splitlines()
    assert report[0] == f"# Grade report: {name}"
    assert [line for line in report if "Total" in line] == ["**Total: 0 / 10**"]


def test_bad_names_get_deterministic_derived_names_no_plain_name_can_take():
    assert grade_all.safe_name("ada.lovelace-2") == "ada.lovelace-2"
    for bad in [
        "class.csv",
        "CLASS.CSV",
        "a/b",
        "a\\b",
        "..",
        ".",
        "a\nb",
        "x\u2215y",
        "x\uff0fy",
        "ann\u202e",
        "zw\u200bsp",
        "a b",
        "-rf",
        "é",
        "",
        "x" * 65,
        "a__b",
        "=1+1",
        "a.",
    ]:
        name = grade_all.safe_name(bad)
        assert name == grade_all.safe_name(bad), bad  # deterministic
        assert "__" in name and not grade_all.is_plain_name(name), bad
        assert grade_all.is_plain_name(name.replace("__", "_")), bad  # otherwise plain
    assert grade_all.safe_name("a/b") != grade_all.safe_name("a\\b")


def test_names_equal_but_for_case_or_clashing_get_distinct_folders(tmp_path):
    for name in ("Ada", "ada", "x y", "x?y"):
        (tmp_path / name).mkdir()
    names = grade_all.students(tmp_path)
    assert len(names) == 4 and len({name.lower() for name in names}) == 4
    assert all(grade_all.is_plain_name(name) or "__" in name for name in names)


def test_a_rerun_with_nothing_changed_grades_nobody(graded, tmp_path):
    root = copy_of(graded, tmp_path)
    before = (root / "out" / "class.csv").read_bytes()
    completed = run(root / "submissions", root / "out")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "3 student(s) already graded, 0 to go" in completed.stdout
    assert "0 graded, 0 rescored, 3 already done" in completed.stdout
    assert (root / "out" / "class.csv").read_bytes() == before


def test_a_points_change_is_rescored_without_running_code_and_equals_a_fresh_run(graded, tmp_path):
    root = copy_of(graded, tmp_path)
    (tmp_path / "points.toml").write_text(POINTS)
    seconds = {
        path.parent.name: json.loads(path.read_text())["seconds"]
        for path in (root / "out").glob("*/grade.json")
    }
    completed = run(root / "submissions", root / "out", "--config", str(tmp_path / "points.toml"))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "3 rescored (points changed), no code run" in completed.stdout
    assert "0 graded, 3 rescored" in completed.stdout
    assert {
        path.parent.name: json.loads(path.read_text())["seconds"]  # not graded again
        for path in (root / "out").glob("*/grade.json")
    } == seconds
    assert rows(root / "out")["ada"]["conv"] == "7.00"
    fresh = tmp_path / "fresh"
    completed = run(
        make_class(fresh / "submissions"), fresh / "out", "--config", str(tmp_path / "points.toml")
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (root / "out" / "class.csv").read_bytes() == (fresh / "out" / "class.csv").read_bytes()
    for name in map(grade_all.safe_name, CLASS):
        assert (root / "out" / name / "report.md").read_bytes() == (
            fresh / "out" / name / "report.md"
        ).read_bytes()


def test_a_changed_submission_is_regraded_and_the_run_says_why(graded, tmp_path):
    root = copy_of(graded, tmp_path)
    (root / "submissions" / "class.csv" / "conv.py").write_text(CORRECT)
    rescore_only = run(root / "submissions", root / "out", "--rescore")
    assert rescore_only.returncode == 1
    assert "needs grading (submission changed)" in rescore_only.stderr
    name = grade_all.safe_name("class.csv")
    assert name not in rows(root / "out")  # a stale grade never reaches the class CSV
    completed = run(root / "submissions", root / "out")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "1 grade(s) out of date (submission changed: 1)" in completed.stdout
    assert "1 graded, 0 rescored, 2 already done" in completed.stdout
    assert rows(root / "out")[name]["conv"] == "10.00"


def test_every_grade_records_what_decided_it(graded):
    root, _ = graded
    grade = json.loads((root / "out" / "ada" / "grade.json").read_text())
    assert set(grade["fingerprint"]) == {
        "submission",
        "submitted_at",  # "" when nothing says when it was handed in
        "reference",
        "tests",
        "points",
        "tasks",
        "course",
    }
    assert grade["fingerprint"]["tasks"] == ["conv"]
    assert grade["fingerprint"]["submitted_at"] == ""
    assert grade["fingerprint"]["course"].startswith(practicum.__version__ + "+")
    outcomes = grade["scored_from"]["outcomes"]
    assert outcomes and {"nodeid", "name", "task", "outcome", "message"} <= set(outcomes[0])
