"""What the demos share: which implementation they run, and stages that wait for a TODO.

A demo (``practicum.style_demo``, ``practicum.plots``) runs the student's modules in
``exercises/`` (the reference ``solutions/`` in the course repository, where they exist).
Each of its stages needs some of the student's functions; a stage whose function is still
a stub is skipped with one line that says which function and which task's tests to run,
and the demo goes on with the stages that can run::

    >>> stages = Stages()
    >>> stages.run("a figure", "conv", lambda: "build/x.png")
    a figure: build/x.png
    'build/x.png'
    >>> def unwritten():
    ...     raise NotImplementedError("conv.conv_output_shape: replace this line with your code")
    >>> stages.run("another figure", "conv", unwritten)
    another figure: skipped, conv.conv_output_shape is not written yet (pytest --task conv)
    >>> stages.skipped
    ['another figure']
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from practicum import EXERCISES_DIR, SOLUTIONS_DIR

_STUB = re.compile(r"(\w+\.\w+): replace this line")


def unwritten(error: NotImplementedError, task: str) -> str:
    """``"<module>.<function> is not written yet (pytest --task <module>)"`` from a stub's
    ``NotImplementedError`` (the function the code reached, which may be another task's);
    ``task`` names it when the message does not."""
    found = _STUB.search(str(error))
    if found is None:
        return f"a function of {task} is not written yet (pytest --task {task})"
    return f"{found.group(1)} is not written yet (pytest --task {found.group(1).split('.')[0]})"


def default_impl(module: str = "style_transfer") -> Path:
    """``solutions/`` if it holds ``module`` (the course repository), else ``exercises/``
    (the student release, which has no solutions)."""
    if (SOLUTIONS_DIR / f"{module}.py").is_file():
        return SOLUTIONS_DIR
    return EXERCISES_DIR


def load(impl: Path, module: str) -> types.ModuleType:
    """The task module ``module`` of the folder ``impl``, imported as the tests import it."""
    from practicum.grader.running.proxy import InProcessBackend

    return InProcessBackend(Path(impl))._load(module)


class Stages:
    """Runs a demo's stages; one that reaches an unwritten function is skipped, not fatal."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.skipped: list[str] = []

    def run(
        self, title: str, task: str, stage: Callable[[], Any], show: Callable[[Any], str] = str
    ) -> Any:
        """``stage()``, printing ``title: show(its result)``; ``None`` if it needs a stub."""
        try:
            result = stage()
        except NotImplementedError as error:
            print(f"{title}: skipped, {unwritten(error, task)}", flush=True)
            self.skipped.append(title)
            return None
        print(f"{title}: {show(result)}", flush=True)
        self.done.append(title)
        return result

    def finish(self) -> int:
        """The exit status: 0 if some stage ran, else 1 with a hint."""
        if self.done:
            return 0
        print("Nothing could run yet: write the TODOs named above, then run this again.")
        return 1
