"""nbgrader's ``autograde``, sandboxed: ``submitted/`` -> the sandboxed grader -> gradebook.

``grader nbgrader-autograde COURSE ASSIGNMENT`` takes the notebooks that ``nbgrader
collect`` put in ``COURSE/submitted/<student>/<assignment>/``, and for each student:

1. rebuilds one module per task from the notebook's code cells, as nbgrader's kernel would
   see them: the locked (provided) cells come from the source notebook, as nbgrader's
   ``autograde`` restores them; the check cells are left out; a task's module holds every
   code cell up to the task's last one (the state of the kernel at its check cells);
2. runs the task tests on those modules with the sandboxed grader (``grader grade``'s
   :func:`~practicum.grader.grade.run_task_tests`, the code in a bubblewrap or process
   sandbox), never in the instructor's own process or a kernel with their permissions;
3. scores each check cell as nbgrader scores a test cell: its points when every test of
   its part passes (:func:`.nbgrader_course.part_of`), else 0; the written answers get
   what nbgrader gives them (0 if unchanged, else left for manual grading);
4. writes those scores into nbgrader's gradebook (``nbgrader.api.Gradebook``), so that the
   formgrader, ``generate_feedback`` (after nbgrader's own run) and ``export`` work as usual.

A notebook that cannot be read scores 0 for that student, with a message; the other
students are graded as usual.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from practicum.grader import nbgrader_course
from practicum.grader.notebooks import _MAGIC


@dataclass
class NotebookResult:
    """One student's notebook: the score of each grade cell (None: manual grading)."""

    student: str
    notebook: str
    scores: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def auto_total(self) -> float:
        return sum(score or 0.0 for score in self.scores.values())


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(line, str) for line in source):
            raise ValueError("a cell's source is not text")
        source = "".join(source)
    if not isinstance(source, str):
        raise ValueError("a cell's source is not text")
    return source


