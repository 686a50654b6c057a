"""``grader grade-all``: a whole class, in parallel, resumable, never stale.

Every subfolder of the submissions folder is one student, graded (up to ``jobs`` at once)
into ``OUT/<student>``: the student's reports and, last and atomically, ``grade.json`` with
the fingerprint of what decided the grade (:func:`.grade.fingerprint`). With a sandbox, each
job is a warm grader process that grades student after student (:mod:`.grade_server`; each
student's code in its own fresh sandboxed worker); with ``sandbox="off"`` each student gets
a ``grader grade SUBMISSION --out OUT/<student>`` process of its own. On a rerun, a student
whose fingerprint is unchanged is skipped (so a run killed half way grades only what is
missing); one whose points configuration alone changed is rescored from the stored
outcomes, without running any code; any other change (submission, reference, tests, task
list, course) is regraded. The class CSV (``OUT/class.csv``) is rebuilt at the end from the
current students' up-to-date ``grade.json`` (a student that failed to grade has no row),
sorted by student, so it is the same, byte for byte, as a run from scratch.

A student folder is graded under its own name if that is a plain name (:func:`safe_name`),
else under a derived one (a slug of the name and a hash of it) that no folder name can
take; the run's summary lists them. Hidden folders and symbolic links are left out and
listed. No folder name can stop the class.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import practicum
from practicum.grader.export import leaderboard, reports
from practicum.grader.grading import grade, scoring
from practicum.grader.grading.grade_server import WarmGrader, die_with_parent
from practicum.grader.grading.late import read_times, submission_time
from practicum.grader.grading.roster import MISSING, UNKNOWN, read_roster, statuses

RESULT_FILE = "grade.json"
CLASS_CSV = "class.csv"
# what grade-all itself writes in OUT
RESERVED_NAMES = frozenset({CLASS_CSV, leaderboard.HTML_FILE, leaderboard.PNG_FILE})
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass
class ClassRun:
    graded: list[str]
    skipped: list[str]
    failed: dict[str, str]
    csv_path: Path
    seconds: float
    leaderboard: Path | None = None  # OUT/leaderboard.html, when an attempt was measured
    rescored: list[str] = field(default_factory=list)
    regraded: dict[str, str] = field(default_factory=dict)  # student -> what changed
    renamed: dict[str, str] = field(default_factory=dict)  # folder name -> graded as
    ignored: dict[str, str] = field(default_factory=dict)  # folder name -> why


def is_plain_name(name: str) -> bool:
    """Letters, digits, ``.``, ``_`` and ``-`` only, starting with a letter or digit, at
    most 64 characters, no ``__``, not ending in ``.``, and not a name grade-all writes."""
    return (
        bool(_PLAIN_NAME.fullmatch(name))
        and "__" not in name
        and not name.endswith(".")
        and name.lower() not in RESERVED_NAMES
    )


def derived_name(name: str, digits: int = 12) -> str:
    """``<slug>__<hash>``: the ASCII letters and digits of ``name`` and a SHA-256 of all of
    it. It holds ``__``, so no plain name is ever equal to it."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-")[:40].strip("-") or "student"
    return f"{slug}__{hashlib.sha256(os.fsencode(name)).hexdigest()[:digits]}"


def safe_name(name: str) -> str:
    """The name a student folder is graded under (see :func:`is_plain_name`)."""
    return name if is_plain_name(name) else derived_name(name)


def students(submissions: Path) -> dict[str, Path]:
    """``graded name -> folder`` for every student folder (sorted by graded name). Names
    that are equal but for case (which a case-insensitive disk would merge) and derived
    names that collide get longer derived names."""
    return student_folders(submissions)[0]


