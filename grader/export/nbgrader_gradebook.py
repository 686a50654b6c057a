"""nbgrader's ``autograde``, sandboxed: ``submitted/`` -> the sandboxed grader -> gradebook.

``grader nbgrader-autograde COURSE ASSIGNMENT`` takes the notebooks that ``nbgrader
collect`` put in ``COURSE/submitted/<student>/<assignment>/``, and for each student:

1. rebuilds one module per task from the notebook's code cells, as nbgrader's kernel would
   see them: every cell nbgrader knows (by its grade id) has the source notebook's type,
   and the locked (provided) cells the source's code, as nbgrader's ``autograde`` restores
   them; the check cells are left out; a task's module runs every code cell up to the
   task's last one, one cell at a time
   (:func:`practicum.grader.grading.submissions.cells_to_module`), so a cell that does not compile
   or raises costs only what it defines, and is named in the notes;
2. runs the task tests on those modules with the sandboxed grader (``grader grade``'s
   :func:`~practicum.grader.grading.grade.run_task_tests`, the code in a bubblewrap or process
   sandbox), never in the instructor's own process or a kernel with their permissions;
3. scores each check cell with the points its part's tests earn under
   :func:`practicum.grader.grading.scoring.score_task` (``grading.toml``, as ``grader grade``
   scores them), and each written answer by nbgrader's rule (0 if unchanged, else left for manual
   grading), with the *source's* cell type, metadata, points and nbgrader's stored checksum:
   nothing in the submitted metadata or outputs counts, and no cell scores more than the source's
   points; a cell handed in with another type or metadata is noted (described, never quoted);
4. writes those scores into nbgrader's gradebook (``nbgrader.api.Gradebook``), so that the
   formgrader, ``generate_feedback`` (after nbgrader's own run) and ``export`` work as usual.

A notebook that cannot be read (not UTF-8 JSON, not a notebook, over 20 MB) scores 0 for
that student, with a message; the other students are graded as usual.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from practicum.grader.export.nbgrader_feedback import autograded_notebook, write_autograded
from practicum.grader.grading.nbgrader_submissions import (
    cell_scores,
    grade_id_of,
    nbgrader_metadata,
    read_notebook,
    rebuild,
    role_of,
    runtime_notes,
    source_rule_notes,
    written_score,
)


@dataclass
class NotebookResult:
    """One student's notebook: the score of each grade cell (None: manual grading)."""

    student: str
    notebook: str
    scores: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    autograded: dict | None = None  # the notebook for nbgrader's generate_feedback

    @property
    def auto_total(self) -> float:
        return sum(score or 0.0 for score in self.scores.values())


def grade_notebook(
    student: str,
    assignment: str,
    source_path: Path,
    submitted_path: Path,
    *,
    sandbox: str,
    timeout: float | None,
    checksums: dict[str, str] | None = None,
) -> NotebookResult:
    """Scores one notebook: every grade cell's type, metadata, points and grade id come
    from the source notebook (``checksums``: nbgrader's, from the gradebook), never from
    the submission, and no cell scores more than the source's points."""
    from practicum.grader.grading import grade

    result = NotebookResult(student, source_path.stem)
    source_nb = read_notebook(source_path)
    grade_cells = {
        grade_id_of(cell): cell
        for cell in source_nb["cells"]
        if nbgrader_metadata(cell).get("grade")
    }
    maximum = {
        grade_id: float(nbgrader_metadata(cell)["points"]) for grade_id, cell in grade_cells.items()
    }
    zero = {grade_id: 0.0 for grade_id in grade_cells}
    if not submitted_path.is_file():
        result.scores = zero
        result.notes.append(f"no {submitted_path.name} was submitted: 0 points")
        result.autograded = autograded_notebook(source_nb, None, [], result.notes)
        return result
    try:
        submitted_nb = read_notebook(submitted_path, result.notes)
        rebuilt = rebuild(source_nb, submitted_nb)
    except ValueError as error:
        result.scores = zero
        result.notes.append(f"{error}: the notebook could not be read, so it scores 0")
        result.autograded = autograded_notebook(source_nb, None, [], result.notes)
        return result
    result.notes += source_rule_notes(source_nb, submitted_nb) + rebuilt.notes
    with tempfile.TemporaryDirectory(prefix="practicum-nbgrader-") as scratch:
        for task, text in rebuilt.modules.items():
            (Path(scratch) / f"{task}.py").write_text(text, encoding="utf-8")
        outcomes = grade.run_task_tests(
            scratch, tasks=list(rebuilt.modules), sandbox=sandbox, sandbox_timeout=timeout
        )
    if not outcomes:
        result.notes.append("no test ran on this notebook")
    result.notes += runtime_notes(outcomes, rebuilt.labels)
    checks = cell_scores(assignment, outcomes)
    submitted_cells: dict[str, dict] = {}
    for cell in submitted_nb["cells"]:
        submitted_cells.setdefault(grade_id_of(cell), cell)
    for grade_id, source_cell in grade_cells.items():
        if role_of(source_cell) == "check" or grade_id in checks:
            score = checks.get(grade_id, 0.0)
        else:
            score = written_score(
                source_cell, submitted_cells.get(grade_id), (checksums or {}).get(grade_id)
            )
        result.scores[grade_id] = None if score is None else max(0.0, min(score, maximum[grade_id]))
    result.autograded = autograded_notebook(
        source_nb, submitted_nb, outcomes, [f"graded with --sandbox {sandbox}", *result.notes]
    )
    return result


