"""nbgrader source notebooks, generated from ``solutions/``: one notebook per assignment.

``grader notebooks`` writes ``nbgrader/source/<assignment>/<assignment>.ipynb`` for each
assignment in :data:`ASSIGNMENTS`; ``grader notebooks --check`` says whether the committed
notebooks are what the generator makes now (a course test runs it).

A task's section of a notebook is built from ``solutions/<task>.py``:

* the module docstring becomes a Markdown cell, after a short introduction;
* consecutive top-level statements without an answer (imports, constants, provided helpers)
  become one *locked* code cell (nbgrader puts them back as they were when it autogrades);
* each top-level function with an answer region becomes a *solution* cell, keeping
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (nbgrader's markers, as in our solutions);
  ``# HINT:`` lines move just above the region so that nbgrader's stub keeps them;
* then one autograded *check* cell per :class:`Part` (a function or a few functions): it
  runs the task's public tests that belong to the part against the notebook's functions,
  and, between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``, the hidden ones.

Which test belongs to which part is decided by :func:`part_of` from the test's name, the
same way in the notebook (:mod:`.notebook_checks`) and in the sandboxed autograde
(:mod:`.nbgrader_autograde`). A task's points (``grading.toml``) are split over its check
cells as :func:`.scoring.score_task` splits them over its tests (:func:`part_shares`,
from the tests pytest collects), and a check cell ends with the points its part earned
(:func:`.notebook_checks.score`), which nbgrader takes as the cell's partial credit.
The written questions of the handouts (``nbgrader/questions.toml``) become manually
graded Markdown answer cells.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import practicum

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HINT = "# HINT:"
COURSE_DIR = "nbgrader"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


# The first code cell of every notebook. TensorFlow's C++ log lines go to stderr, and
# nbgrader gives a test cell 0 points for any output on stderr.
SETUP = """\
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # before TensorFlow is imported: no C++ log lines\
"""


@dataclass(frozen=True)
class Part:
    """An autograded check cell: the tests whose names contain one of ``keywords``."""

    name: str
    keywords: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True)
class Task:
    name: str
    title: str
    handout: str
    intro: str
    parts: tuple[Part, ...]
    default: str  # the part of a test whose name matches no keyword


@dataclass(frozen=True)
class Question:
    grade_id: str
    points: float
    prompt: str
    model_answer: str


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    intro: str
    tasks: tuple[str, ...]


TASKS: dict[str, Task] = {task.name: task for task in [
    Task("model_builder", "Model Builder in Keras", "A2 section 1, A3 section 1",
         "Model Builder describes a network as a list of layer specifications. You compute "
         "the shape that comes out of every layer (and refuse models that cannot work, such "
         "as a fully connected layer on an image that was never flattened), then build the "
         "same network in Keras.",
         # one check cell: most checks of invalid models run both functions, and a check
         # counts once its functions pass a value test (scoring's gating) in that cell or
         # an earlier one
         (Part("build_model", ("output_shapes", "build_model"),
               "output_shapes, build_model, the presets and the checks of invalid models"),),
         default="build_model"),
    Task("training", "The training loop", "A2 section 2.1",
         "Keras's `fit` hides two things this part asks for: cutting a data set into "
         "shuffled batches, and one step of gradient descent on the mean cross-entropy.",
         (Part("batch_indices", ("batch_indices",)),
          Part("train_step", ("train_step",))),
         default="train_step"),
    Task("inspect_model", "What the network got wrong, and what it sees", "A2 section 2.2, "
         "A3 section 1.4",
         "Two ways to look inside a trained classifier: the test images it gets wrong with "
         "the most confidence, and the activation maps of every layer for one image.",
         (Part("most_confidently_wrong", ("most_confidently_wrong",)),
          Part("layer_activations", ("layer_activations", "last_activation"))),
         default="layer_activations"),
    Task("conv", "Convolution arithmetic", "A3 sections 1.1 to 1.3",
         "Before building a convolutional network, work out by hand what each layer does to "
         "the shape of its input, then stack convolution, activation and pooling blocks.",
         (Part("conv_output_shape", ("conv_output_shape", "same_padding")),
          Part("pool_output_shape", ("pool_output_shape",)),
          Part("build_conv_stack", ("build_conv_stack",))),
         default="build_conv_stack"),
    Task("metrics", "Measuring a classifier", "A3 section 3.6, question 6",
         "Accuracy alone hides a lot. Count what the classifier confuses, how sure it is, "
         "and whether its confidence can be trusted.",
         (Part("label_metrics", ("accuracy", "confusion_matrix", "precision_recall_f1",
                                    "perfect_predictions", "renaming_classes"),
               "accuracy, confusion_matrix and precision_recall_f1"),
          Part("probability_metrics", ("top_k_accuracy", "top_1_accuracy", "log_loss",
                                          "expected_calibration_error", "one_bin_compares",
                                          "one_hot_probabilities", "probability_metrics",
                                          "probabilities_of_three"),
               "top_k_accuracy, log_loss and expected_calibration_error"),
          Part("every_metric", ("every_metric",),
               "every metric: label shapes, invalid inputs and invariances")),
         default="every_metric"),
    Task("style_losses", "The losses of neural style transfer", "A3 sections 3.2 to 3.4",
         "Style transfer compares images through a pre-trained network: content by the "
         "activations of one layer, style by the Gram matrices of several. These are the "
         "losses that the optimisation of the generated image minimises.",
         (Part("gram_matrix", ("gram_matrix",)),
          Part("content_loss", ("content_loss",)),
          Part("style_loss", ("style_loss",)),
          Part("total_variation_loss", ("total_variation",)),
          Part("total_loss", ("total_loss",))),
         default="total_loss"),
]}

ASSIGNMENTS: dict[str, Assignment] = {assignment.name: assignment for assignment in [
    Assignment(
        "assignment2", "Assignment 2: multilayer networks",
        "This notebook takes Model Builder's multilayer networks into Keras: describing a "
        "model layer by layer, training it batch by batch, and looking at its mistakes.",
        ("model_builder", "training", "inspect_model")),
    Assignment(
        "assignment3", "Assignment 3: convolutional networks and style transfer",
        "This notebook covers the arithmetic of convolutional layers, the statistics that "
        "tell two classifiers apart, and the losses behind neural style transfer.",
        ("conv", "metrics", "style_losses")),
]}


# --------------------------------------------------------------------------- tests -> parts


def part_of(task: str, test_name: str) -> str:
    """The part (check cell) that a test of ``task`` belongs to, from the test's name
    (a parametrised test's ``[...]`` is ignored): the longest matching keyword wins."""
    spec = TASKS[task]
    base = test_name.split("[", 1)[0]
    pairs = sorted(((keyword, part.name) for part in spec.parts for keyword in part.keywords),
                   key=lambda pair: -len(pair[0]))
    for keyword, part in pairs:
        if keyword in base:
            return part
    return spec.default


def task_test_names(task: str, kind: str, root: Path = practicum.REPO_ROOT) -> list[str]:
    """The names of the test functions in ``tests/<kind>/test_<task>.py`` (no import)."""
    path = root / "tests" / kind / f"test_{task}.py"
    if not path.is_file():
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test_")]


def tests_of_part(task: str, part: str, kind: str,
                  root: Path = practicum.REPO_ROOT) -> list[str]:
    return [name for name in task_test_names(task, kind, root) if part_of(task, name) == part]


def check_cells(assignment: str) -> dict[str, tuple[str, str]]:
    """``grade_id -> (task, part)`` of the assignment's check cells."""
    return {check_id(task, part.name): (task, part.name)
            for task in ASSIGNMENTS[assignment].tasks for part in TASKS[task].parts}


@functools.lru_cache(maxsize=4)
def collected_tests(root: Path = practicum.REPO_ROOT) -> dict[str, tuple[str, ...]]:
    """``task -> names of its test items`` (public and hidden, parametrised instances
    apart), as pytest collects them (``pytest --collect-only``, in a fresh process)."""
    files = sorted(str(path.relative_to(root)) for kind in ("public", "hidden")
                   for path in (root / "tests" / kind).glob("test_*.py"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "--impl", "solutions", "--rootdir", str(root), "-c", str(root / "pyproject.toml"),
         *files], cwd=root, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PRACTICUM_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"})
    tests: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        path, _, name = line.strip().partition("::")
        if name and Path(path).stem.startswith("test_"):
            tests.setdefault(Path(path).stem.removeprefix("test_"), []).append(name)
    if done.returncode != 0 or not tests:
        raise RuntimeError(f"pytest could not collect the tests in {root / 'tests'}:\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return {task: tuple(names) for task, names in tests.items()}


def part_shares(task: str, root: Path = practicum.REPO_ROOT) -> dict[str, float]:
    """``part -> points``: the task's points (``grading.toml``) split over its check cells
    as :func:`.scoring.score_task` splits them over the tests (each part gets what its
    tests are worth; the last part the remainder, so that the parts add up exactly)."""
    from practicum.grader import scoring

    config = scoring.load_config(root / "grading.toml")
    rows = [{"nodeid": f"tests/{task}::{name}", "name": name, "task": task,
             "visibility": "hidden", "outcome": "passed", "message": ""}
            for name in collected_tests(root).get(task, ())]
    worth: dict[str, float] = {}
    for test in scoring.score_task(task, rows, config).tests:
        part = part_of(task, test.name)
        worth[part] = worth.get(part, 0.0) + test.max_score
    names = [part.name for part in TASKS[task].parts]
    shares = {name: round(worth.get(name, 0.0), 4) for name in names[:-1]}
    shares[names[-1]] = round(config.task_points(task) - sum(shares.values()), 4)
    return shares


def part_points(assignment: str, root: Path = practicum.REPO_ROOT
                ) -> dict[str, tuple[str, str, float]]:
    """``grade_id -> (task, part, points)`` of the assignment's check cells."""
    shares = {task: part_shares(task, root) for task in ASSIGNMENTS[assignment].tasks}
    return {grade_id: (task, part, shares[task][part])
            for grade_id, (task, part) in check_cells(assignment).items()}


def check_id(task: str, part: str) -> str:
    return f"check_{task}_{part}"


# --------------------------------------------------------------------------- cells


def _metadata(role: str, task: str | None, grade_id: str | None = None, *, grade=False,
              solution=False, locked=False, points: float | None = None,
              part: str | None = None) -> dict:
    meta: dict = {"practicum": {"role": role}}
    if task:
        meta["practicum"]["task"] = task
    if part:
        meta["practicum"]["part"] = part
    if grade_id:
        nb = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
              "solution": solution, "task": False}
        if grade:
            nb["points"] = points
        meta["nbgrader"] = nb
    return meta


def _cell(kind: str, source: str, metadata: dict, cell_id: str) -> dict:
    cell = {"cell_type": kind, "id": cell_id, "metadata": metadata,
            "source": source.strip("\n")}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _move_hints(chunk: str) -> str:
    """``# HINT:`` lines inside an answer region move just above its BEGIN marker."""
    out, region, hints, begin_at = [], False, [], 0
    for line in chunk.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            region, hints, begin_at = True, [], len(out)
            out.append(line)
        elif stripped == END:
            region = False
            out[begin_at:begin_at] = hints
            out.append(line)
        elif region and stripped.startswith(HINT):
            hints.append(line)
        else:
            out.append(line)
    return "\n".join(out)


_RELATIVE_IMPORT = re.compile(r"^(\s*)from \.(\w+) import (.+)$")


def _notebook_code(line: str) -> str:
    """A module line as notebook code: a relative import of another task names functions
    that an earlier section of the notebook already defines."""
    match = _RELATIVE_IMPORT.match(line)
    if match:
        indent, module, names = match.groups()
        return f"{indent}pass  # {names.strip()}: defined in the {module} section above"
    return line


def solution_chunks(source: str) -> tuple[str, list[tuple[bool, str]]]:
    """Splits a solution module into its docstring and code chunks ``(is_answer, text)``:
    each top-level statement with an answer region is a chunk; the statements between
    them (imports, constants, provided helpers) are merged, as in the source."""
    tree = ast.parse(source)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree) or ""
    body = [node for node in tree.body
            if not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]

    def first_line(node: ast.stmt) -> int:  # 0-based, decorators included
        return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1

    spans: list[tuple[bool, int, int]] = []  # (is_answer, first line, end line)
    for index, node in enumerate(body):
        begin = first_line(node)
        end = first_line(body[index + 1]) if index + 1 < len(body) else len(lines)
        answer = any(line.strip() == BEGIN for line in lines[node.lineno - 1:end])
        if spans and not answer and not spans[-1][0]:
            spans[-1] = (False, spans[-1][1], end)
        else:
            spans.append((answer, begin, end))
    chunks: list[tuple[bool, str]] = []
    carry: list[str] = []
    for answer, begin, end in spans:
        block = carry + lines[begin:end]
        carry = []
        # comments at column 0 just before the next statement introduce it
        while block and (not block[-1].strip() or block[-1].startswith("#")):
            line = block.pop()
            if line.strip():
                carry.insert(0, line)
        text = "\n".join(_notebook_code(line) for line in block).strip("\n")
        chunks.append((answer, _move_hints(text) if answer else text))
    return docstring, chunks


def _check_source(task: str, part: Part, points: float, root: Path) -> str:
    public = tests_of_part(task, part.name, "public", root)
    hidden = tests_of_part(task, part.name, "hidden", root)
    if not public and not hidden:
        raise ValueError(f"{task}: no test belongs to the part {part.name}")
    title = part.title or part.name
    heading = f"Checks of {title} ({points:g} points, shared by its checks)."
    lines = textwrap.wrap(heading, width=98, initial_indent="# ", subsequent_indent="# ")
    lines += ["from practicum.grader.notebook_checks import check, score", ""]
    if public:
        lines.append(f'check(globals(), "{task}", "{part.name}")')
    else:
        lines.append(f"# (no public check for {part.name}: it is graded by hidden checks)")
    if hidden:
        lines += ["### BEGIN HIDDEN TESTS",
                  f'check(globals(), "{task}", "{part.name}", hidden=True)',
                  "### END HIDDEN TESTS"]
    lines.append(f'score("{task}", "{part.name}", out_of={points!r})  # the points earned')
    return "\n".join(lines)


def load_questions(assignment: str, root: Path = practicum.REPO_ROOT) -> list[Question]:
    """The written questions of an assignment, from ``nbgrader/questions.toml``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = root / COURSE_DIR / "questions.toml"
    if not path.is_file():
        return []
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Question(entry["grade_id"], entry["points"], " ".join(entry["prompt"].split()),
                     " ".join(entry["model_answer"].split()))
            for entry in table.get(assignment, [])]


def _intro(assignment: Assignment, questions: list[Question], total: float) -> str:
    written = sum(question.points for question in questions)
    return (f"# {assignment.title}\n\n{assignment.intro}\n\n"
            "**How to work.** Run the cells from the top. In each cell that says "
            "`YOUR CODE HERE`, replace the `raise NotImplementedError()` with your answer, "
            "keeping the function's name and arguments. After each section, the check "
            "cells run the public tests on your functions and say what is wrong. At "
            "grading, more checks (hidden ones) run in the same cells: a check cell's "
            "points are shared by its checks, and it earns the share of each check that "
            "passes (as `grader grade` scores the same tests). Do not delete or reorder "
            "cells, and do not edit the locked ones.\n\n"
            f"Points: {total:g} for code (the check cells), {written:g} for the written "
            "answers at the end (graded by hand).")


def build_notebook(assignment_name: str, root: Path = practicum.REPO_ROOT) -> dict:
    """The nbgrader source notebook of one assignment, as a JSON-ready dict."""
    assignment = ASSIGNMENTS[assignment_name]
    questions = load_questions(assignment_name, root)
    points = part_points(assignment_name, root)
    total = round(sum(share for _, _, share in points.values()), 4)
    cells = [_cell("markdown", _intro(assignment, questions, total), _metadata("intro", None),
                   "intro"),
             _cell("code", SETUP, _metadata("provided", None, "setup", locked=True), "setup")]
    for number, task_name in enumerate(assignment.tasks, start=1):
        task = TASKS[task_name]
        source = (root / "solutions" / f"{task_name}.py").read_text(encoding="utf-8")
        docstring, chunks = solution_chunks(source)
        text = (f"## Part {number}: {task.title} (`{task_name}`, handout {task.handout})\n\n"
                f"{task.intro}\n\n"
                "The conventions and a worked example, as in the module's docstring:\n\n"
                + "\n".join(f"    {line}" if line else "" for line in docstring.splitlines()))
        cells.append(_cell("markdown", text, _metadata("instructions", task_name),
                           f"{task_name}-intro"))
        provided = answers = 0
        for is_answer, chunk in chunks:
            if is_answer:
                name = re.search(r"^(?:def|class)\s+(\w+)", chunk, re.M)
                grade_id = f"{task_name}_{name.group(1) if name else answers}"
                answers += 1
                meta = _metadata("answer", task_name, grade_id, solution=True)
            else:
                provided += 1
                grade_id = f"{task_name}_provided_{provided}"
                meta = _metadata("provided", task_name, grade_id, locked=True)
            cells.append(_cell("code", chunk, meta, grade_id.replace("_", "-")))
        cells.append(_cell("markdown", f"### Checks of part {number} (`{task_name}`)",
                           _metadata("instructions", task_name), f"{task_name}-checks"))
        for part in task.parts:
            grade_id = check_id(task_name, part.name)
            share = points[grade_id][2]
            meta = _metadata("check", task_name, grade_id, grade=True, locked=True,
                             points=share, part=part.name)
            cells.append(_cell("code", _check_source(task_name, part, share, root), meta,
                               grade_id.replace("_", "-")))
    if questions:
        cells.append(_cell("markdown", "## Written questions\n\nAnswer each question in "
                           "the cell below it, in a few sentences of your own. These "
                           "answers are graded by hand.", _metadata("instructions", None),
                           "questions"))
    for question in questions:
        cells.append(_cell("markdown", f"**Question ({question.points:g} points).** "
                           f"{question.prompt}", _metadata("question", None),
                           f"{question.grade_id}-prompt".replace("_", "-")))
        meta = _metadata("written", None, question.grade_id, grade=True, solution=True,
                         points=question.points)
        cells.append(_cell("markdown", f"*A model answer (removed from the release):* "
                           f"{question.model_answer}", meta,
                           question.grade_id.replace("_", "-")))
    return {"cells": cells, "metadata": {
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
        "practicum": {"assignment": assignment_name, "tasks": list(assignment.tasks),
                      "generated_by": "grader notebooks (from solutions/)"}},
        "nbformat": 4, "nbformat_minor": 5}


def notebook_text(assignment: str, root: Path = practicum.REPO_ROOT) -> str:
    return json.dumps(build_notebook(assignment, root), indent=1, ensure_ascii=False,
                      sort_keys=True) + "\n"


def notebook_path(assignment: str, course: Path) -> Path:
    return course / "source" / assignment / f"{assignment}.ipynb"


def write_notebooks(course: Path | None = None, root: Path = practicum.REPO_ROOT) -> list[Path]:
    course = course or root / COURSE_DIR
    written = []
    for assignment in ASSIGNMENTS:
        path = notebook_path(assignment, course)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook_text(assignment, root), encoding="utf-8")
        written.append(path)
    return written


def stale_notebooks(course: Path | None = None, root: Path = practicum.REPO_ROOT) -> list[str]:
    """One message (with the start of a diff) per notebook that differs from what the
    generator makes now; empty when everything is up to date."""
    course = course or root / COURSE_DIR
    problems = []
    for assignment in ASSIGNMENTS:
        path = notebook_path(assignment, course)
        expected = notebook_text(assignment, root)
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        actual = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = list(difflib.unified_diff(actual.splitlines(), expected.splitlines(),
                                             "committed", "generated", lineterm="", n=1))
            problems.append(f"{path} is out of date:\n" + "\n".join(diff[:20]))
    return problems
