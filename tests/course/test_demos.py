"""The demos a student runs (``practicum.plots``, ``practicum.style_demo``): on the reference
they write every figure; on the released stubs each part says which function to write."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import practicum

pytestmark = pytest.mark.slow
ROOT = practicum.REPO_ROOT


def demo(module: str, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PRACTICUM_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_the_plots_of_the_reference_are_all_written(tmp_path):
    done = demo(
        "practicum.plots", "--impl", ROOT / "solutions", "--batches", "20", "--out", tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(path.name for path in tmp_path.glob("*.png"))
    assert written == [
        "activations.png",
        "confidently_wrong.png",
        "confusion_matrix.png",
        "reliability.png",
        "training.png",
    ], done.stdout
    assert "skipped" not in done.stdout


def test_on_the_stubs_each_plot_names_the_function_to_write(tmp_path):
    done = demo(
        "practicum.plots", "--impl", ROOT / "exercises", "--batches", "5", "--out", tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    # each part names the first unwritten function it reached, and the task to test
    for part, task in [
        ("model (model_builder.build_model)", "model_builder"),
        ("training curve", "training"),
        ("confusion matrix", "metrics"),
        ("reliability diagram", "metrics"),
        ("most confidently wrong", "inspect_model"),
        ("activation maps", "inspect_model"),
    ]:
        assert re.search(
            rf"^{re.escape(part)}: skipped, {task}\.\w+ is not written yet "
            rf"\(pytest --task {task}\)$",
            done.stdout,
            re.M,
        ), done.stdout
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert not list(tmp_path.glob("*.png"))


def test_on_the_stubs_the_style_demo_names_the_functions_to_write(tmp_path):
    done = demo(
        "practicum.style_demo", "--impl", ROOT / "exercises", "--steps", "1", "--out", tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fast style transfer: skipped, fast_style." in done.stdout, done.stdout
    assert "optimisation: skipped, " in done.stdout, done.stdout
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
