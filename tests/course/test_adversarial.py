"""Adversarial submissions score what the unmodified stubs score, and grading them is safe.

Every folder of ``tests/fixtures/adversarial`` (see its README) is graded on the style-loss
and model-builder tests with the sandbox: bubblewrap when it works on this machine, and the
plain-process mode, each by one ``grader compare ... --sandbox MODE`` process (the two run
side by side), with a random ``PRACTICUM_TEST_SECRET`` planted in the grader's environment.
Calls time out after a few seconds here, to keep the test short.

For each folder and mode:

* its score (``practicum.grader.grading.scoring`` on its rows, as ``grade.json`` would have it)
  equals the score of the unmodified stubs (``exercises/``, graded in-process): 0. The one
  exception is ``flood_stdout``, a correct implementation under the noise: full marks;
* the secret appears in no output (rows, messages, the grader's stdout and stderr);
* the checkout's solutions, stubs, task tests and points are unchanged.

Each submission costs at least one worker start (a TensorFlow import: ~5 s on an idle
machine, much more on a loaded one), and some several (crashes, timeouts): the bound on the
whole corpus is generous and printed with the load average.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import practicum
from practicum.grader import sandbox
from practicum.grader.grading import scoring
from tests.support.verdicts import record

ROOT = practicum.REPO_ROOT
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = FIXTURES / "adversarial"
TASKS = ("style_losses", "model_builder")
NAMES = sorted(
    path.name for path in CORPUS.iterdir() if any((path / f"{task}.py").is_file() for task in TASKS)
)
FULL_MARKS = {"flood_stdout"}  # correct implementations under the noise
TIME_LIMIT = 2400  # seconds for one mode's whole corpus (about 400 s on an idle machine)
CALL_TIMEOUT = 3
MODES = ["process", "bwrap"]
GUARDED = ["solutions", "exercises", "tests/hidden", "tests/public", "grading.toml"]
CONFIG = scoring.load_config(ROOT / "grading.toml")


def build_submission(name: str, target: Path) -> Path:
    """The folder ``name`` as a student would hand it in: ``# base: X`` prepends
    ``tests/fixtures/X.py`` (``exercises/X.py`` for ``exercises/...``), stored files get
    their real names, and the symlinks, huge files and lookalike names listed in the
    folder's ``*.txt`` manifests are made."""
    source, folder = CORPUS / name, target / name
    folder.mkdir(parents=True)
    for task in TASKS:
        if not (source / f"{task}.py").is_file():
            continue
        text = (source / f"{task}.py").read_text()
        base = re.search(r"^# base: (\S+)$", text, re.M)
        if base:
            origin = ROOT if base.group(1).startswith("exercises/") else FIXTURES
            text = (origin / f"{base.group(1)}.py").read_text() + "\n\n" + text
        (folder / f"{task}.py").write_text(text)
    for stored, real in (("conftest_py.txt", "conftest.py"), ("pytest_ini.txt", "pytest.ini")):
        if (source / stored).is_file():
            shutil.copyfile(source / stored, folder / real)
    for line in _manifest(source / "symlinks.txt"):
        link, pointee = line.split()
        (folder / link).symlink_to(pointee.replace("{ROOT}", str(ROOT)))
    for line in _manifest(source / "huge_files.txt"):
        file, size, how = line.split()
        with open(folder / file, "wb") as handle:
            if how == "sparse":
                handle.truncate(int(size))
            else:
                for _ in range(int(size) // 2**20):
                    handle.write(bytes(2**20))
    for line in _manifest(source / "lookalike.txt"):
        stored, real = line.split()
        shutil.copyfile(source / stored, folder / real.encode().decode("unicode_escape"))
    return folder


def _manifest(path: Path) -> list[str]:
    return (
        [line for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    )


def checkout_digest() -> str:
    """A hash of the names and contents of the files a submission must not change."""
    digest = hashlib.sha256()
    for guarded in GUARDED:
        path = ROOT / guarded
        files = (
            [path]
            if path.is_file()
            else sorted(
                file
                for file in path.rglob("*")
                if file.is_file() and "__pycache__" not in file.parts
            )
        )
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def grade_command(folders: list[Path], json_path: Path, *options: str) -> list[str]:
    tasks = [option for task in TASKS for option in ("--task", task)]
    return [
        sys.executable,
        "-m",
        "practicum.grader.cli",
        "compare",
        *map(str, folders),
        *tasks,
        "--json",
        str(json_path),
        *options,
    ]


def scores(json_path: Path) -> dict[str, float]:
    rows = json.loads(json_path.read_text())
    return {
        Path(key).name: scoring.score_student(
            Path(key).name, value, CONFIG, expected_tasks=TASKS
        ).score
        for key, value in rows.items()
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """``mode -> {"seconds", "rows", "scores", "outputs"}`` for every mode that works here,
    with ``"_stubs"`` (the stubs' score), ``"_secret"``, ``"_digests"`` and ``"_root"``."""
    root = tmp_path_factory.mktemp("adversarial")
    secret = f"practicum-secret-{secrets.token_hex(16)}"
    env = {**os.environ, "PRACTICUM_TEST_SECRET": secret}
    before = checkout_digest()
    modes = [mode for mode in MODES if mode in sandbox.available_modes()]
    running = {}
    for mode in modes:
        folders = [build_submission(name, root / mode) for name in NAMES]
        command = grade_command(
            folders, root / f"{mode}.json", "--sandbox", mode, "--timeout", str(CALL_TIMEOUT)
        )
        running[mode] = (
            time.monotonic(),
            subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            ),
        )
    results: dict = {}
    for mode, (started, process) in running.items():
        try:
            stdout, stderr = process.communicate(timeout=TIME_LIMIT * 2)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"grading the corpus in {mode} mode did not finish")
        assert process.returncode == 0, stderr[-3000:]
        raw = json.loads((root / f"{mode}.json").read_text())
        results[mode] = {
            "seconds": time.monotonic() - started,
            "rows": {Path(key).name: rows for key, rows in raw.items()},
            "scores": scores(root / f"{mode}.json"),
            "outputs": {
                "stdout": stdout,
                "stderr": stderr,
                "rows": (root / f"{mode}.json").read_text(),
            },
        }
    stubs = subprocess.run(
        grade_command([ROOT / "exercises"], root / "stubs.json", "--sandbox", "off"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
    )
    assert stubs.returncode == 0, stubs.stderr[-3000:]
    results["_stubs"] = scores(root / "stubs.json")["exercises"]
    results["_secret"] = secret
    results["_digests"] = (before, checkout_digest())
    results["_root"] = root
    if "process" in results:  # compared across TensorFlow versions (tox)
        record("adversarial", results["process"]["rows"])
    return results


def test_bubblewrap_is_used_where_it_works():
    if "bwrap" not in sandbox.available_modes():
        pytest.skip(f"bubblewrap mode not tested here: {sandbox.bwrap_problem()}")
    assert sandbox.resolve_mode("auto") == "bwrap"


def test_the_unmodified_stubs_score_nothing(graded):
    assert graded["_stubs"] == 0


@pytest.mark.parametrize("mode", MODES)
def test_grading_the_corpus_finishes_within_the_bound(graded, mode):
    if mode not in graded:
        pytest.skip(f"{mode} mode unavailable here: {sandbox.bwrap_problem()}")
    print(f"{mode}: {graded[mode]['seconds']:.0f} s, load average {os.getloadavg()}")
    assert graded[mode]["seconds"] < TIME_LIMIT
    assert sorted(graded[mode]["rows"]) == NAMES


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_an_adversarial_submission_scores_what_the_stubs_score(graded, mode, name):
    if mode not in graded:
        pytest.skip(f"{mode} mode unavailable here: {sandbox.bwrap_problem()}")
    rows = graded[mode]["rows"][name]
    assert len(rows) >= 30, f"only {len(rows)} tests ran for {name}"
    score = graded[mode]["scores"][name]
    if name in FULL_MARKS:
        task_rows = [row for row in rows if row["task"] == "style_losses"]
        assert all(row["outcome"] == "passed" for row in task_rows), [
            row["message"][:200] for row in task_rows if row["outcome"] != "passed"
        ]
        assert score == CONFIG.task_points("style_losses")
        return
    earning = sorted(row["name"] for row in rows if row["outcome"] == "passed")
    assert score == graded["_stubs"], (
        f"{name} scored {score} in {mode} mode, the stubs {graded['_stubs']}; it passed {earning}"
    )
    assert all(row["message"] for row in rows if row["outcome"] != "passed")


@pytest.mark.parametrize("mode", MODES)
def test_the_planted_secret_appears_in_no_output(graded, mode):
    if mode not in graded:
        pytest.skip(f"{mode} mode unavailable here: {sandbox.bwrap_problem()}")
    for where, text in graded[mode]["outputs"].items():
        assert graded["_secret"] not in text, f"the secret leaked into {where} in {mode} mode"
    spied = [
        row["message"] for row in graded[mode]["rows"]["read_secrets"] if "uid=" in row["message"]
    ]
    assert spied, "the read_secrets adversary sent nothing back: this test checks nothing"
    assert not any("uid=0 " in message for message in spied)


def test_the_checkout_is_unchanged(graded):
    before, after = graded["_digests"]
    assert before == after, f"{', '.join(GUARDED)} changed while the corpus was graded"


def test_the_corpus_cannot_write_outside_its_scratch_directory(graded):
    root = graded["_root"]
    assert not Path("/tmp/results.json").exists()
    for mode in [mode for mode in MODES if mode in graded]:
        folder = root / mode / "fake_results"
        assert sorted(path.name for path in folder.iterdir()) == ["style_losses.py"]
        assert not (root / mode / "results").exists()
