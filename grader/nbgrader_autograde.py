"""nbgrader's ``autograde``, sandboxed: ``submitted/`` -> the sandboxed grader -> gradebook.

``grader nbgrader-autograde COURSE ASSIGNMENT`` takes the notebooks that ``nbgrader
collect`` put in ``COURSE/submitted/<student>/<assignment>/``, and for each student:

1. rebuilds one module per task from the notebook's code cells, as nbgrader's kernel would
   see them: every cell nbgrader knows (by its grade id) has the source notebook's type,
   and the locked (provided) cells the source's code, as nbgrader's ``autograde`` restores
   them; the check cells are left out; a task's module runs every code cell up to the
   task's last one, one cell at a time (:func:`.notebooks.cells_to_module`), so a cell
   that does not compile or raises costs only what it defines, and is named in the notes;
2. runs the task tests on those modules with the sandboxed grader (``grader grade``'s
   :func:`~practicum.grader.grade.run_task_tests`, the code in a bubblewrap or process
   sandbox), never in the instructor's own process or a kernel with their permissions;
3. scores each check cell with the points its part's tests earn under
   :func:`.scoring.score_task` (``grading.toml``, as ``grader grade`` scores them), and
   each written answer by nbgrader's rule (0 if unchanged, else left for manual grading),
   with the *source's* cell type, metadata, points and nbgrader's stored checksum: nothing
   in the submitted metadata or outputs counts, and no cell scores more than the source's
   points; a cell handed in with another type or metadata is noted (described, never
   quoted);
4. writes those scores into nbgrader's gradebook (``nbgrader.api.Gradebook``), so that the
   formgrader, ``generate_feedback`` (after nbgrader's own run) and ``export`` work as usual.

A notebook that cannot be read (not UTF-8 JSON, not a notebook, over 20 MB) scores 0 for
that student, with a message; the other students are graded as usual.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import practicum
from practicum.grader import nbgrader_course, notebooks
from practicum.grader.notebooks import MAX_FILE_BYTES


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


def _nbgrader(cell: dict) -> dict:
    metadata = cell.get("metadata")
    nb = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nb if isinstance(nb, dict) else {}


def _grade_id(cell: dict) -> str | None:
    grade_id = _nbgrader(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def _role(cell: dict) -> str | None:
    meta = cell.get("metadata", {}).get("practicum", {})
    return meta.get("role") if isinstance(meta, dict) else None


def read_notebook(path: Path, notes: list[str] | None = None) -> dict:
    """The notebook as JSON; ValueError with a readable reason if it is not one.

    Duplicate keys in an object keep the last value, as Jupyter and nbgrader read them;
    ``notes`` (if given) gets a line saying so."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    repeated = []

    def pairs_hook(pairs: list[tuple[str, object]]) -> dict:
        if len({key for key, _ in pairs}) != len(pairs):
            repeated.append(True)
        return dict(pairs)

    try:
        notebook = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs_hook)
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name} is not valid JSON (line {error.lineno}, column "
                         f"{error.colno}: {error.msg})") from None
    except RecursionError:
        raise ValueError(f"{path.name} is nested too deeply to be a notebook") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise ValueError(f"{path.name} is not a Jupyter notebook (no list of cells)")
    if repeated and notes is not None:
        notes.append(f"{path.name} repeats a key inside an object: the last value of each "
                     "was used, as Jupyter and nbgrader read it")
    return notebook


@dataclass
class Rebuilt:
    """The task modules of one submitted notebook, and what went wrong in its cells."""

    modules: dict[str, str]
    notes: list[str]
    labels: dict[int, str] = field(default_factory=dict)  # cell number -> source grade id


def rebuild(source_nb: dict, submitted_nb: dict) -> Rebuilt:
    """``task -> module text`` from a submitted notebook (see the module docstring), each
    module running its cells one by one (:func:`.notebooks.cells_to_module`)."""
    roles, kinds = {}, {}
    for cell in source_nb["cells"]:
        grade_id = _grade_id(cell)
        if grade_id:
            meta = cell["metadata"].get("practicum", {})
            roles[grade_id] = (meta.get("role"), meta.get("task"), _source(cell))
            kinds[grade_id] = cell.get("cell_type")
    pieces: list[tuple[str | None, int, str]] = []
    labels: dict[int, str] = {}
    task = None
    for number, cell in enumerate(submitted_nb["cells"], start=1):
        grade_id = _grade_id(cell) or ""
        if kinds.get(grade_id, cell.get("cell_type")) != "code":  # the source's type wins
            continue
        role, cell_task, original = roles.get(grade_id, (None, None, ""))
        task = cell_task or task
        if role == "check":
            continue
        if role:
            labels[number] = grade_id  # a name from the source, not from the submission
        pieces.append((task, number, original if role == "provided" else _source(cell)))
    modules, notes = {}, []
    for name in source_nb["metadata"]["practicum"]["tasks"]:
        last = max((i for i, (owner, _, _) in enumerate(pieces) if owner == name),
                   default=-1)
        if last >= 0:
            cells = [(number, code) for _, number, code in pieces[:last + 1]]
            modules[name], cell_notes = notebooks.cells_to_module(cells, labels)
            notes += [note for note in cell_notes if note not in notes]
    return Rebuilt(modules, notes, labels)


