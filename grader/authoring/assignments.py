"""The nbgrader assignments: their tasks, each task's parts (check cells), and which test
belongs to which part.

A *part* is one autograded check cell of a notebook: it runs the task tests whose names
match its keywords (:func:`part_of`: the longest matching keyword wins), and earns the
points those tests are worth in ``grading.toml`` (:func:`part_points`). The same rule places
tests in the kernel (:mod:`practicum.grader.running.notebook_checks`) and in the sandboxed
autograde (:mod:`practicum.grader.grading.nbgrader_submissions`).
"""

from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys
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


TASKS: dict[str, Task] = {
    task.name: task
    for task in [
        Task(
            "model_builder",
            "Model Builder in Keras",
            "A2 section 1, A3 section 1",
            "Model Builder describes a network as a list of layer specifications. You compute "
            "the shape that comes out of every layer (and refuse models that cannot work, such "
            "as a fully connected layer on an image that was never flattened), then build the "
            "same network in Keras.",
            # one check cell: most checks of invalid models run both functions, and a check
            # counts once its functions pass a value test (scoring's gating) in that cell or
            # an earlier one
            (
                Part(
                    "build_model",
                    ("output_shapes", "build_model"),
                    "output_shapes, build_model, the presets and the checks of invalid models",
                ),
            ),
            default="build_model",
        ),
        Task(
            "training",
            "The training loop",
            "A2 section 2.1",
            "Keras's `fit` hides two things this part asks for: cutting a data set into "
            "shuffled batches, and one step of gradient descent on the mean cross-entropy.",
            (Part("batch_indices", ("batch_indices",)), Part("train_step", ("train_step",))),
            default="train_step",
        ),
        Task(
            "inspect_model",
            "What the network got wrong, and what it sees",
            "A2 section 2.2, A3 section 1.4",
            "Two ways to look inside a trained classifier: the test images it gets wrong with "
            "the most confidence, and the activation maps of every layer for one image.",
            (
                Part("most_confidently_wrong", ("most_confidently_wrong",)),
                Part("layer_activations", ("layer_activations", "last_activation")),
            ),
            default="layer_activations",
        ),
        Task(
            "conv",
            "Convolution arithmetic",
            "A3 sections 1.1 to 1.3",
            "Before building a convolutional network, work out by hand what each layer does to "
            "the shape of its input, then stack convolution, activation and pooling blocks.",
            (
                Part("conv_output_shape", ("conv_output_shape", "same_padding")),
                Part("pool_output_shape", ("pool_output_shape",)),
                Part("build_conv_stack", ("build_conv_stack",)),
            ),
            default="build_conv_stack",
        ),
        Task(
            "metrics",
            "Measuring a classifier",
            "A3 section 3.6, question 6",
            "Accuracy alone hides a lot. Count what the classifier confuses, how sure it is, "
            "and whether its confidence can be trusted.",
            (
                Part(
                    "label_metrics",
                    (
                        "accuracy",
                        "confusion_matrix",
                        "precision_recall_f1",
                        "perfect_predictions",
                        "renaming_classes",
                        "label_metrics",
                    ),
                    "accuracy, confusion_matrix and precision_recall_f1",
                ),
                Part(
                    "probability_metrics",
                    (
                        "top_k_accuracy",
                        "top_1_accuracy",
                        "log_loss",
                        "expected_calibration_error",
                        "one_bin_compares",
                        "one_hot_probabilities",
                        "probability_metrics",
                        "probabilities_of_three",
                    ),
                    "top_k_accuracy, log_loss and expected_calibration_error",
                ),
                Part(
                    "every_metric",
                    ("every_metric",),
                    "every metric: label shapes, invalid inputs and invariances",
                ),
            ),
            default="every_metric",
        ),
        Task(
            "style_losses",
            "The losses of neural style transfer",
            "A3 sections 3.2 to 3.4",
            "Style transfer compares images through a pre-trained network: content by the "
            "activations of one layer, style by the Gram matrices of several. These are the "
            "losses that the optimisation of the generated image minimises.",
            (
                Part("gram_matrix", ("gram_matrix",)),
                Part("content_loss", ("content_loss",)),
                Part("style_loss", ("style_loss",)),
                Part("total_variation_loss", ("total_variation",)),
                Part("total_loss", ("total_loss",)),
            ),
            default="total_loss",
        ),
    ]
}

