"""The floors under issue 17's aims: what the task tests cost by themselves.

    .venv/bin/python benchmarks/floors.py [--repeat 3] [--suite]

A grade cannot take less than its tests' own work, whatever the sandbox does. This script
measures that work with no sandbox and no process start in the way: the reference
(``solutions``) graded in-process with the grading profile (``grade.run_task_tests``,
``--sandbox off``), twice in one fresh process, so the second run is a warm grader's. Each
figure is a median of ``--repeat`` processes, against a bare ``import tensorflow`` in the
same run, and gives the best figure the machine's cores could reach:

* every task (the full grade): a full grade needs at least its CPU seconds / cores
  (perfect parallelism, nothing else running); aim 20 s;
* style_losses, warm: ``grade-all -j N`` grades at most N x 60 / (its wall time)
  submissions a minute; aim 30 a minute;
* ``--suite``: the whole suite (``pytest --impl solutions -n 2 --dist loadfile``, once), its
  CPU seconds (every process it started, counted when they end) / cores is the least
  wall time any scheduling of it could take; aim 8 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CORES = len(os.sched_getaffinity(0))


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure_in_process(tasks: list[str]) -> dict:
    """Runs in a child: grades the reference twice, returns each run's wall and CPU."""
    sys.path.insert(0, str(ROOT))
    from practicum.grader.grading import grade

    runs = []
    for _ in range(2):
        wall, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
        outcomes = grade.run_task_tests("solutions", tasks=tasks, sandbox="off")
        assert outcomes and all(outcome.passed for outcome in outcomes), "the reference fails"
        runs.append(
            {
                "wall": time.perf_counter() - wall,
                "cpu": cpu_seconds(resource.RUSAGE_SELF) - cpu,
                "tests": len(outcomes),
            }
        )
    return {"first": runs[0], "second": runs[1]}


def in_fresh_process(tasks: list[str]) -> dict:
    completed = subprocess.run(
        [PYTHON, __file__, "--child", *tasks],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--suite", action="store_true")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure_in_process(args.child)))
        return
    anchors = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        subprocess.run([PYTHON, "-c", "import tensorflow"], check=True, capture_output=True)
        anchors.append(time.perf_counter() - started)
    anchor = statistics.median(anchors)
    print(f"{CORES} cores; python -c 'import tensorflow': {anchor:.1f} s (the anchor)")
    print(f"{'in-process, grading profile':<44}{'wall':>8}{'CPU':>8}{'x TF':>7}  best possible")

    def median(runs: list[dict], which: str, key: str) -> float:
        return statistics.median(run[which][key] for run in runs)

    every = [in_fresh_process([]) for _ in range(args.repeat)]
    for which, label in (("first", "every task, first run"), ("second", "every task, warm")):
        wall, cpu = median(every, which, "wall"), median(every, which, "cpu")
        print(
            f"{label:<44}{wall:7.1f}s{cpu:7.1f}s{wall / anchor:7.2f}  a full grade "
            f">= {cpu / CORES:.1f} s on {CORES} cores (aim 20 s)   load {load()}"
        )
    losses = [in_fresh_process(["style_losses"]) for _ in range(args.repeat)]
    wall, cpu = median(losses, "second", "wall"), median(losses, "second", "cpu")
    print(
        f"{'style_losses, warm':<44}{wall:7.1f}s{cpu:7.1f}s{wall / anchor:7.2f}  grade-all "
        f"-j {CORES} <= {CORES * 60 / wall:.1f} a minute (aim 30)   load {load()}"
    )
    if args.suite:
        before = cpu_seconds(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, "-m", "pytest", "--impl", "solutions", "-n", "2", "--dist", "loadfile"]
            + ["-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
        )
        wall = time.perf_counter() - started
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - before
        print(
            f"{'the suite, -n 2':<44}{wall:7.0f}s{cpu:7.0f}s{wall / anchor:7.0f}  "
            f">= {cpu / CORES / 60:.1f} min on {CORES} cores (aim 8 min)   load {load()}"
        )


if __name__ == "__main__":
    main()
