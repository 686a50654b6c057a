"""Wall time of the task tests, per task and in all, against the 60 s aim.

    .venv/bin/python benchmarks/suite_time.py [--task style_losses] [--repeat 3]

Each run is a fresh `pytest --impl solutions` process (TensorFlow's import included), with
the dev profile (what a student runs) and the grading profile (what `grader grade` runs).
Prints the median of the repeats and its ratio to the aim.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIM_SECONDS = 60.0


def wall_time(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", action="append", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    selection = [arg for task in options.task for arg in ("--task", task)]
    print(f"{'run':<44}{'median s':>10}{'ratio to 60 s':>16}")
    for label, extra in [
        ("task tests, dev profile", ["--hypothesis-profile", "dev"]),
        ("task tests, grading profile", ["--hypothesis-profile", "grading"]),
    ]:
        times = [
            wall_time(["tests/public", "tests/hidden", "--impl", "solutions", *selection, *extra])
            for _ in range(options.repeat)
        ]
        median = statistics.median(times)
        print(f"{label:<44}{median:>10.1f}{median / AIM_SECONDS:>16.2f}")
    whole = wall_time(["--impl", "solutions"])
    print(f"{'whole suite (course tests too), once':<44}{whole:>10.1f}{whole / AIM_SECONDS:>16.2f}")


if __name__ == "__main__":
    main()