def student_folders(submissions: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """``(graded name -> folder, ignored folder name -> why)``."""
    folders, ignored = [], {}
    for path in sorted(Path(submissions).iterdir()):
        if path.name.startswith("."):
            if path.is_dir():
                ignored[path.name] = "hidden folder"
        elif path.is_symlink():
            ignored[path.name] = "symbolic link"
        elif path.is_dir():
            folders.append(path)
    names = {path: safe_name(path.name) for path in folders}
    clashes = Counter(name.lower() for name in names.values())
    for path, name in names.items():
        if clashes[name.lower()] > 1:
            names[path] = derived_name(path.name, digits=64)
    return dict(sorted((name, path) for path, name in names.items())), ignored


def _stored(directory: Path) -> dict | None:
    try:
        return json.loads((directory / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None


def changes(stored: dict | None, expected: dict) -> list[str]:
    """What differs between a stored grade's fingerprint and the expected one: ``[]`` if
    it is up to date, ``["new"]`` if there is no grade yet."""
    if stored is None:
        return ["new"]
    old = stored.get("fingerprint")
    if not isinstance(old, dict):
        return ["no fingerprint"]
    return [key for key in expected if old.get(key) != expected[key]]


def rescore(
    directory: Path, config: scoring.GradingConfig, fingerprint: dict
) -> scoring.StudentResult:
    """Scores a student again from the outcomes stored in ``directory/grade.json`` (every
    field of every row) with ``config``, and rewrites the reports. No code runs."""
    data = json.loads((directory / RESULT_FILE).read_text())
    scored_from = data["scored_from"]
    result = scoring.score_student(
        data["student"],
        [dict(row) for row in scored_from["outcomes"]],
        config,
        expected_tasks=scored_from["expected_tasks"],
        task_notes=scored_from["task_notes"],
        notes=scored_from["notes"],
        sandbox=data.get("sandbox", ""),
        seconds=data.get("seconds", 0.0),
        submitted_at=fingerprint.get("submitted_at", ""),
    )
    scored_from = {**scored_from, "submitted_at": fingerprint.get("submitted_at", "")}
    reports.write_student_reports(
        result, config, directory, fingerprint=fingerprint, scored_from=scored_from
    )
    return result


def _why(reasons: dict[str, str]) -> str:
    counts = Counter(reasons.values())
    return "; ".join(f"{reason}: {count}" for reason, count in sorted(counts.items()))


def grade_all(
    submissions: Path | str,
    out: Path | str,
    *,
    jobs: int = 2,
    sandbox: str = "auto",
    sandbox_timeout: float | None = None,
    config_path: Path | str | None = None,
    tasks: Sequence[str] = (),
    reference: str = "solutions",
    student_timeout: float = 3600,
    rescore_only: bool = False,
    roster: Path | str | None = None,
    times: Path | str | None = None,
    root: Path = practicum.REPO_ROOT,
    progress=print,
) -> ClassRun:
    """Grades every student folder of ``submissions`` whose grade in ``out`` is missing or
    stale; rescores those whose points alone changed. With ``rescore_only``, no student code
    runs: a student that needs grading is listed as failed instead. ``roster`` (a CSV,
    :mod:`.roster`) adds the students who handed nothing in to ``class.csv`` and marks
    folders not on it; ``times`` (a CSV ``student,submitted_at``) says when each handed in,
    for ``grading.toml``'s ``[late]`` rule (else the collection's files, :mod:`.late`)."""
    started = time.monotonic()
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    everyone, ignored = student_folders(submissions)
    renamed = {path.name: name for name, path in everyone.items() if name != path.name}
    for folder, why in ignored.items():
        progress(f"grade-all: left out {ascii(folder)} ({why})")
    if renamed:
        progress(f"grade-all: {len(renamed)} folder name(s) are not plain names, graded as:")
        for folder, name in sorted(renamed.items(), key=lambda item: item[1]):
            progress(f"  {name}: {ascii(folder)}")
    config = scoring.load_config(config_path if config_path is not None else root / "grading.toml")
    common = grade.fingerprint_common(
        reference=reference, config_path=config_path, tasks=tasks, root=root
    )
    listed = read_roster(roster) if roster is not None else None
    handed_in = read_times(times) if times is not None else {}
    when = {}
    for name, path in everyone.items():
        moment = handed_in.get(name) or handed_in.get(path.name) or submission_time(path)[0]
        when[name] = moment.isoformat() if moment is not None else ""
    expected = {
        name: {"submission": grade.digest(path), "submitted_at": when[name], **common}
        for name, path in everyone.items()
    }
    todo, skipped, rescored, regraded = [], [], [], {}
    for name in everyone:
        stored = _stored(out / name)
        changed = changes(stored, expected[name])
        if not changed:
            skipped.append(name)
        elif set(changed) <= {"points", "submitted_at"} and isinstance(
            stored.get("scored_from"), dict
        ):
            rescored.append(name)
        else:
            todo.append(name)
            if changed != ["new"]:
                regraded[name] = f"{', '.join(changed)} changed"
    if skipped:
        progress(f"grade-all: {len(skipped)} student(s) already graded, {len(todo)} to go")
    if regraded:
        progress(f"grade-all: {len(regraded)} grade(s) out of date ({_why(regraded)})")
    failed: dict[str, str] = {}
    for name in rescored:
        try:
            rescore(out / name, config, expected[name])
        except (OSError, KeyError, TypeError, ValueError) as error:
            failed[name] = f"could not rescore: {error}"
    if rescored:
        progress(f"grade-all: {len(rescored) - len(failed)} rescored (points changed), no code run")
    if rescore_only and todo:
        for name in todo:
            failed[name] = (
                f"needs grading ({regraded.get(name, 'new')}): run grade-all without --rescore"
            )
        todo = []

    # With a sandbox, one warm grader process per job grades student after student (each
    # student's code in its own fresh sandboxed worker); without one, the student's code
    # runs in the grader, so each student gets a process of its own.
    warm = queue.SimpleQueue()
    if sandbox != "off":
        for _ in range(max(1, jobs)):
            warm.put(WarmGrader())

    def in_own_process(name: str) -> str | None:
        """Grades ``name`` in a ``grader grade`` process of its own; None, or why not."""
        command = [
            sys.executable,
            "-m",
            "practicum.grader.cli",
            "grade",
            str(everyone[name]),
            "--out",
            str(out / name),
            "--sandbox",
            sandbox,
            "--reference",
            reference,
            "--student",
            name,
            "--no-reference-check",
        ]
        if sandbox_timeout is not None:
            command += ["--timeout", str(sandbox_timeout)]
        if config_path is not None:
            command += ["--config", str(config_path)]
        if when[name]:
            command += ["--submitted-at", when[name]]
        for task in tasks:
            command += ["--task", task]
        try:
            completed = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=student_timeout,
                preexec_fn=die_with_parent,
            )
        except subprocess.TimeoutExpired:
            return f"grading took more than {student_timeout:g} s"
        if completed.returncode != 0:
            return (completed.stderr or completed.stdout)[-2000:]
        return None

    def in_warm_grader(name: str) -> str | None:
        """Grades ``name`` in one of the jobs' warm grader processes; None, or why not."""
        request = {
            "submission": str(everyone[name]),
            "out": str(out / name),
            "student": name,
            "sandbox": sandbox,
            "sandbox_timeout": sandbox_timeout,
            "config_path": None if config_path is None else str(config_path),
            "reference": reference,
            "tasks": list(tasks),
            "root": str(root),
            "submitted_at": when[name],
        }
        grader = warm.get()
        try:
            reply = grader.grade(request, timeout=student_timeout)
        finally:
            warm.put(grader)
        if not reply.get("ok"):
            return str(reply.get("error", "the grader process failed"))[-2000:]
        return None

    def grade_one(name: str) -> None:
        begin = time.monotonic()
        problem = in_own_process(name) if sandbox == "off" else in_warm_grader(name)
        result = _stored(out / name)
        if problem is not None or result is None:
            failed[name] = problem or "no grade.json was written"
            progress(f"grade-all: {name}: FAILED to grade")
            return
        if changes(result, expected[name]):
            failed[name] = (
                f"{', '.join(changes(result, expected[name]))} changed while "
                "grading: run grade-all again"
            )
            progress(f"grade-all: {name}: FAILED to grade ({failed[name]})")
            return
        progress(
            f"grade-all: {name}: {result['score']:.2f} / {result['max_score']:.2f} "
            f"({time.monotonic() - begin:.0f} s)"
        )

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(grade_one, todo))
    finally:
        while not warm.empty():
            warm.get().close()
    results = stored_results(out, [name for name in everyone if name not in failed])
    csv_path = write_class_csv(out, results, listed)
    board = leaderboard.write_leaderboard(out, results)
    status = statuses(listed, list(everyone))
    missing = [name for name, why in status.items() if why == MISSING]
    unknown = [name for name, why in status.items() if why == UNKNOWN]
    if missing:
        progress(
            f"grade-all: {len(missing)} on the roster handed nothing in: " + ", ".join(missing)
        )
    if unknown:
        progress(f"grade-all: {len(unknown)} folder(s) not on the roster: " + ", ".join(unknown))
    return ClassRun(
        graded=[name for name in todo if name not in failed],
        skipped=skipped,
        failed=failed,
        csv_path=csv_path,
        seconds=time.monotonic() - started,
        leaderboard=board[0] if board else None,
        rescored=[name for name in rescored if name not in failed],
        regraded=regraded,
        renamed=renamed,
        ignored=ignored,
    )


def stored_results(out: Path, names: Sequence[str] | None = None) -> list[scoring.StudentResult]:
    """The results in the ``grade.json`` of ``names`` (every student folder in ``out`` if not
    given), skipping folders that hold none."""
    out = Path(out)
    if names is None:
        paths = sorted(out.glob(f"*/{RESULT_FILE}"))
    else:
        paths = [out / name / RESULT_FILE for name in names]
    return [
        scoring.StudentResult.from_json(json.loads(path.read_text()))
        for path in paths
        if path.is_file()
    ]


def write_class_csv(out: Path, results: Sequence[scoring.StudentResult], roster=None) -> Path:
    """``OUT/class.csv`` from ``results``, with the ``roster``'s students if given
    (:func:`.reports.class_csv`). No student folder is ever named ``class.csv``."""
    csv_path = Path(out) / CLASS_CSV
    reports.atomic_write(csv_path, reports.class_csv(results, roster))
    return csv_path
