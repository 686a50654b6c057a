"""Where people wait (issue 17): each figure against its anchor, in the same run.

    .venv/bin/python benchmarks/speed.py [--repeat 3] [--skip-grades]

Figures (median of ``--repeat`` fresh processes each, the load average printed with each):

1. the anchor: a bare ``python -c "import tensorflow"``;
2. the student's loop: ``pytest --task T tests/public`` (the reference as ``--impl``, the dev
   profile) for a numpy-only task (``metrics``), and two TensorFlow tasks (``conv``,
   ``style_losses``); aims 3 s and 8 s;
3. a submission whose every function loops (``tests/fixtures/adversarial/infinite_loop``),
   ``grader grade --task style_losses`` in the sandbox; aim 60 s;
4. sandboxed grades of the reference: metrics (numpy only), style_losses, and every task
   (``grader grade solutions``; aim 20 s).

Each grade is measured with the worker template (the default) and without it
(``PRACTICUM_SANDBOX_TEMPLATE=0``: every worker imports TensorFlow itself), in the same run.

``--skip-grades`` measures 1 and 2 only. The suite's own time is in ``docs/benchmarks.md``
(the durations of ``python3 dev.py test``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def seconds(command: list[str], ok=(0,), env: dict | None = None) -> float:
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    took = time.monotonic() - started
    if completed.returncode not in ok:
        sys.exit(f"{' '.join(command)} exited {completed.returncode}:\n{completed.stderr[-2000:]}")
    return took


def median_of(command: list[str], repeat: int, ok=(0,), env: dict | None = None) -> float:
    return statistics.median(seconds(command, ok, env) for _ in range(repeat))


def row(name: str, value: float, anchor: float, aim: float | None) -> None:
    aimed = f"{aim:g} s" if aim else "-"
    print(f"{name:<52}{value:9.1f} s{value / anchor:9.2f}{aimed:>8}   load {load()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-grades", action="store_true")
    args = parser.parse_args()
    print(f"{'figure':<52}{'median':>11}{'x TF':>9}{'aim':>8}")
    anchor = median_of([PYTHON, "-c", "import tensorflow"], args.repeat)
    row("python -c 'import tensorflow' (the anchor)", anchor, anchor, None)
    for task, aim in (("metrics", 3), ("conv", 8), ("style_losses", 8)):
        command = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--impl", "solutions"]
        value = median_of([*command, "--task", task, "tests/public"], args.repeat)
        row(f"student loop: pytest --task {task} tests/public", value, anchor, aim)
    if args.skip_grades:
        return
    grade = [PYTHON, "-m", "practicum.grader.cli", "grade", "--sandbox", "auto"]
    loop = str(ROOT / "tests/fixtures/adversarial/infinite_loop")
    grades = [
        ("grader grade infinite_loop --task style_losses", [loop, "--task", "style_losses"], 60),
        ("grader grade solutions --task metrics", ["solutions", "--task", "metrics"], None),
        (
            "grader grade solutions --task style_losses",
            ["solutions", "--task", "style_losses"],
            None,
        ),
        ("grader grade solutions (every task, sandboxed)", ["solutions"], 20),
    ]
    with tempfile.TemporaryDirectory() as out:
        for name, arguments, aim in grades:
            for template, label in (("1", ""), ("0", ", no worker template")):
                value = median_of(
                    [*grade, *arguments, "--out", out],
                    1 if aim else args.repeat,
                    env={"PRACTICUM_SANDBOX_TEMPLATE": template},
                )
                row(f"{name}{label}", value, anchor, aim)


if __name__ == "__main__":
    main()
