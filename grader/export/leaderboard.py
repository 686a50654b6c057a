"""The class leaderboard of the CIFAR-10 challenge: ``OUT/leaderboard.html`` and ``.png``.

``grader grade-all`` writes them after ``class.csv`` from the students' ``grade.json``: one
row per student whose grading measured an attempt (the first test with a ``leaderboard``
field: accuracy, seconds, parameters), best accuracy first, then fewer seconds, then fewer
parameters. Student names come from folder names (untrusted): HTML-escaped, and the plot
shows points only.

Example::

    rows = leaderboard_rows(results)
    write_leaderboard(Path("grades"), results)  # (html_path, png_path), or None: no attempt
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from practicum.grader.export.reports import atomic_write, visible
from practicum.grader.grading.results import StudentResult

HTML_FILE = "leaderboard.html"
PNG_FILE = "leaderboard.png"


@dataclass(frozen=True)
class Entry:
    student: str
    task: str
    test: str
    accuracy: float  # percent
    seconds: float
    parameters: int
    score: float
    max_score: float


def leaderboard_rows(results: Iterable[StudentResult]) -> list[Entry]:
    """One entry per student with a measured attempt, best first."""
    rows = []
    for result in results:
        measured = next(
            (
                (task, test)
                for task in result.tasks
                for test in task.tests
                if test.leaderboard and "accuracy" in test.leaderboard
            ),
            None,
        )
        if measured is None:
            continue
        task, test = measured
        board = test.leaderboard
        rows.append(
            Entry(
                student=result.student,
                task=task.task,
                test=test.name,
                accuracy=float(board["accuracy"]),
                seconds=float(board.get("seconds", 0.0)),
                parameters=int(board.get("parameters", 0)),
                score=test.score,
                max_score=test.max_score,
            )
        )
    return sorted(rows, key=lambda row: (-row.accuracy, row.seconds, row.parameters, row.student))


def leaderboard_html(rows: list[Entry]) -> str:
    cells = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{cell}</td>"
            for cell in (
                rank,
                html.escape(visible(row.student)),
                f"{row.accuracy:.2f}",
                f"{row.seconds:.1f}",
                f"{row.parameters:,}",
                f"{row.score:.2f} / {row.max_score:.2f}",
            )
        )
        + "</tr>"
        for rank, row in enumerate(rows, start=1)
    )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>CIFAR-10 challenge "
        "leaderboard</title><style>table{border-collapse:collapse}td,th{padding:2px 8px;"
        "border-bottom:1px solid #ccc;text-align:right}</style></head><body>\n"
        "<h1>CIFAR-10 challenge</h1>\n<p>Test accuracy within the calibrated budget; ties "
        "broken by fewer seconds (build, train and predict, timed by the grader), then fewer "
        "parameters.</p>\n<table>\n<tr><th>#</th><th>student</th><th>accuracy (%)</th>"
        "<th>seconds</th><th>parameters</th><th>points</th></tr>\n"
        f"{cells}\n</table>\n</body></html>\n"
    )


def plot_leaderboard(rows: list[Entry], path: Path) -> Path:
    """Accuracy against parameters (log scale), one point per student, no names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4), dpi=100)
    axis.scatter([max(1, row.parameters) for row in rows], [row.accuracy for row in rows])
    axis.set_xscale("log")
    axis.set_xlabel("parameters")
    axis.set_ylabel("test accuracy (%)")
    axis.set_title(f"CIFAR-10 challenge: {len(rows)} attempt(s)")
    axis.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def write_leaderboard(out: Path, results: Iterable[StudentResult]) -> tuple[Path, Path] | None:
    """Writes ``OUT/leaderboard.html`` and ``OUT/leaderboard.png``; None (and nothing
    written) when no result measured an attempt."""
    rows = leaderboard_rows(results)
    if not rows:
        return None
    out = Path(out)
    page = out / HTML_FILE
    atomic_write(page, leaderboard_html(rows))
    return page, plot_leaderboard(rows, out / PNG_FILE)
