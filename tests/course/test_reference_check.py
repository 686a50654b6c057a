"""`--reference PATH`: a reference is checked with the public tests before anyone is graded
against it; one that fails them is refused (naming the failing tests) unless `--force`.

The broken reference is a copy of solutions/ whose gram_matrix ignores ``normalize``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import practicum

FAILING = ("test_gram_matrix_normalize_divides_by_the_number_of_positions",)


def grader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "practicum.grader.cli", *args],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("references")
    good, broken = root / "good", root / "broken"
    for path in (good, broken):
        shutil.copytree(
            practicum.REPO_ROOT / "solutions", path, ignore=shutil.ignore_patterns("__pycache__")
        )
    module = broken / "style_losses.py"
    source = module.read_text()
    line = "        gram = gram / tf.cast(height * width, gram.dtype)\n"
    assert line in source, "solutions/style_losses.py changed: update this test's mistake"
    module.write_text(source.replace(line, "        gram = gram  # not normalised\n"))
    submissions = root / "submissions"
    (submissions / "ada").mkdir(parents=True)
    shutil.copy(practicum.REPO_ROOT / "exercises" / "style_losses.py", submissions / "ada")
    return {"good": good, "broken": broken, "submissions": submissions, "root": root}


def test_grade_all_refuses_a_reference_that_fails_a_public_test(references):
    out = references["root"] / "out-all"
    completed = grader(
        "grade-all",
        str(references["submissions"]),
        "--out",
        str(out),
        "--reference",
        str(references["broken"]),
        "--task",
        "style_losses",
    )
    assert completed.returncode == 2
    assert f"--reference {references['broken']}" in completed.stderr
    for name in FAILING:
        assert f"style_losses: {name}" in completed.stderr
    assert "--force" in completed.stderr
    assert not out.exists() or not any(out.iterdir())  # nobody graded, no class CSV


def test_grade_refuses_it_too_and_writes_no_report(references):
    out = references["root"] / "out-one"
    completed = grader(
        "grade",
        str(references["submissions"] / "ada"),
        "--out",
        str(out),
        "--reference",
        str(references["broken"]),
        "--task",
        "style_losses",
    )
    assert completed.returncode == 2
    assert all(name in completed.stderr for name in FAILING)
    assert not out.exists()


def test_force_grades_against_it_with_a_warning_naming_the_tests(references):
    completed = grader(
        "compare",
        "solutions",
        "--reference",
        str(references["broken"]),
        "--task",
        "style_losses",
        "--visibility",
        "public",
        "--force",
        "--sandbox",
        "off",
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "warning" in completed.stderr and all(name in completed.stderr for name in FAILING)
    assert "style_losses" in completed.stdout  # the score table


def test_a_reference_that_passes_the_public_tests_is_accepted(references):
    completed = grader(
        "compare",
        "solutions",
        "--reference",
        str(references["good"]),
        "--task",
        "conv",
        "--visibility",
        "public",
        "--sandbox",
        "off",
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "public test" not in completed.stderr
