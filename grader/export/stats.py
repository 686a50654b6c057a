"""``grader stats OUT --out DIR``: what the class got right and wrong, before a section.

From the stored grades of ``grader grade-all`` (``OUT/<student>/grade.json``; no code runs):

* ``tests.csv``: one row per test: how many students ran it, the pass rate, the share whose
  pass scored 0 (withheld), sorted from the least passed;
* ``mistakes.csv``: each "Likely mistake" the feedback named, with how many students got it
  and in which tests;
* ``stats.md``: both tables' top rows and each task's mean, median and spread;
* ``scores.png``: a histogram of the scores per task; ``failures.png``: the most failed tests
  and the most common likely mistakes, as bar charts.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from practicum.grader.export.reports import atomic_write, csv_cell
from practicum.grader.export.reports import md_inline as md
from practicum.grader.grading.results import StudentResult

_LIKELY = re.compile(r"Likely mistake: ([^\n]{1,300})")


def test_rows(results: list[StudentResult]) -> list[dict]:
    """Per test (by task and name): students, passed, withheld, pass rate; least passed first."""
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for result in results:
        for task in result.tasks:
            for test in task.tests:
                key = (task.task, test.name)
                counts[key]["ran"] += 1
                counts[key]["passed"] += test.passed
                counts[key]["withheld"] += bool(test.passed and test.withheld)
    rows = [
        {
            "task": task,
            "test": name,
            "students": c["ran"],
            "passed": c["passed"],
            "withheld": c["withheld"],
            "pass_rate": round(c["passed"] / c["ran"], 4),
        }
        for (task, name), c in counts.items()
    ]
    return sorted(rows, key=lambda row: (row["pass_rate"], row["task"], row["test"]))


def mistake_rows(results: list[StudentResult]) -> list[dict]:
    """Each named likely mistake: the students who got it (once each) and its tests."""
    students: dict[tuple[str, str], set[str]] = defaultdict(set)
    tests: dict[tuple[str, str], set[str]] = defaultdict(set)
    for result in results:
        for task in result.tasks:
            for test in task.tests:
                for mistake in set(_LIKELY.findall(test.message or "")):
                    key = (task.task, mistake.strip())
                    students[key].add(result.student)
                    tests[key].add(test.name.split("[", 1)[0])
    rows = [
        {
            "task": task,
            "mistake": mistake,
            "students": len(who),
            "tests": "; ".join(sorted(tests[(task, mistake)])),
        }
        for (task, mistake), who in students.items()
    ]
    return sorted(rows, key=lambda row: (-row["students"], row["task"], row["mistake"]))


def _csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in columns])
    return out.getvalue()


def task_summary(results: list[StudentResult]) -> list[dict]:
    scores: dict[str, list[float]] = defaultdict(list)
    maxima: dict[str, float] = {}
    for result in results:
        for task in result.tasks:
            scores[task.task].append(task.score)
            maxima[task.task] = task.max_score
    return [
        {
            "task": task,
            "students": len(values),
            "max": maxima[task],
            "mean": round(statistics.fmean(values), 2),
            "median": round(statistics.median(values), 2),
            "stdev": round(statistics.pstdev(values), 2),
        }
        for task, values in sorted(scores.items())
    ]


def _plots(
    results: list[StudentResult], tests: list[dict], mistakes: list[dict], out: Path
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = task_summary(results)
    figure, axes = plt.subplots(
        1, max(1, len(summary)), figsize=(3.2 * max(1, len(summary)), 3), squeeze=False
    )
    for axis, row in zip(axes[0], summary):
        values = [
            task.score for result in results for task in result.tasks if task.task == row["task"]
        ]
        axis.hist(values, bins=10, range=(0, row["max"] or 1), color="#4a7ab5")
        axis.set_title(f"{row['task']} (mean {row['mean']:g} / {row['max']:g})", fontsize=9)
        axis.set_xlabel("points")
        axis.set_ylabel("students")
    figure.suptitle(f"Scores per task, {len(results)} students")
    figure.tight_layout()
    scores_png = out / "scores.png"
    figure.savefig(scores_png, dpi=100)
    plt.close(figure)

    failed = [row for row in tests if row["passed"] < row["students"]][:12]
    named = mistakes[:12]
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 5))
    left.barh(
        [f"{row['task']}: {row['test'][:50]}" for row in failed][::-1],
        [row["students"] - row["passed"] for row in failed][::-1],
        color="#b54a4a",
    )
    left.set_title("Most failed tests (students)")
    right.barh(
        [f"{row['task']}: {row['mistake'][:50]}" for row in named][::-1],
        [row["students"] for row in named][::-1],
        color="#b5894a",
    )
    right.set_title("Most common likely mistakes (students)")
    for axis in (left, right):
        axis.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    failures_png = out / "failures.png"
    figure.savefig(failures_png, dpi=100)
    plt.close(figure)
    return [scores_png, failures_png]


def write_stats(results: list[StudentResult], out: Path | str, top: int = 10) -> list[Path]:
    """Writes the files of the module docstring into ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tests, mistakes = test_rows(results), mistake_rows(results)
    atomic_write(
        out / "tests.csv",
        _csv(tests, ["task", "test", "students", "passed", "withheld", "pass_rate"]),
    )
    atomic_write(out / "mistakes.csv", _csv(mistakes, ["task", "mistake", "students", "tests"]))
    lines = [
        f"# Class statistics: {len(results)} students",
        "",
        "| task | students | mean | median | spread (sd) | max |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {md(row['task'])} | {row['students']} | {row['mean']:g} | "
        f"{row['median']:g} | {row['stdev']:g} | {row['max']:g} |"
        for row in task_summary(results)
    ]
    lines += ["", "## Least passed tests", "", "| task | test | pass rate |", "| --- | --- | --- |"]
    lines += [
        f"| {md(row['task'])} | {md(row['test'])} | {100 * row['pass_rate']:.0f} % "
        f"({row['passed']}/{row['students']}) |"
        for row in tests[:top]
    ]
    lines += [
        "",
        "## Most common likely mistakes",
        "",
        "| task | mistake | students |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {md(row['task'])} | {md(row['mistake'])} | {row['students']} |"
        for row in mistakes[:top]
    ]
    atomic_write(out / "stats.md", "\n".join(lines) + "\n")
    return [
        out / "tests.csv",
        out / "mistakes.csv",
        out / "stats.md",
        *_plots(results, tests, mistakes, out),
    ]
