"""Which task functions a test exercises, and which it checks against the reference.

A task's *answer functions* are the ones students write: each holds a ``### BEGIN
SOLUTION`` region in ``solutions/<task>.py`` (a TODO in the released stub). A test reaches
the implementation only through the proxy (:mod:`.proxy`), which notes every call; a call
of a provided function (``transform_net_outputs``) exercises the answer functions that the
provided code calls (``transform_net``), found in the module's source without running it:

    >>> source = '''
    ... def helper(x):
    ...     return answer(x) + 1
    ... def answer(x):
    ...     ### BEGIN SOLUTION
    ...     return x
    ...     ### END SOLUTION
    ... '''
    >>> graph = CallGraph.from_source(source)
    >>> sorted(graph.answers_reached("helper")), sorted(graph.answers_reached("answer"))
    (['answer'], ['answer'])

:func:`practicum.grader.grading.scoring.score_task` uses two lists per test, written into each
grade-report row by the pytest plugin: ``functions`` (the answer functions the test
exercised) and ``value_test_for`` (those it compared with the reference: the reference's
function of the same name returned a value in the same test, or the test is marked
``@pytest.mark.value_test``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from practicum.grader.authoring.release import BEGIN

_STUB_TODO = re.compile(r"raise NotImplementedError\(\"\w+\.(\w+): replace this line")


@dataclass
class CallGraph:
    """One module's top-level functions and classes: which names each one's body uses, and
    which are answer functions."""

    uses: dict[str, set[str]] = field(default_factory=dict)
    answers: set[str] = field(default_factory=set)

    @classmethod
    def from_source(cls, source: str) -> CallGraph:
        """From a solution (answers marked ``### BEGIN SOLUTION``) or a released stub (each
        answer raising the release's ``NotImplementedError``)."""
        tree = ast.parse(source)
        lines = source.splitlines()
        graph = cls()
        defined = [
            node
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        names = {node.name for node in defined}
        for node in defined:
            graph.uses[node.name] = {
                sub.id
                for sub in ast.walk(node)
                if isinstance(sub, ast.Name) and sub.id in names and sub.id != node.name
            }
            if isinstance(node, ast.ClassDef):
                continue
            body = lines[node.lineno - 1 : node.end_lineno]
            if any(line.strip() == BEGIN or _STUB_TODO.search(line) for line in body):
                graph.answers.add(node.name)
        return graph

    def answers_reached(self, function: str) -> set[str]:
        """The answer functions that a call of ``function`` exercises: itself if it is one,
        else those its provided code calls (through other provided code). A name the module
        does not define counts as an answer function of its own."""
        if function in self.answers or function not in self.uses:
            return {function}
        reached, seen, todo = set(), {function}, [function]
        while todo:
            for name in self.uses.get(todo.pop(), ()):
                if name in self.answers:
                    reached.add(name)
                elif name not in seen:
                    seen.add(name)
                    todo.append(name)
        return reached


class CourseFunctions:
    """The call graphs of the course's task modules, read from ``solutions/`` (or, in a
    copy without solutions, the released stubs in ``exercises/``)."""

    def __init__(self, root: Path) -> None:
        self.folders = [Path(root) / "solutions", Path(root) / "exercises"]
        self._graphs: dict[str, CallGraph | None] = {}

    def graph(self, module: str) -> CallGraph | None:
        if module not in self._graphs:
            self._graphs[module] = None
            for folder in self.folders:
                path = folder / f"{module}.py"
                try:
                    self._graphs[module] = CallGraph.from_source(path.read_text())
                    break
                except (OSError, SyntaxError, ValueError):
                    continue
        return self._graphs[module]

    def reached(self, calls: Iterable[tuple[str, str]]) -> list[str]:
        """``module.function`` of every answer function the calls exercise, sorted."""
        names = set()
        for module, function in calls:
            graph = self.graph(module)
            found = graph.answers_reached(function) if graph else {function}
            names.update(f"{module}.{name}" for name in found)
        return sorted(names)
