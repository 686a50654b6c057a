"""One submission, one verdict: ``--sandbox off``, ``process`` and ``bwrap`` agree test by test.

The value codec (:mod:`practicum.grader.sandbox.wire`) is the same file on both sides of the
sandbox, so a reply is accepted or refused alike in every mode. Graded here: the reference, a
known-wrong implementation, and a submission whose functions return what no grader should accept (a
string array, an object array, NaN, a complex number, an array too large for a reply).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import practicum
from practicum.grader import sandbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "style_losses"
MODES = ["off", "process", "bwrap"]

ODD_REPLIES = """
import numpy as np


def gram_matrix(features, normalize=True):
    b, c = np.shape(features)[0], np.shape(features)[-1]
    return np.full((b, c, c), "a")


def content_loss(generated, target):
    return np.array([object()], dtype=object)


def style_loss(generated_features, target_grams, layer_weights=None):
    return np.float32("nan")


def total_variation_loss(images):
    return np.complex128(1 + 2j)


def total_loss(content, style, weight):
    return np.zeros(2**24)  # a 128 MB reply
"""


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("modes")
    texts = {
        "reference": (practicum.REPO_ROOT / "solutions" / "style_losses.py").read_text(),
        "wrong": (FIXTURES / "independent_loops.py").read_text()
        + "\n\n"
        + (FIXTURES / "wrong" / "unnormalised_gram.py").read_text(),
        "odd_replies": ODD_REPLIES,
    }
    for name, text in texts.items():
        (root / name).mkdir()
        (root / name / "style_losses.py").write_text(text)
    return {name: root / name for name in texts}


def verdicts(submissions: dict[str, Path], mode: str, report: Path) -> dict[str, dict]:
    """``submission -> {test: outcome}`` from ``grader compare --sandbox MODE``."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "practicum.grader.cli",
            "compare",
            *map(str, submissions.values()),
            "--task",
            "style_losses",
            "--visibility",
            "public",
            "--sandbox",
            mode,
            "--json",
            str(report),
        ],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    graded = json.loads(report.read_text())
    return {
        Path(path).name: {row["name"]: row["outcome"] for row in rows}
        for path, rows in graded.items()
    }


def test_every_sandbox_mode_gives_every_test_the_same_verdict(submissions, tmp_path):
    if sandbox.bwrap_problem():
        pytest.skip(f"bubblewrap is not usable here: {sandbox.bwrap_problem()}")
    by_mode = {mode: verdicts(submissions, mode, tmp_path / f"{mode}.json") for mode in MODES}
    assert all(by_mode["off"]["reference"].values()) and set(
        by_mode["off"]["reference"].values()
    ) == {"passed"}
    assert set(by_mode["off"]["odd_replies"].values()) == {"failed"}
    for mode in MODES[1:]:
        for name in submissions:
            differing = {
                test: (by_mode["off"][name].get(test), outcome)
                for test, outcome in by_mode[mode][name].items()
                if by_mode["off"][name].get(test) != outcome
            }
            assert by_mode[mode][name].keys() == by_mode["off"][name].keys()
            assert not differing, f"{name}: off vs {mode} (test: (off, {mode})): {differing}"
