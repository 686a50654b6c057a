"""nbgrader's submitted notebooks, as the grader needs them: read safely, rebuilt into
one module per task as nbgrader's kernel would see them, checked against the source
notebook's rules, and the check cells scored (as the kernel scores them).

Used by ``grader nbgrader-autograde`` (:mod:`practicum.grader.export.nbgrader_gradebook`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import practicum
from practicum.grader.authoring import assignments
from practicum.grader.grading import submissions
from practicum.grader.grading.submissions import MAX_FILE_BYTES


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(line, str) for line in source):
            raise ValueError("a cell's source is not text")
        source = "".join(source)
    if not isinstance(source, str):
        raise ValueError("a cell's source is not text")
    return source


def nbgrader_metadata(cell: dict) -> dict:
    metadata = cell.get("metadata")
    nb = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nb if isinstance(nb, dict) else {}


def grade_id_of(cell: dict) -> str | None:
    grade_id = nbgrader_metadata(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def role_of(cell: dict) -> str | None:
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
        raise ValueError(
            f"{path.name} is not valid JSON (line {error.lineno}, column "
            f"{error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise ValueError(f"{path.name} is nested too deeply to be a notebook") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise ValueError(f"{path.name} is not a Jupyter notebook (no list of cells)")
    if repeated and notes is not None:
        notes.append(
            f"{path.name} repeats a key inside an object: the last value of each "
            "was used, as Jupyter and nbgrader read it"
        )
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
        grade_id = grade_id_of(cell)
        if grade_id:
            meta = cell["metadata"].get("practicum", {})
            roles[grade_id] = (meta.get("role"), meta.get("task"), cell_source(cell))
            kinds[grade_id] = cell.get("cell_type")
    pieces: list[tuple[str | None, int, str]] = []
    labels: dict[int, str] = {}
    task = None
    for number, cell in enumerate(submitted_nb["cells"], start=1):
        grade_id = grade_id_of(cell) or ""
        if kinds.get(grade_id, cell.get("cell_type")) != "code":  # the source's type wins
            continue
        role, cell_task, original = roles.get(grade_id, (None, None, ""))
        task = cell_task or task
        if role == "check":
            continue
        if role:
            labels[number] = grade_id  # a name from the source, not from the submission
        pieces.append((task, number, original if role == "provided" else cell_source(cell)))
    modules, notes = {}, []
    for name in source_nb["metadata"]["practicum"]["tasks"]:
        last = max((i for i, (owner, _, _) in enumerate(pieces) if owner == name), default=-1)
        if last >= 0:
            cells = [(number, code) for _, number, code in pieces[: last + 1]]
            modules[name], cell_notes = submissions.cells_to_module(cells, labels)
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
        notes.append(
            f"cell {number}{label} raised {error} when it ran: the rest of that "
            "cell did not run, and the functions it defines there are not graded"
        )
    return notes


def task_modules(source_nb: dict, submitted_nb: dict) -> dict[str, str]:
    """``task -> module text`` from a submitted notebook (see :func:`rebuild`)."""
    return rebuild(source_nb, submitted_nb).modules


def cell_scores(assignment: str, outcomes, config=None) -> dict[str, float]:
    """The points of each check cell: each task's tests scored by
    :func:`.scoring.score_task` (``grading.toml``, as ``grader grade`` scores them), and
    each check cell earns what the tests of its part earned
    (:func:`practicum.grader.authoring.assignments.part_of`).

    As in the kernel (:func:`.notebook_checks.score`), a cell's property tests count once
    their functions pass a value test in that cell or an earlier one of the task, never a
    later one: the kernel cannot see ahead, and both paths must give the same grades.
    """
    from practicum.grader.grading import scoring

    if config is None:
        config = scoring.load_config(practicum.REPO_ROOT / "grading.toml")
    by_task: dict[str, list] = {}
    for outcome in outcomes:
        by_task.setdefault(outcome.task, []).append(outcome)
    earned: dict[tuple[str, str], float] = {}
    for task, rows in by_task.items():
        if task not in assignments.TASKS:
            continue
        rows = [row for row in rows if row.outcome != "skipped"]  # as score_task drops them
        part_of = {id(row): assignments.part_of(task, row.name) for row in rows}
        so_far: list = []
        for part in assignments.TASKS[task].parts:
            so_far += [row for row in rows if part_of[id(row)] == part.name]
            scored = scoring.score_task(task, rows, config, checked=scoring.value_checked(so_far))
            earned[(task, part.name)] = sum(
                test.score for row, test in zip(rows, scored.tests) if part_of[id(row)] == part.name
            )
    return {
        grade_id: round(earned.get(key, 0.0), 4)
        for grade_id, key in assignments.check_cells(assignment).items()
    }


# --------------------------------------------------------------------------- the source rules

_ROLE_NAMES = {
    "answer": "answer cell",
    "provided": "locked cell",
    "check": "check cell",
    "written": "written answer",
}
_CELL_TYPES = ("code", "markdown", "raw")
_FLAGS = ("grade", "solution", "locked", "task")


def _changes(source_cell: dict, submitted: dict) -> list[str]:
    """The names (ours, never the submission's) of what differs from the source cell."""
    theirs, ours = nbgrader_metadata(submitted), nbgrader_metadata(source_cell)
    changed = [
        flag for flag in _FLAGS if bool(theirs.get(flag, False)) != bool(ours.get(flag, False))
    ]
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
    by_id = {grade_id_of(cell): cell for cell in source_nb["cells"] if grade_id_of(cell)}
    notes, seen = [], {}
    for cell in submitted_nb["cells"]:
        grade_id = grade_id_of(cell)
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
        role = _ROLE_NAMES.get(role_of(source_cell), "cell")
        notes.append(
            f"cell '{grade_id}' was handed in {what}: graded as the source's "
            f"{source_cell['cell_type']} {role}"
        )
    for grade_id, count in seen.items():
        if count > 1:
            notes.append(f"cell '{grade_id}' appears {count} times: the first one is graded")
    return notes


def written_score(source_cell: dict, submitted: dict | None, checksum: str | None) -> float | None:
    """A written answer scored by nbgrader's rule (unchanged: 0, else manual grading, None)
    on the submitted text with the source's cell type, metadata and points, and the
    checksum nbgrader stored when it generated the assignment."""
    from nbformat import from_dict
    from nbgrader.utils import determine_grade

    if submitted is None:
        return 0.0
    try:
        text = cell_source(submitted)
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