def _grade_id(cell: dict) -> str | None:
    metadata = cell.get("metadata")
    nb = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    grade_id = nb.get("grade_id") if isinstance(nb, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def read_notebook(path: Path) -> dict:
    """The notebook as JSON; ValueError with a readable reason if it is not one."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name} is not valid JSON (line {error.lineno}, column "
                         f"{error.colno}: {error.msg})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise ValueError(f"{path.name} is not a Jupyter notebook (no list of cells)")
    return notebook


def task_modules(source_nb: dict, submitted_nb: dict) -> dict[str, str]:
    """``task -> module text`` from a submitted notebook (see the module docstring)."""
    roles = {}
    for cell in source_nb["cells"]:
        grade_id = _grade_id(cell)
        if grade_id:
            meta = cell["metadata"].get("practicum", {})
            roles[grade_id] = (meta.get("role"), meta.get("task"), _source(cell))
    pieces: list[tuple[str | None, str]] = []
    task = None
    for index, cell in enumerate(submitted_nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        role, cell_task, original = roles.get(_grade_id(cell) or "", (None, None, ""))
        task = cell_task or task
        if role == "check":
            continue
        code = original if role == "provided" else _source(cell)
        lines = [_MAGIC.sub(r"\1# (magic removed) \2", line) for line in code.splitlines()]
        pieces.append((task, f"# --- cell {index} ---\n" + "\n".join(lines)))
    modules = {}
    for name in source_nb["metadata"]["practicum"]["tasks"]:
        last = max((i for i, (owner, _) in enumerate(pieces) if owner == name), default=-1)
        if last >= 0:
            modules[name] = "\n\n".join(code for _, code in pieces[:last + 1]) + "\n"
    return modules


def cell_scores(assignment: str, outcomes) -> dict[str, float]:
    """The points of each check cell: all of them if every test of its part passed."""
    scores = {}
    for grade_id, (task, part, points) in nbgrader_course.part_points(assignment).items():
        mine = [outcome for outcome in outcomes if outcome.task == task
                and nbgrader_course.part_of(task, outcome.name) == part]
        ok = bool(mine) and all(outcome.outcome != "failed" for outcome in mine)
        scores[grade_id] = float(points) if ok else 0.0
    return scores


def grade_notebook(student: str, assignment: str, source_path: Path, submitted_path: Path,
                   *, sandbox: str, timeout: float | None) -> NotebookResult:
    from nbformat import from_dict
    from nbgrader.utils import determine_grade

    from practicum.grader import grade

    result = NotebookResult(student, source_path.stem)
    source_nb = read_notebook(source_path)
    grade_cells = {_grade_id(cell): cell for cell in source_nb["cells"]
                   if cell.get("metadata", {}).get("nbgrader", {}).get("grade")}
    zero = {grade_id: 0.0 for grade_id in grade_cells}
    if not submitted_path.is_file():
        result.scores = zero
        result.notes.append(f"no {submitted_path.name} was submitted: 0 points")
        return result
    try:
        submitted_nb = read_notebook(submitted_path)
        modules = task_modules(source_nb, submitted_nb)
    except ValueError as error:
        result.scores = zero
        result.notes.append(f"{error}: the notebook could not be read, so it scores 0")
        return result
    with tempfile.TemporaryDirectory(prefix="practicum-nbgrader-") as scratch:
        for task, text in modules.items():
            (Path(scratch) / f"{task}.py").write_text(text, encoding="utf-8")
        outcomes = grade.run_task_tests(scratch, tasks=list(modules), sandbox=sandbox,
                                        sandbox_timeout=timeout)
    if not outcomes:
        result.notes.append("no test ran on this notebook")
    result.scores = cell_scores(assignment, outcomes)
    submitted_cells = {_grade_id(cell): cell for cell in submitted_nb["cells"]}
    for grade_id in grade_cells:
        if grade_id in result.scores:
            continue
        cell = submitted_cells.get(grade_id)
        if cell is None:
            result.scores[grade_id] = 0.0
            continue
        try:  # a written answer: nbgrader's own rule (unchanged: 0, else manual)
            cell = from_dict({**cell, "source": _source(cell)})
            result.scores[grade_id] = determine_grade(cell)[0]
        except (KeyError, ValueError, TypeError, AttributeError):
            result.scores[grade_id] = None
    return result


def save_scores(db_url: str, course_id: str, assignment: str, result: NotebookResult,
                timestamp) -> None:
    """Writes one notebook's scores into the gradebook, as nbgrader's autograde does."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        gradebook.update_or_create_student(result.student)
        if timestamp is not None:
            gradebook.update_or_create_submission(assignment, result.student,
                                                  timestamp=timestamp)
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


def autograde(course: Path, assignment: str, *, students: list[str] | None = None,
              db_url: str | None = None, sandbox: str = "auto",
              timeout: float | None = None, log=print) -> list[NotebookResult]:
    """Grades ``course/submitted/*/assignment`` in the sandbox into the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    course = Path(course).resolve()
    if not course.is_dir():
        raise ValueError(f"{course} is not a directory (give the nbgrader course directory)")
    if db_url is None and not (course / "gradebook.db").is_file():
        raise ValueError(f"{course} has no gradebook.db: run `nbgrader generate_assignment "
                         f"{assignment}` there first, or give --db")
    _alembic_on_path()
    db_url = db_url or f"sqlite:///{course / 'gradebook.db'}"
    course_id = course_id_of(course)
    with Gradebook(db_url, course_id) as gradebook:
        try:
            notebooks = [notebook.name for notebook in
                         gradebook.find_assignment(assignment).notebooks]
        except MissingEntry:
            raise ValueError(f"the gradebook has no assignment {assignment}: run "
                             f"`nbgrader generate_assignment {assignment}` first") from None
    submitted = course / "submitted"
    wanted = set(students or [])
    folders = sorted(path for path in submitted.glob(f"*/{assignment}") if path.is_dir()
                     and (not wanted or path.parent.name in wanted))
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
        for notebook in notebooks:
            source_path = course / "source" / assignment / f"{notebook}.ipynb"
            result = grade_notebook(student, assignment, source_path,
                                    folder / f"{notebook}.ipynb", sandbox=sandbox,
                                    timeout=timeout)
            save_scores(db_url, course_id, assignment, result, timestamp)
            results.append(result)
            for note in result.notes:
                log(f"{student}: {note}")
            log(f"{student} {notebook}: {result.auto_total:g} points autograded")
    if not folders:
        log(f"no submission of {assignment} in {submitted}")
    return results


def main(args: argparse.Namespace) -> int:
    from practicum.grader import sandbox

    mode = args.sandbox
    try:
        mode = sandbox.resolve_mode(mode) if mode != "off" else "off"
    except (RuntimeError, ValueError) as error:
        print(f"grader nbgrader-autograde: {error}", file=sys.stderr)
        return 2
    try:
        autograde(Path(args.course), args.assignment, students=args.student, db_url=args.db,
                  sandbox=mode, timeout=args.timeout)
    except ValueError as error:
        print(f"grader nbgrader-autograde: {error}", file=sys.stderr)
        return 1
    return 0
