"""Adversarial submissions gain nothing, and grading them finishes.

Every folder of ``tests/fixtures/adversarial`` (see its README) is graded on the style-loss
tests with the sandbox: bubblewrap when it works on this machine, and the plain-process mode,
each by one ``grader grade ... --sandbox MODE`` process (the two run side by side). Calls
time out after a few seconds here, to keep the test short.

"No more than it legitimately earns": an adversary that returns plain values a test happens
to accept (a zero Gram matrix is symmetric) may pass that test. Where a folder has an
``honest.py`` (the same answers without the tricks), the adversary's passing tests must be a
subset of the honest module's (graded in-process: it is harmless); without one, it must pass
nothing, except ``flood_stdout``, a correct implementation that must pass everything.

Each submission costs at least one worker start (a TensorFlow import: ~5 s on an idle
machine, much more on a loaded one), and some several (crashes, timeouts): the bound on the
whole corpus is generous and printed with the load average.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import practicum
from practicum.grader import sandbox
from tests.support.verdicts import record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = FIXTURES / "adversarial"
NAMES = sorted(path.name for path in CORPUS.iterdir() if (path / "style_losses.py").is_file())
FULL_MARKS = {"flood_stdout"}  # correct implementations under the noise
TIME_LIMIT = 2400  # seconds for one mode's whole corpus (about 300 s on an idle machine)
CALL_TIMEOUT = 3
MODES = ["process", "bwrap"]


def build_submission(name: str, target: Path) -> Path:
    folder = target / name
    folder.mkdir(parents=True)
    text = (CORPUS / name / "style_losses.py").read_text()
    base = re.search(r"^# base: (\S+)$", text, re.M)
    if base:
        text = (FIXTURES / f"{base.group(1)}.py").read_text() + "\n\n" + text
    (folder / "style_losses.py").write_text(text)
    for stored, real in (("conftest_py.txt", "conftest.py"), ("pytest_ini.txt", "pytest.ini")):
        if (CORPUS / name / stored).is_file():
            shutil.copyfile(CORPUS / name / stored, folder / real)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """``mode -> {"seconds", "rows": {name: rows}}`` for every mode that works here."""
    root = tmp_path_factory.mktemp("adversarial")
    modes = [mode for mode in MODES if mode in sandbox.available_modes()]
    running = {}
    for mode in modes:
        folders = [build_submission(name, root / mode) for name in NAMES]
        command = [sys.executable, "-m", "practicum.grader.cli", "grade", *map(str, folders),
                   "--task", "style_losses", "--sandbox", mode, "--timeout", str(CALL_TIMEOUT),
                   "--json", str(root / f"{mode}.json")]
        running[mode] = (time.monotonic(), subprocess.Popen(
            command, cwd=practicum.REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    results = {}
    for mode, (started, process) in running.items():
        try:
            _, stderr = process.communicate(timeout=TIME_LIMIT * 2)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"grading the corpus in {mode} mode did not finish")
        assert process.returncode == 0, stderr[-3000:]
        raw = json.loads((root / f"{mode}.json").read_text())
        results[mode] = {"seconds": time.monotonic() - started,
                         "rows": {Path(key).name: rows for key, rows in raw.items()}}
    honest = [name for name in NAMES if (CORPUS / name / "honest.py").is_file()]
    for name in honest:
        (root / "honest" / name).mkdir(parents=True)
        shutil.copyfile(CORPUS / name / "honest.py", root / "honest" / name / "style_losses.py")
    completed = subprocess.run(
        [sys.executable, "-m", "practicum.grader.cli", "grade",
         *(str(root / "honest" / name) for name in honest), "--task", "style_losses",
         "--json", str(root / "honest.json")],
        cwd=practicum.REPO_ROOT, capture_output=True, text=True, timeout=TIME_LIMIT)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results["_honest"] = {Path(key).name: {row["name"] for row in rows
                                           if row["outcome"] == "passed"}
                          for key, rows in json.loads((root / "honest.json").read_text())
                          .items()}
    results["_root"] = root
    if "process" in results:  # compared across TensorFlow versions (tox)
        record("adversarial", results["process"]["rows"])
    return results


def test_bubblewrap_is_used_where_it_works():
    if "bwrap" not in sandbox.available_modes():
        pytest.skip(f"bubblewrap mode not tested here: {sandbox.bwrap_problem()}")
    assert sandbox.resolve_mode("auto") == "bwrap"


@pytest.mark.parametrize("mode", MODES)
def test_grading_the_corpus_finishes_within_the_bound(graded, mode):
    if mode not in graded:
        pytest.skip(f"{mode} mode unavailable here: {sandbox.bwrap_problem()}")
    print(f"{mode}: {graded[mode]['seconds']:.0f} s, load average {os.getloadavg()}")
    assert graded[mode]["seconds"] < TIME_LIMIT
    assert sorted(graded[mode]["rows"]) == NAMES


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_an_adversarial_submission_scores_no_more_than_it_earns(graded, mode, name):
    if mode not in graded:
        pytest.skip(f"{mode} mode unavailable here: {sandbox.bwrap_problem()}")
    rows = graded[mode]["rows"][name]
    assert len(rows) >= 30, f"only {len(rows)} tests ran for {name}"
    passed = [row["name"] for row in rows if row["outcome"] == "passed"]
    if name in FULL_MARKS:
        assert len(passed) == len(rows), [row["message"][:200] for row in rows
                                          if row["outcome"] != "passed"]
    else:
        earned = graded["_honest"].get(name, set())
        assert set(passed) <= earned, (
            f"{name} passed {sorted(set(passed) - earned)} in {mode} mode, which its honest "
            "equivalent does not")
        assert all(row["message"] for row in rows if row["outcome"] != "passed")


def test_the_corpus_cannot_write_outside_its_scratch_directory(graded):
    root = graded["_root"]
    assert not Path("/tmp/results.json").exists()
    for mode in [mode for mode in MODES if mode in graded]:
        folder = root / mode / "fake_results"
        assert sorted(path.name for path in folder.iterdir()) == ["style_losses.py"]
        assert not (root / mode / "results").exists()