_RAISED = re.compile(r"is not defined: cell (\d{1,6}) raised ([A-Za-z_][A-Za-z0-9_.]{0,60}): ")


def runtime_notes(outcomes, labels: dict[int, str]) -> list[str]:
    """A note per cell that raised when it ran, from the failed tests' messages (which
    :func:`.notebooks.cells_to_module` makes name the cell)."""
    raised: dict[int, str] = {}
    for outcome in outcomes:
        if outcome.outcome == "failed":
            for number, error in _RAISED.findall(outcome.message):
                raised.setdefault(int(number), error)
    notes = []
    for number, error in sorted(raised.items()):
        label = f" ({labels[number]})" if number in labels else ""
        notes.append(f"cell {number}{label} raised {error} when it ran: the rest of that "
                     "cell did not run, and the functions it defines there are not graded")
    return notes


def task_modules(source_nb: dict, submitted_nb: dict) -> dict[str, str]:
    """``task -> module text`` from a submitted notebook (see :func:`rebuild`)."""
    return rebuild(source_nb, submitted_nb).modules


def cell_scores(assignment: str, outcomes, config=None) -> dict[str, float]:
    """The points of each check cell: each task's tests scored by
    :func:`.scoring.score_task` (``grading.toml``, as ``grader grade`` scores them), and
    each check cell earns what the tests of its part earned (:func:`.nbgrader_course.part_of`).
    """
    from practicum.grader import scoring

    if config is None:
        config = scoring.load_config(practicum.REPO_ROOT / "grading.toml")
    by_task: dict[str, list] = {}
    for outcome in outcomes:
        by_task.setdefault(outcome.task, []).append(outcome)
    earned: dict[tuple[str, str], float] = {}
    for task, rows in by_task.items():
        if task not in nbgrader_course.TASKS:
            continue
        for test in scoring.score_task(task, rows, config).tests:
            key = (task, nbgrader_course.part_of(task, test.name))
            earned[key] = earned.get(key, 0.0) + test.score
    return {grade_id: round(earned.get(key, 0.0), 4)
            for grade_id, key in nbgrader_course.check_cells(assignment).items()}


# --------------------------------------------------------------------------- the source rules

_ROLE_NAMES = {"answer": "answer cell", "provided": "locked cell", "check": "check cell",
               "written": "written answer"}
_CELL_TYPES = ("code", "markdown", "raw")
_FLAGS = ("grade", "solution", "locked", "task")


def _changes(source_cell: dict, submitted: dict) -> list[str]:
    """The names (ours, never the submission's) of what differs from the source cell."""
    theirs, ours = _nbgrader(submitted), _nbgrader(source_cell)
    changed = [flag for flag in _FLAGS
               if bool(theirs.get(flag, False)) != bool(ours.get(flag, False))]
    if ours.get("grade"):
        try:
            same = float(theirs.get("points")) == float(ours["points"])
        except (TypeError, ValueError, OverflowError):
            same = False
        if not same:
            changed.append("points")
    return changed


def source_rule_notes(source_nb: dict, submitted_nb: dict) -> list[str]:
    """One note per nbgrader cell handed in with another type or other nbgrader metadata
    than the source's: what was ignored (described, never quoted)."""
    by_id = {_grade_id(cell): cell for cell in source_nb["cells"] if _grade_id(cell)}
    notes, seen = [], {}
    for cell in submitted_nb["cells"]:
        grade_id = _grade_id(cell)
        if grade_id not in by_id:
            continue
        seen[grade_id] = seen.get(grade_id, 0) + 1
        source_cell = by_id[grade_id]
        kind = cell.get("cell_type")
        kind = f"a {kind}" if kind in _CELL_TYPES else "an unknown type of"
        fields = _changes(source_cell, cell)
        if cell.get("cell_type") == source_cell["cell_type"] and not fields:
            continue
        what = f"as {kind} cell" + (f" with changed {', '.join(fields)}" if fields else "")
        role = _ROLE_NAMES.get(_role(source_cell), "cell")
        notes.append(f"cell '{grade_id}' was handed in {what}: graded as the source's "
                     f"{source_cell['cell_type']} {role}")
    for grade_id, count in seen.items():
        if count > 1:
            notes.append(f"cell '{grade_id}' appears {count} times: the first one is graded")
    return notes


