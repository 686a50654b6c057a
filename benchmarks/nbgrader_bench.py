"""nbgrader's own ``autograde`` against the sandboxed path, for one submission.

    .venv/bin/python benchmarks/nbgrader_bench.py [--assignment assignment3] [--repeat 2]

Sets up a temporary nbgrader course and exchange (``generate_assignment``,
``release_assignment``, ``fetch_assignment``, the reference answers filled in, ``submit``,
``collect``), then times, alternately and ``--repeat`` times each:

1. ``nbgrader autograde ASSIGNMENT --student alice --force``: the notebook runs in a
   Jupyter kernel with the instructor's permissions; its check cells run the tests there;
2. ``grader nbgrader-autograde COURSE ASSIGNMENT --student alice``: the same submission
   rebuilt into task modules, graded by the sandboxed grader (``--sandbox``, default the
   strongest available), scores written into the same gradebook.

Each run is a fresh process (TensorFlow's import included). Both must give the same
scores; the script checks it and prints the wall times, the ratio and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.course.nbgrader_helpers import (  # noqa: E402
    BIN,
    COURSE_ID,
    env,
    fill_in,
    make_course,
    nbgrader,
)


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def scores(course: Path, assignment: str) -> dict[str, float | None]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, "alice")
        return {grade.name: grade.auto_score for grade in notebook.grades}


def show_errors(notebook: Path) -> None:
    """Prints the error outputs of an autograded notebook (none for the reference)."""
    for cell in json.loads(notebook.read_text())["cells"]:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
                print(f"  error in {grade_id}:\n  " + "\n  ".join(output["traceback"])[:3000])


def timed(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env(), capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode:
        sys.exit(f"{' '.join(command[:2])} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="assignment3")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--sandbox", default="auto")
    args = parser.parse_args()
    os.environ["PATH"] = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
    assignment = args.assignment
    with tempfile.TemporaryDirectory(prefix="nbgrader-bench-") as scratch:
        tmp = Path(scratch)
        course, exchange, home = make_course(tmp / "course"), tmp / "exchange", tmp / "alice"
        exchange.mkdir()
        home.mkdir()
        nbgrader("generate_assignment", assignment, "--force", cwd=course, exchange=exchange)
        nbgrader("release_assignment", assignment, cwd=course, exchange=exchange)
        nbgrader(
            "fetch_assignment", assignment, f"--course={COURSE_ID}", cwd=home, exchange=exchange
        )
        fill_in(
            home / assignment / f"{assignment}.ipynb",
            course / "source" / assignment / f"{assignment}.ipynb",
        )
        nbgrader(
            "submit",
            assignment,
            f"--course={COURSE_ID}",
            "--student=alice",
            cwd=home,
            exchange=exchange,
        )
        nbgrader("collect", assignment, cwd=course, exchange=exchange)
        ours_command = [
            str(BIN / "grader"),
            "nbgrader-autograde",
            str(course),
            assignment,
            "--student",
            "alice",
            "--sandbox",
            args.sandbox,
        ]
        theirs_command = [
            str(BIN / "nbgrader"),
            "autograde",
            assignment,
            "--student",
            "alice",
            "--force",
            f"--Exchange.root={exchange}",
        ]
        times: dict[str, list[float]] = {"nbgrader": [], "sandboxed": []}
        results: dict[str, dict] = {}
        seen: list[dict] = []
        for round_ in range(args.repeat):
            for label, command in (("nbgrader", theirs_command), ("sandboxed", ours_command)):
                before = load()
                seconds = timed(command, course)
                times[label].append(seconds)
                results[label] = scores(course, assignment)
                seen.append(results[label])
                if label == "nbgrader":
                    show_errors(
                        course / "autograded" / "alice" / assignment / f"{assignment}.ipynb"
                    )
                print(
                    f"round {round_ + 1} {label:<10} {seconds:7.1f} s   load {before} -> {load()}",
                    flush=True,
                )
        if any(result != seen[0] for result in seen):
            sys.exit("the scores differ between runs:\n" + "\n".join(map(str, seen)))
        total = sum(score or 0 for score in results["nbgrader"].values())
        theirs, ours = (statistics.median(times[label]) for label in ("nbgrader", "sandboxed"))
        print(f"\n{assignment}, one submission ({total:g} points autograded, the same both ways)")
        print(f"nbgrader autograde (kernel, unsandboxed): median {theirs:.1f} s")
        print(f"grader nbgrader-autograde ({args.sandbox}):   median {ours:.1f} s")
        print(f"ratio sandboxed / nbgrader: x{ours / theirs:.2f}")


if __name__ == "__main__":
    main()
