"""The worked examples in the solutions' docstrings run, and the stubs show the same text.

Each ``Example:`` in ``solutions/`` is a doctest: a wrong example cannot ship. The stubs are
generated from the solutions, so a student reads the very examples that pass here.
"""

from __future__ import annotations

import ast
import doctest
from pathlib import Path

import pytest

import practicum
from practicum.grader.running.proxy import InProcessBackend

SOLUTIONS = practicum.REPO_ROOT / "solutions"
EXERCISES = practicum.REPO_ROOT / "exercises"
MODULES = sorted(path.stem for path in SOLUTIONS.glob("*.py") if not path.stem.startswith("_"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.IGNORE_EXCEPTION_DETAIL


def docstrings(path: Path) -> dict[str, str]:
    """``qualified name -> docstring`` of a module and its public functions and classes."""
    tree = ast.parse(path.read_text())
    found = {"<module>": ast.get_docstring(tree) or ""}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            found[node.name] = ast.get_docstring(node) or ""
    return found


@pytest.mark.parametrize("module", MODULES)
def test_every_docstring_example_of_the_solutions_runs(module):
    loaded = InProcessBackend(SOLUTIONS)._load(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    failures = []
    for test in finder.find(loaded, module, globs=dict(vars(loaded))):
        if test.filename and Path(test.filename).resolve().parent != SOLUTIONS:
            continue  # imported from elsewhere (e.g. a Keras class)
        result = runner.run(test, out=failures.append)
        assert result.attempted or not test.examples
    assert not failures, "".join(failures)[-4000:]


def test_the_task_modules_have_examples():
    """Every task module a student gets documents at least one example."""
    without = [
        module
        for module in MODULES
        if (EXERCISES / f"{module}.py").exists()
        and ">>>" not in (SOLUTIONS / f"{module}.py").read_text()
    ]
    assert not without, f"modules without a docstring example: {without}"


@pytest.mark.parametrize("module", [m for m in MODULES if (EXERCISES / f"{m}.py").exists()])
def test_the_stubs_show_the_solutions_examples_word_for_word(module):
    solution = docstrings(SOLUTIONS / f"{module}.py")
    stub = docstrings(EXERCISES / f"{module}.py")
    for name, text in solution.items():
        if ">>>" in text and name in stub:
            assert stub[name] == text, f"{module}.{name}: the stub's docstring differs"


@pytest.mark.parametrize("module", ["practicum.student_run", "practicum.grader.running.gating"])
def test_the_course_packages_examples_run(module):
    import importlib

    loaded = importlib.import_module(module)
    failures, attempted = doctest.testmod(loaded, optionflags=FLAGS, report=False)
    assert attempted and not failures, f"{module}: {failures} of {attempted} examples fail"