def written_score(source_cell: dict, submitted: dict | None,
                  checksum: str | None) -> float | None:
    """A written answer scored by nbgrader's rule (unchanged: 0, else manual grading, None)
    on the submitted text with the source's cell type, metadata and points, and the
    checksum nbgrader stored when it generated the assignment."""
    from nbformat import from_dict
    from nbgrader.utils import determine_grade

    if submitted is None:
        return 0.0
    try:
        text = _source(submitted)
    except ValueError:
        text = ""
    metadata = json.loads(json.dumps(source_cell.get("metadata", {})))
    metadata.setdefault("nbgrader", {}).pop("checksum", None)
    if checksum:
        metadata["nbgrader"]["checksum"] = checksum
    cell = {"cell_type": source_cell["cell_type"], "metadata": metadata, "source": text}
    if cell["cell_type"] == "code":
        cell.update(outputs=[], execution_count=None)
    score, maximum = determine_grade(from_dict(cell))
    return None if score is None else min(float(score), float(maximum))


def grade_notebook(student: str, assignment: str, source_path: Path, submitted_path: Path,
                   *, sandbox: str, timeout: float | None,
                   checksums: dict[str, str] | None = None) -> NotebookResult:
    """Scores one notebook: every grade cell's type, metadata, points and grade id come
    from the source notebook (``checksums``: nbgrader's, from the gradebook), never from
    the submission, and no cell scores more than the source's points."""
    from practicum.grader import grade

    result = NotebookResult(student, source_path.stem)
    source_nb = read_notebook(source_path)
    grade_cells = {_grade_id(cell): cell for cell in source_nb["cells"]
                   if _nbgrader(cell).get("grade")}
    maximum = {grade_id: float(_nbgrader(cell)["points"])
               for grade_id, cell in grade_cells.items()}
    zero = {grade_id: 0.0 for grade_id in grade_cells}
    if not submitted_path.is_file():
        result.scores = zero
        result.notes.append(f"no {submitted_path.name} was submitted: 0 points")
        return result
    try:
        submitted_nb = read_notebook(submitted_path, result.notes)
        rebuilt = rebuild(source_nb, submitted_nb)
    except ValueError as error:
        result.scores = zero
        result.notes.append(f"{error}: the notebook could not be read, so it scores 0")
        return result
    result.notes += source_rule_notes(source_nb, submitted_nb) + rebuilt.notes
    with tempfile.TemporaryDirectory(prefix="practicum-nbgrader-") as scratch:
        for task, text in rebuilt.modules.items():
            (Path(scratch) / f"{task}.py").write_text(text, encoding="utf-8")
        outcomes = grade.run_task_tests(scratch, tasks=list(rebuilt.modules),
                                        sandbox=sandbox, sandbox_timeout=timeout)
    if not outcomes:
        result.notes.append("no test ran on this notebook")
    result.notes += runtime_notes(outcomes, rebuilt.labels)
    checks = cell_scores(assignment, outcomes)
    submitted_cells: dict[str, dict] = {}
    for cell in submitted_nb["cells"]:
        submitted_cells.setdefault(_grade_id(cell), cell)
    for grade_id, source_cell in grade_cells.items():
        if _role(source_cell) == "check" or grade_id in checks:
            score = checks.get(grade_id, 0.0)
        else:
            score = written_score(source_cell, submitted_cells.get(grade_id),
                                  (checksums or {}).get(grade_id))
        result.scores[grade_id] = None if score is None else \
            max(0.0, min(score, maximum[grade_id]))
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
            checksums = {notebook.name: {cell.name: cell.checksum
                                         for cell in notebook.source_cells}
                         for notebook in gradebook.find_assignment(assignment).notebooks}
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
        for notebook, sums in checksums.items():
            source_path = course / "source" / assignment / f"{notebook}.ipynb"
            result = grade_notebook(student, assignment, source_path,
                                    folder / f"{notebook}.ipynb", sandbox=sandbox,
                                    timeout=timeout, checksums=sums)
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
