"""Submissions as handed in -> a folder of task modules the grader can load.

A submission is a folder (or a single file) of ``<task>.py`` modules and/or ``<task>.ipynb``
notebooks. A notebook's code cells are concatenated into ``<task>.py``; IPython magics and
shell escapes (``%...``, ``!...``) are commented out. A notebook that cannot be read (not
valid JSON, not a notebook) gives no module, and a note that the grader attaches to that
task's failed tests: the task scores 0 with a clear message, the others are graded.
When both ``<task>.py`` and ``<task>.ipynb`` exist, the module wins (and a note says so).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

_MAGIC = re.compile(r"^(\s*)([%!].*)$")
MAX_FILE_BYTES = 20 * 2**20


@dataclass
class PreparedSubmission:
    """Where the modules are, and what went wrong per task (``task -> note``)."""

    directory: Path
    task_notes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def notebook_to_source(text: str, name: str) -> str:
    """A notebook's code cells, in order, as one module. Raises ValueError if ``text`` is
    not a notebook."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{name} is not valid JSON (line {error.lineno}, column "
                         f"{error.colno}: {error.msg})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{name} is not a Jupyter notebook (no list of cells)")
    chunks = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            if not all(isinstance(line, str) for line in source):
                raise ValueError(f"{name}: cell {index} has a source that is not text")
            source = "".join(source)
        if not isinstance(source, str):
            raise ValueError(f"{name}: cell {index} has a source that is not text")
        lines = [_MAGIC.sub(r"\1# (magic removed) \2", line) for line in source.splitlines()]
        chunks.append(f"# --- cell {index} ---\n" + "\n".join(lines))
    return "\n\n".join(chunks) + "\n"


def prepare_submission(source: Path | str, target: Path | str) -> PreparedSubmission:
    """Copies ``source``'s modules to ``target`` and converts its notebooks there."""
    source, target = Path(source), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    prepared = PreparedSubmission(directory=target)
    if source.is_file():
        files = [source]
    elif source.is_dir():
        files = sorted(path for path in source.iterdir()
                       if path.is_file() and not path.is_symlink())
    else:
        prepared.notes.append(f"the submission {source.name} does not exist")
        return prepared
    modules = {path.stem for path in files if path.suffix == ".py"}
    for path in files:
        if path.stat().st_size > MAX_FILE_BYTES:
            prepared.task_notes[path.stem] = (f"{path.name} is larger than "
                                             f"{MAX_FILE_BYTES // 2**20} MB and was ignored")
            continue
        if path.suffix == ".py":
            shutil.copyfile(path, target / path.name)
        elif path.suffix == ".ipynb":
            if path.stem in modules:
                prepared.notes.append(f"both {path.stem}.py and {path.name} were handed in: "
                                      f"{path.stem}.py is graded")
                continue
            try:
                text = path.read_text(encoding="utf-8")
                (target / f"{path.stem}.py").write_text(notebook_to_source(text, path.name))
            except (ValueError, UnicodeDecodeError) as error:
                reason = str(error) if isinstance(error, ValueError) and \
                    not isinstance(error, UnicodeDecodeError) else \
                    f"{path.name} is not UTF-8 text"
                prepared.task_notes[path.stem] = (f"{reason}: the notebook could not be read, "
                                                 f"so the {path.stem} task scores 0")
        elif path.suffix in (".json", ".npz", ".npy", ".txt", ".csv", ".png", ".jpg"):
            shutil.copyfile(path, target / path.name)  # data a module may load
    if not any(target.glob("*.py")):
        prepared.notes.append("the submission holds no Python module or readable notebook")
    return prepared
