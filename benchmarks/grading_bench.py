"""Grading benchmark: one full submission sandboxed vs in-process, and grade-all throughput.

    .venv/bin/python benchmarks/grading_bench.py [--task style_losses ...] [--students 20]
        [--jobs 2] [--sandbox auto] [--skip-class]

1. ``grader grade SUBMISSION --out DIR`` on a copy of ``solutions/`` (every task, unless
   ``--task``), with the sandbox (``--sandbox``, default the strongest available): wall time
   and the peak resident memory of the grading processes (``getrusage(RUSAGE_CHILDREN)``:
   the largest of the grader and its worker);
2. the same with ``--sandbox off`` (the submission in the grader's own process): the
   sandbox's overhead is the ratio of the two wall times;
3. ``grader grade-all`` of ``--students`` submissions (copies of the solutions and of the
   stubs, alternately) with ``-j --jobs``: students per minute.

Each figure is a fresh process (TensorFlow's import included). The load average is printed
with every figure: the machines are shared. The issue's anchor, nbgrader's ``autograde`` of
the same tasks as notebooks, is measured by ``benchmarks/nbgrader_bench.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def run(command: list[str]) -> tuple[float, float]:
    """Wall seconds, and peak RSS (MB) of the children so far."""
    started = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if completed.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", action="append", default=[])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sandbox", default="auto")
    parser.add_argument("--skip-class", action="store_true")
    args = parser.parse_args()
    python = sys.executable
    tasks = [part for task in args.task for part in ("--task", task)]
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as scratch:
        scratch = Path(scratch)
        submission = scratch / "submission"
        shutil.copytree(
            ROOT / "solutions", submission, ignore=shutil.ignore_patterns("__pycache__")
        )
        grade = [python, "-m", "practicum.grader.cli", "grade", str(submission)]
        print(f"tasks: {', '.join(args.task) or 'all'}; load average before: {load()}")
        sandboxed, peak = run(
            [*grade, "--out", str(scratch / "a"), "--sandbox", args.sandbox, *tasks]
        )
        mode = (scratch / "a" / "grade.json").read_text().split('"sandbox": "')[1].split('"')[0]
        print(
            f"one submission, sandbox {mode}: {sandboxed:.1f} s wall, peak RSS "
            f"{peak:.0f} MB (load {load()})"
        )
        in_process, peak_off = run(
            [*grade, "--out", str(scratch / "b"), "--sandbox", "off", *tasks]
        )
        print(
            f"one submission, in-process: {in_process:.1f} s wall, peak RSS "
            f"{peak_off:.0f} MB (load {load()})"
        )
        print(f"sandbox overhead: x{sandboxed / in_process:.2f} (+{sandboxed - in_process:.1f} s)")
        if args.skip_class:
            return
        submissions = scratch / "class"
        for index in range(args.students):
            source = ROOT / ("solutions" if index % 2 == 0 else "exercises")
            shutil.copytree(
                source,
                submissions / f"student{index:02d}",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        seconds, _ = run(
            [
                python,
                "-m",
                "practicum.grader.cli",
                "grade-all",
                str(submissions),
                "--out",
                str(scratch / "class-out"),
                "-j",
                str(args.jobs),
                "--sandbox",
                args.sandbox,
                *tasks,
            ]
        )
        print(
            f"grade-all, {args.students} submissions, -j {args.jobs}: {seconds:.0f} s, "
            f"{args.students / seconds * 60:.1f} submissions/minute (load {load()})"
        )


if __name__ == "__main__":
    main()
