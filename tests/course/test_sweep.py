"""``python -m practicum.sweep``: the handouts' experiments as one command, on the samples."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

import practicum
from practicum import sweep

pytestmark = pytest.mark.slow
ROOT = practicum.REPO_ROOT


def run_sweep(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "practicum.sweep", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "PRACTICUM_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_the_batch_grid_reproduces_the_handout_s_table_on_the_samples(tmp_path):
    done = run_sweep("--preset", "batch-grid", "--impl", ROOT / "solutions", "--out", tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [int(row["examples"]) for row in rows] == [900] * 3 + [2500] * 3 + [4900] * 3
    assert {(row["batch_size"], row["num_batches"]) for row in rows[:3]} == {
        ("9", "100"),
        ("100", "9"),
        ("30", "30"),
    }
    by_split = {
        (row["batch_size"], row["num_batches"]): float(row["test_accuracy"]) for row in rows
    }
    # the handout's finding: for the same examples, many small batches beat a few large ones
    assert by_split[("9", "100")] > by_split[("100", "9")]
    assert all(
        float(row["examples_per_s"]) > 0 and float(row["inferences_per_s"]) > 0 for row in rows
    )
    assert "[####################] 9/9" in done.stdout
    for name in ("results.md", "curves.png", "final.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_vary_builds_every_combination_and_rejects_what_it_cannot_read():
    runs = sweep.grid_runs(None, sweep.parse_vary(["lr=0.01,0.1", "batch_size=20,100"]))
    assert sorted((run["learning_rate"], run["batch_size"]) for run in runs) == [
        (0.01, 20),
        (0.01, 100),
        (0.1, 20),
        (0.1, 100),
    ]
    assert len(sweep.grid_runs("depth", {})) == 5
    with pytest.raises(ValueError, match="expected NAME=V1,V2"):
        sweep.parse_vary(["momentum=0.9"])
    with pytest.raises(ValueError, match="expected numbers for batch_size"):
        sweep.parse_vary(["batch_size=ten"])


def test_on_the_stubs_the_sweep_says_what_to_write(tmp_path):
    done = run_sweep("--vary", "num_batches=2", "--impl", ROOT / "exercises", "--out", tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "model_builder.output_shapes is not written yet (pytest --task model_builder)" in (
        done.stdout
    )
    assert "Traceback" not in done.stderr