def save_scores(
    db_url: str, course_id: str, assignment: str, result: NotebookResult, timestamp
) -> None:
    """Writes one notebook's scores into the gradebook, as nbgrader's autograde does."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        gradebook.update_or_create_student(result.student)
        if timestamp is not None:
            gradebook.update_or_create_submission(assignment, result.student, timestamp=timestamp)
        else:
            gradebook.update_or_create_submission(assignment, result.student)
        for grade_id, score in result.scores.items():
            grade = gradebook.find_grade(grade_id, result.notebook, assignment, result.student)
            grade.auto_score = score
            grade.needs_manual_grade = grade.manual_score is not None or score is None
        gradebook.db.commit()


def course_id_of(course: Path) -> str:
    from traitlets.config.loader import PyFileConfigLoader

    config_file = course / "nbgrader_config.py"
    if not config_file.is_file():
        return "default_course"
    config = PyFileConfigLoader(config_file.name, path=str(course)).load_config()
    return config.CourseDirectory.get("course_id", "default_course")


def _alembic_on_path() -> None:
    """nbgrader's gradebook runs ``alembic`` from PATH: this environment's first."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])


def autograde(
    course: Path,
    assignment: str,
    *,
    students: list[str] | None = None,
    db_url: str | None = None,
    sandbox: str = "auto",
    timeout: float | None = None,
    log=print,
) -> list[NotebookResult]:
    """Grades ``course/submitted/*/assignment`` in the sandbox into the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    course = Path(course).resolve()
    if not course.is_dir():
        raise ValueError(f"{course} is not a directory (give the nbgrader course directory)")
    if db_url is None and not (course / "gradebook.db").is_file():
        raise ValueError(
            f"{course} has no gradebook.db: run `nbgrader generate_assignment "
            f"{assignment}` there first, or give --db"
        )
    _alembic_on_path()
    db_url = db_url or f"sqlite:///{course / 'gradebook.db'}"
    course_id = course_id_of(course)
    with Gradebook(db_url, course_id) as gradebook:
        try:
            checksums = {
                notebook.name: {cell.name: cell.checksum for cell in notebook.source_cells}
                for notebook in gradebook.find_assignment(assignment).notebooks
            }
        except MissingEntry:
            raise ValueError(
                f"the gradebook has no assignment {assignment}: run "
                f"`nbgrader generate_assignment {assignment}` first"
            ) from None
    submitted = course / "submitted"
    wanted = set(students or [])
    folders = sorted(
        path
        for path in submitted.glob(f"*/{assignment}")
        if path.is_dir() and (not wanted or path.parent.name in wanted)
    )
    log(f"grading {assignment} with --sandbox {sandbox}: {len(folders)} submission(s)")
    results = []
    for folder in folders:
        student = folder.parent.name
        stamp_file = folder / "timestamp.txt"
        timestamp = None
        if stamp_file.is_file():
            try:
                timestamp = parse_utc(stamp_file.read_text().strip())
            except ValueError:
                log(f"{student}: unreadable timestamp.txt, ignored")
        for notebook, sums in checksums.items():
            source_path = course / "source" / assignment / f"{notebook}.ipynb"
            result = grade_notebook(
                student,
                assignment,
                source_path,
                folder / f"{notebook}.ipynb",
                sandbox=sandbox,
                timeout=timeout,
                checksums=sums,
            )
            save_scores(db_url, course_id, assignment, result, timestamp)
            if result.autograded is not None:
                path = write_autograded(course, student, assignment, notebook, result.autograded)
                if stamp_file.is_file():  # as nbgrader's autograde keeps it
                    shutil.copyfile(stamp_file, path.with_name("timestamp.txt"))
            results.append(result)
            for note in result.notes:
                log(f"{student}: {note}")
            log(f"{student} {notebook}: {result.auto_total:g} points autograded")
    if not folders:
        log(f"no submission of {assignment} in {submitted}")
    return results


def quiet_libraries() -> None:
    """SQLAlchemy's deprecation warnings about nbgrader's gradebook code are nbgrader's
    business, not the instructor's: they are not shown."""
    warnings.filterwarnings("ignore", module=r"(nbgrader|sqlalchemy)(\.|$)")
    try:
        from sqlalchemy import exc
    except ImportError:
        return
    for name in ("SAWarning", "MovedIn20Warning", "SADeprecationWarning"):
        if hasattr(exc, name):
            warnings.filterwarnings("ignore", category=getattr(exc, name))


def main(args: argparse.Namespace) -> int:
    from practicum.grader import sandbox

    mode = args.sandbox
    try:
        mode = sandbox.resolve_mode(mode) if mode != "off" else "off"
    except (RuntimeError, ValueError) as error:
        print(f"grader nbgrader-autograde: {error}", file=sys.stderr)
        return 2
    quiet_libraries()
    try:
        autograde(
            Path(args.course),
            args.assignment,
            students=args.student,
            db_url=args.db,
            sandbox=mode,
            timeout=args.timeout,
        )
    except ValueError as error:
        print(f"grader nbgrader-autograde: {error}", file=sys.stderr)
        return 1
    return 0
