"""The Gradescope autograder zip, run locally in a directory laid out like Gradescope's.

``grader gradescope build`` writes the zip; it is unzipped into ``ROOT/source`` (as
Gradescope does), ``run_autograder`` is copied to ``ROOT``, a submission is put in
``ROOT/submission``, and ``run_autograder`` runs with ``AUTOGRADER_ROOT=ROOT`` (instead of
``/autograder``) and this environment's Python. Its ``results.json`` must follow
Gradescope's specification, for a correct, a partly wrong and a broken submission.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import practicum

from .test_scoring_reports import validate_gradescope

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOOD = (practicum.REPO_ROOT / "solutions" / "style_losses.py").read_text()
PARTLY_WRONG = (
    (FIXTURES / "style_losses" / "independent_loops.py").read_text()
    + "\n\n"
    + (FIXTURES / "style_losses" / "wrong" / "tv_vertical_only.py").read_text()
)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "practicum.grader.cli",
            "gradescope",
            "build",
            "--out",
            str(out),
            "--task",
            "style_losses",
        ],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    return out


def test_the_zip_holds_the_scripts_and_the_course_but_no_caches(autograder):
    with zipfile.ZipFile(autograder) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert {
        "setup.sh",
        "run_autograder",
        "pyproject.toml",
        "grading.toml",
        "solutions/style_losses.py",
        "tests/hidden/test_style_losses.py",
        "grader/sandbox/worker.py",
        "grader/sandbox/backend.py",
    } <= names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert not any(
        "__pycache__" in name or name.startswith(("tests/course", "exercises")) for name in names
    )
    with zipfile.ZipFile(autograder) as archive:
        setup = archive.read("setup.sh").decode()
    assert "pip install" in setup and "bubblewrap" in setup


def test_setup_installs_the_tested_versions_and_fails_loudly(autograder):
    with zipfile.ZipFile(autograder) as archive:
        setup = archive.read("setup.sh").decode()
        pins = archive.read("requirements-gradescope.txt").decode().split()
    from importlib import metadata

    assert f"tensorflow=={metadata.version('tensorflow')}" in pins
    assert f"keras=={metadata.version('keras')}" in pins
    assert all("==" in line for line in pins)
    assert "set -euxo pipefail" in setup and "-r requirements-gradescope.txt" in setup
    pip_lines = [line for line in setup.splitlines() if "pip install" in line]
    assert pip_lines and not any("|| true" in line for line in pip_lines)


def test_one_zip_per_assignment_grades_that_assignment_s_tasks(tmp_path):
    out = tmp_path / "a2.zip"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "practicum.grader.cli",
            "gradescope",
            "build",
            "--out",
            str(out),
            "--assignment",
            "A2",
        ],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        script = archive.read("run_autograder").decode()
    assert "--task model_builder --task training --task inspect_model" in script
    assert "--task style_losses" not in script
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "practicum.grader.cli",
            "gradescope",
            "build",
            "--out",
            str(out),
            "--assignment",
            "A9",
        ],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2 and "expected one of assignment2, assignment3" in done.stderr


def test_without_its_python_run_autograder_still_writes_a_results_json(autograder, tmp_path):
    root = tmp_path
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    (root / "submission").mkdir()
    (root / "submission" / "style_losses.py").write_text(GOOD)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PRACTICUM_PYTHON": "/no/such/python"}
    done = subprocess.run(
        [str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(results)
    assert results["score"] == 0 and "could not start its Python" in results["output"]


def run_autograder(autograder: Path, root: Path, files: dict[str, str]) -> dict:
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        os.chmod(root / "source" / name, 0o755)
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "PRACTICUM_PYTHON": sys.executable,
        "PRACTICUM_SANDBOX_TIMEOUT": "10",
    }
    completed = subprocess.run(
        [str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=1800
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.parametrize(
    ("kind", "files"),
    [
        ("correct", {"style_losses.py": GOOD}),
        ("partly_wrong", {"style_losses.py": PARTLY_WRONG}),
        ("broken", {"style_losses.py": "def gram_matrix(:\n"}),
    ],
)
def test_run_autograder_writes_a_valid_results_json(autograder, tmp_path, kind, files):
    results = run_autograder(autograder, tmp_path, files)
    validate_gradescope(results)
    total = sum(test["max_score"] for test in results["tests"])
    assert total > 0 and all(test["name"].startswith("style_losses: ") for test in results["tests"])
    if kind == "correct":
        assert results["score"] == pytest.approx(total)
    elif kind == "partly_wrong":
        assert 0 < results["score"] < total
        failed = [test for test in results["tests"] if test["status"] == "failed"]
        assert any("vertical" in test["output"] for test in failed)
    else:
        assert results["score"] == 0
        assert all("SyntaxError at line 1" in test["output"] for test in results["tests"])
    # public tests are visible at once, hidden ones once the grades are published
    assert {test["visibility"] for test in results["tests"]} == {"visible", "after_published"}