ASSIGNMENTS: dict[str, Assignment] = {
    assignment.name: assignment
    for assignment in [
        Assignment(
            "assignment2",
            "Assignment 2: multilayer networks",
            "This notebook takes Model Builder's multilayer networks into Keras: describing a "
            "model layer by layer, training it batch by batch, and looking at its mistakes.",
            ("model_builder", "training", "inspect_model"),
        ),
        Assignment(
            "assignment3",
            "Assignment 3: convolutional networks and style transfer",
            "This notebook covers the arithmetic of convolutional layers, the statistics that "
            "tell two classifiers apart, and the losses behind neural style transfer.",
            ("conv", "metrics", "style_losses"),
        ),
    ]
}


# --------------------------------------------------------------------------- tests -> parts


def part_of(task: str, test_name: str) -> str:
    """The part (check cell) that a test of ``task`` belongs to, from the test's name
    (a parametrised test's ``[...]`` is ignored): the longest matching keyword wins."""
    spec = TASKS[task]
    base = test_name.split("[", 1)[0]
    pairs = sorted(
        ((keyword, part.name) for part in spec.parts for keyword in part.keywords),
        key=lambda pair: -len(pair[0]),
    )
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
    return [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name.startswith("test_")
    ]


def tests_of_part(task: str, part: str, kind: str, root: Path = practicum.REPO_ROOT) -> list[str]:
    return [name for name in task_test_names(task, kind, root) if part_of(task, name) == part]


def check_cells(assignment: str) -> dict[str, tuple[str, str]]:
    """``grade_id -> (task, part)`` of the assignment's check cells."""
    return {
        check_id(task, part.name): (task, part.name)
        for task in ASSIGNMENTS[assignment].tasks
        for part in TASKS[task].parts
    }


@functools.lru_cache(maxsize=4)
def collected_tests(root: Path = practicum.REPO_ROOT) -> dict[str, tuple[str, ...]]:
    """``task -> names of its test items`` (public and hidden, parametrised instances
    apart), as pytest collects them (``pytest --collect-only``, in a fresh process)."""
    files = sorted(
        str(path.relative_to(root))
        for kind in ("public", "hidden")
        for path in (root / "tests" / kind).glob("test_*.py")
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--impl",
            "solutions",
            "--rootdir",
            str(root),
            "-c",
            str(root / "pyproject.toml"),
            *files,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PRACTICUM_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    tests: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        path, _, name = line.strip().partition("::")
        if name and Path(path).stem.startswith("test_"):
            tests.setdefault(Path(path).stem.removeprefix("test_"), []).append(name)
    if done.returncode != 0 or not tests:
        raise RuntimeError(
            f"pytest could not collect the tests in {root / 'tests'}:\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return {task: tuple(names) for task, names in tests.items()}


def part_shares(task: str, root: Path = practicum.REPO_ROOT) -> dict[str, float]:
    """``part -> points``: the task's points (``grading.toml``) split over its check cells
    as :func:`practicum.grader.grading.scoring.score_task` splits them over the tests (each part
    gets what its tests are worth; the last part the remainder, so that the parts add up exactly).
    """
    from practicum.grader.grading import scoring

    config = scoring.load_config(root / "grading.toml")
    rows = [
        {
            "nodeid": f"tests/{task}::{name}",
            "name": name,
            "task": task,
            "visibility": "hidden",
            "outcome": "passed",
            "message": "",
        }
        for name in collected_tests(root).get(task, ())
    ]
    worth: dict[str, float] = {}
    for test in scoring.score_task(task, rows, config).tests:
        part = part_of(task, test.name)
        worth[part] = worth.get(part, 0.0) + test.max_score
    names = [part.name for part in TASKS[task].parts]
    shares = {name: round(worth.get(name, 0.0), 4) for name in names[:-1]}
    shares[names[-1]] = round(config.task_points(task) - sum(shares.values()), 4)
    return shares


def part_points(
    assignment: str, root: Path = practicum.REPO_ROOT
) -> dict[str, tuple[str, str, float]]:
    """``grade_id -> (task, part, points)`` of the assignment's check cells."""
    shares = {task: part_shares(task, root) for task in ASSIGNMENTS[assignment].tasks}
    return {
        grade_id: (task, part, shares[task][part])
        for grade_id, (task, part) in check_cells(assignment).items()
    }


def check_id(task: str, part: str) -> str:
    return f"check_{task}_{part}"
