"""``grader similarity SUBMISSIONS --out DIR``: which students' code is unusually alike.

Each student's task modules (notebooks converted as for grading) are fingerprinted with
``copydetect`` (winnowing, as MOSS does: Schleimer, Wilkerson and Aiken, 2003), the released
stub of each task as boilerplate, so the provided code and the stub's skeleton never count.
Every pair of students is compared task by task; ``DIR/similarity.html`` lists the most
similar pairs (the share of each one's code found in the other's, and the first shared
passages, escaped) and ``DIR/similarity.csv`` every pair. It only informs: no score changes.
A high figure is a reason to look, not a verdict (short tasks have little room to differ).
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import practicum
from practicum.grader.export.reports import atomic_write, csv_cell

NOISE_TOKENS = 25  # copydetect's defaults: matches shorter than this are noise
GUARANTEE_TOKENS = 30  # ... and matches at least this long are always found


@dataclass(frozen=True)
class Pair:
    task: str
    first: str
    second: str
    share_first: float  # of first's code (without boilerplate) found in second's
    share_second: float
    tokens: int
    passages: tuple[str, ...]  # the first shared passages, from first's code

    @property
    def score(self) -> float:
        return max(self.share_first, self.share_second)


def _fingerprints(folder: Path, tasks: list[str], boilerplate: dict[str, list], scratch: Path):
    from copydetect import CodeFingerprint

    from practicum.grader.grading import submissions

    prepared = submissions.prepare_submission(folder, scratch)
    found = {}
    for task in tasks:
        path = Path(prepared.directory) / f"{task}.py"
        if path.is_file() and path.stat().st_size:
            found[task] = CodeFingerprint(
                str(path),
                NOISE_TOKENS,
                GUARANTEE_TOKENS - NOISE_TOKENS + 1,
                boilerplate=boilerplate.get(task),
                language="python",
            )
    return found


def compare_class(
    submissions_dir: Path | str, tasks: list[str] | None = None, root: Path = practicum.REPO_ROOT
) -> list[Pair]:
    """Every pair of students, per task both handed in, most similar first."""
    from copydetect import CodeFingerprint, compare_files

    from practicum.grader.grading.grade import task_names
    from practicum.grader.grading.grade_all import student_folders

    tasks = list(tasks or task_names(root))
    boilerplate = {}
    for task in tasks:
        stub = root / "exercises" / f"{task}.py"
        if stub.is_file():
            hashes = CodeFingerprint(str(stub), NOISE_TOKENS, 1, language="python").hashes
            boilerplate[task] = np.array(sorted(hashes), dtype=np.int64)
    folders, _ = student_folders(Path(submissions_dir))
    prints = {}
    with tempfile.TemporaryDirectory(prefix="practicum-similarity-") as scratch:
        for name, folder in sorted(folders.items()):
            prints[name] = _fingerprints(folder, tasks, boilerplate, Path(scratch) / name)
    pairs = []
    for first, second in itertools.combinations(sorted(prints), 2):
        for task in tasks:
            a, b = prints[first].get(task), prints[second].get(task)
            if a is None or b is None:
                continue
            tokens, (share_a, share_b), (slices_a, _) = compare_files(a, b)
            passages = (
                tuple(
                    a.raw_code[start:end].strip()[:400] for start, end in list(zip(*slices_a))[:3]
                )
                if tokens
                else ()
            )
            pairs.append(
                Pair(
                    task,
                    first,
                    second,
                    round(float(share_a), 4),
                    round(float(share_b), 4),
                    int(tokens),
                    passages,
                )
            )
    return sorted(pairs, key=lambda pair: (-pair.score, pair.task, pair.first, pair.second))


def pairs_csv(pairs: list[Pair]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["task", "first", "second", "share_of_first", "share_of_second", "shared_tokens"]
    )
    for pair in pairs:
        writer.writerow(
            [
                csv_cell(pair.task),
                csv_cell(pair.first),
                csv_cell(pair.second),
                f"{pair.share_first:.4f}",
                f"{pair.share_second:.4f}",
                pair.tokens,
            ]
        )
    return out.getvalue()


def pairs_html(pairs: list[Pair], top: int = 20) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(p.task)}</td><td>{e(p.first)}</td><td>{e(p.second)}</td>"
        f"<td>{100 * p.share_first:.0f} %</td><td>{100 * p.share_second:.0f} %</td>"
        f"<td>{p.tokens}</td></tr>"
        for p in pairs[:top]
    )
    details = "".join(
        f"<h3>{e(p.task)}: {e(p.first)} and {e(p.second)}</h3>"
        + "".join(f"<pre>{e(passage)}</pre>" for passage in p.passages)
        for p in pairs[:top]
        if p.passages
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>Similarity</title><style>"
        "body{font-family:sans-serif;max-width:70em;margin:2em auto}td,th{padding:.2em .6em}"
        "pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}</style>"
        "<h1>Most similar pairs</h1><p>The share of each student's code (the stub's "
        "boilerplate left out) found in the other's. It informs; it changes no score.</p>"
        "<table><tr><th>task</th><th>first</th><th>second</th><th>of first</th>"
        f"<th>of second</th><th>shared tokens</th></tr>{rows}</table>{details}"
    )


def write_similarity(
    submissions_dir: Path | str, out: Path | str, tasks: list[str] | None = None
) -> list[Pair]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = compare_class(submissions_dir, tasks)
    atomic_write(out / "similarity.csv", pairs_csv(pairs))
    atomic_write(out / "similarity.html", pairs_html(pairs))
    return pairs
