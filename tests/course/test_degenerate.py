"""Degenerate answers score 0 points, in every task, by design.

A degenerate submission answers every TODO region of the released stubs (``exercises/``)
with one trivial line and keeps the provided code around it: ``return 0.0``, ``return
None``, the function's first argument echoed, ``raise ValueError(...)``, a raise of the
module's own error class (where it has one: ``ModelSpecError``), a model_builder that
answers only the one valid call its error tests probe and refuses everything else, or the
stub left as it is. Some of these pass properties that compare a function with itself
("zero for identical inputs") or error tests that reward refusing everything; the scoring
rule (:mod:`practicum.grader.grading.scoring`, ``docs/grading.md``) withholds those points until the
function matches the reference on a value test, so every variant scores 0.

All variants are graded by one ``grader compare`` process (in-process: they are harmless);
two of them again, at the same time, through ``grader grade-all`` in the sandbox
(bubblewrap where it works here, else the process mode).
"""

from __future__ import annotations

import ast
import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import practicum
from practicum.grader import sandbox
from practicum.grader.grading import scoring
from practicum.grader.running.gating import CallGraph, CourseFunctions

ROOT = practicum.REPO_ROOT
EXERCISES = ROOT / "exercises"
TODO = re.compile(r"^(\s*)raise NotImplementedError\(\"(\w+)\.(\w+): replace this line")
CONFIG = scoring.load_config(ROOT / "grading.toml")


def own_error_class(tree: ast.Module) -> str | None:
    """The first exception class a module defines (``ModelSpecError``), if any."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
            return node.name
    return None


def first_argument(tree: ast.Module, line: int) -> str:
    """The first parameter (not ``self``) of the innermost function around ``line``."""
    around = [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    assert around, f"line {line} is not inside a function"
    function = max(around, key=lambda node: node.lineno)
    names = [
        arg.arg
        for arg in (*function.args.posonlyargs, *function.args.args)
        if arg.arg not in ("self", "cls")
    ]
    return names[0] if names else "None"


# model_builder answering only what its error tests probe first (one conv layer on MNIST)
# and refusing everything else: 4.29 of 15 points before gating.
PROBE_ONLY = {
    "output_shapes": [
        'if len(layers) == 1 and layers[0].get("type") == "conv":',
        '    return [(28, 28, layers[0].get("filters"))]',
        'raise ModelSpecError("Received: (28, 28, 1), expected a flatten layer before fc")',
    ],
    "build_model": [
        'raise ModelSpecError("Received: (28, 28, 1), expected a flatten layer before fc")'
    ],
}

VARIANTS = {  # variant -> (module tree, line, function) -> the answer's lines
    "zero": lambda tree, line, function: ["return 0.0"],
    "none": lambda tree, line, function: ["return None"],
    "echo": lambda tree, line, function: [f"return {first_argument(tree, line)}"],
    "value_error": lambda tree, line, function: [
        'raise ValueError("Received: anything, expected nothing")'
    ],
    "own_error": lambda tree, line, function: [
        f'raise {own_error_class(tree)}("Received: anything, expected nothing")'
    ],
    "probe_only": lambda tree, line, function: (
        PROBE_ONLY.get(function) or [f'raise {own_error_class(tree)}("Received: anything")']
    ),
    "stub": None,
}
APPLIES = {
    "own_error": lambda tree: own_error_class(tree) is not None,
    "probe_only": lambda tree: own_error_class(tree) == "ModelSpecError",
}
THROUGH_GRADE_ALL = ["zero", "probe_only"]


def degenerate_module(text: str, variant: str) -> str | None:
    """The stub ``text`` with every TODO answered by ``variant``; None if the variant does
    not apply to this module (``own_error`` in a module without an error class of its own,
    ``probe_only`` outside model_builder)."""
    tree = ast.parse(text)
    if not APPLIES.get(variant, lambda tree: True)(tree):
        return None
    answer = VARIANTS[variant]
    if answer is None:
        return text
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        match = TODO.match(line)
        if match:
            lines[number] = "".join(
                f"{match.group(1)}{code}\n" for code in answer(tree, number + 1, match.group(3))
            )
    return "".join(lines)


def build_degenerate(variant: str, target: Path) -> Path:
    """A submission folder: every released stub answered by ``variant`` (a module the
    variant does not apply to is answered by ``raise ValueError``)."""
    target.mkdir(parents=True)
    for stub in sorted(EXERCISES.glob("*.py")):
        text = stub.read_text()
        answered = degenerate_module(text, variant) or degenerate_module(text, "value_error")
        (target / stub.name).write_text(answered)
    return target


def earning(result: scoring.StudentResult) -> dict[str, list[tuple[str, float]]]:
    return {
        task.task: [(test.name, test.score) for test in task.tests if test.score]
        for task in result.tasks
        if task.score
    }


# --------------------------------------------------------------------------- the generator


def test_every_todo_region_of_every_stub_is_answered_by_each_variant():
    stubs = sorted(EXERCISES.glob("*.py"))
    assert len(stubs) >= 8
    for stub in stubs:
        text = stub.read_text()
        assert any(TODO.match(line) for line in text.splitlines()), f"{stub.name}: no TODO"
        for variant in VARIANTS:
            answered = degenerate_module(text, variant)
            if answered is None or variant == "stub":
                continue
            ast.parse(answered)
            assert not any(TODO.match(line) for line in answered.splitlines()), stub.name
    style = (EXERCISES / "style_losses.py").read_text()
    assert "    return features\n" in degenerate_module(style, "echo")
    assert "    return generated\n" in degenerate_module(style, "echo")
    assert degenerate_module(style, "own_error") is None
    builder = (EXERCISES / "model_builder.py").read_text()
    assert 'raise ModelSpecError("Received: anything' in degenerate_module(builder, "own_error")


# --------------------------------------------------------------------------- the rule


def row(name: str, outcome: str = "passed", functions=("m.f",), value_test_for=()) -> dict:
    return {
        "nodeid": f"t::{name}",
        "name": name,
        "task": "m",
        "visibility": "hidden",
        "outcome": outcome,
        "message": "",
        "functions": list(functions),
        "value_test_for": list(value_test_for),
    }


def test_a_property_counts_only_once_its_function_passes_a_value_test():
    config = scoring.GradingConfig(default_points=4)
    value = row("test_f_matches_the_reference", value_test_for=["m.f"])
    prop = row("test_f_is_symmetric")
    alone = scoring.score_task(
        "m", [prop, row("test_f_matches_the_reference", "failed", value_test_for=["m.f"])], config
    )
    assert [test.score for test in alone.tests] == [0, 0]
    assert alone.tests[0].passed  # the feedback stays "passed"
    assert alone.tests[0].withheld == "counts once f matches the reference on a value test"
    together = scoring.score_task("m", [prop, value], config)
    assert [test.score for test in together.tests] == [2, 2]
    assert not any(test.withheld for test in together.tests)


def test_a_test_of_several_functions_needs_each_to_pass_a_value_test():
    config = scoring.GradingConfig(default_points=3)
    rows = [
        row("test_g_of_f", functions=["m.f", "m.g", "m.h"]),
        row("test_f_value", value_test_for=["m.f"]),
    ]
    task = scoring.score_task("m", rows, config)
    assert task.score == 1.5
    assert task.tests[0].withheld == "counts once g and h match the reference on a value test"
    assert scoring.score_task("m", rows, config, checked={"m.f", "m.g", "m.h"}).score == 3


def test_rows_without_the_lists_score_as_before():
    config = scoring.GradingConfig(default_points=2)
    old = [
        {
            key: value
            for key, value in row(name, outcome).items()
            if key not in ("functions", "value_test_for")
        }
        for name, outcome in (("test_a", "passed"), ("test_b", "failed"))
    ]
    assert scoring.score_task("m", old, config).score == 1
    stored = scoring.score_student("ann", old, config).to_json()
    for task in stored["tasks"]:
        for test in task["tests"]:
            test.pop("withheld")  # a grade.json written before the rule
    assert scoring.StudentResult.from_json(stored).score == 1


def test_provided_code_exercises_the_answer_functions_it_calls():
    graph = CallGraph.from_source((ROOT / "solutions" / "fast_style.py").read_text())
    assert graph.answers == {"residual_block", "upsample_block", "transform_net"}
    assert graph.answers_reached("transform_net_outputs") == {"transform_net"}
    assert graph.answers_reached("transform_net") == {"transform_net"}
    assert graph.answers_reached("stylize") == set()  # provided, calls no answer
    stubs = CallGraph.from_source((EXERCISES / "fast_style.py").read_text())
    assert stubs.answers == graph.answers
    course = CourseFunctions(ROOT)
    assert course.reached([("inspect_model", "example_activations"), ("metrics", "accuracy")]) == [
        "inspect_model.layer_activations",
        "metrics.accuracy",
    ]


# --------------------------------------------------------------------------- graded


def grade_all_mode() -> str:
    return "bwrap" if "bwrap" in sandbox.available_modes() else "process"


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """``{"rows": {variant: rows}, "class": {variant: grade.json}, "csv": rows, ...}``:
    every variant by one ``grader compare`` in this machine's process, and the
    ``THROUGH_GRADE_ALL`` variants by ``grader grade-all`` in the sandbox, side by side."""
    root = tmp_path_factory.mktemp("degenerate")
    folders = [build_degenerate(variant, root / "all" / variant) for variant in VARIANTS]
    for variant in THROUGH_GRADE_ALL:
        build_degenerate(variant, root / "class" / variant)
    started = time.monotonic()
    running = [
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command in (
            [
                sys.executable,
                "-m",
                "practicum.grader.cli",
                "compare",
                *map(str, folders),
                "--sandbox",
                "off",
                "--json",
                str(root / "all.json"),
            ],
            [
                sys.executable,
                "-m",
                "practicum.grader.cli",
                "grade-all",
                str(root / "class"),
                "--out",
                str(root / "out"),
                "-j",
                "2",
                "--sandbox",
                grade_all_mode(),
            ],
        )
    ]
    for process in running:
        _, stderr = process.communicate(timeout=1800)
        assert process.returncode == 0, stderr[-3000:]
    print(f"graded in {time.monotonic() - started:.0f} s")
    rows = json.loads((root / "all.json").read_text())
    return {
        "rows": {Path(key).name: value for key, value in rows.items()},
        "class": {
            variant: json.loads((root / "out" / variant / "grade.json").read_text())
            for variant in THROUGH_GRADE_ALL
        },
        "reports": {
            variant: (root / "out" / variant / "report.md").read_text()
            for variant in THROUGH_GRADE_ALL
        },
        "csv": list(csv.DictReader((root / "out" / "class.csv").open())),
    }


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_degenerate_submission_scores_nothing_in_any_task(graded, variant):
    result = scoring.score_student(variant, graded["rows"][variant], CONFIG)
    assert {task.task for task in result.tasks} == {path.stem for path in EXERCISES.glob("*.py")}
    assert all(task.tests for task in result.tasks), "a task's tests did not run"
    assert result.score == 0, f"{variant} earns {result.score}: {earning(result)}"


@pytest.mark.parametrize("variant", ["zero", "echo", "probe_only"])
def test_what_a_degenerate_answer_passes_stays_passed_but_is_withheld(graded, variant):
    """Not zero by luck: these variants pass properties or error tests (feedback that
    stays true), and every one of those is withheld, naming the function to fix."""
    result = scoring.score_student(variant, graded["rows"][variant], CONFIG)
    passing = [test for task in result.tasks for test in task.tests if test.passed]
    assert passing, f"{variant} passes no test: the check below would prove nothing"
    assert all(
        re.fullmatch(
            r"counts once \w+( and \w+|, \w+)* match(es)? the reference "
            r"on a value test",
            test.withheld,
        )
        for test in passing
    ), [(test.name, test.withheld) for test in passing if not test.withheld]


def test_the_same_variants_score_nothing_through_grade_all_in_the_sandbox(graded):
    for variant, stored in graded["class"].items():
        assert stored["sandbox"] == grade_all_mode(), stored["sandbox"]
        total = sum(CONFIG.task_points(path.stem) for path in EXERCISES.glob("*.py"))
        assert stored["score"] == 0 and stored["max_score"] == total, (variant, stored["score"])
        assert any(
            test["outcome"] == "passed" for task in stored["tasks"] for test in task["tests"]
        ), f"{variant}: nothing passed, nothing withheld"
        # the report says why the passing tests earn nothing, naming the function to fix
        assert re.search(r"passing tests? score 0 until \w+ match", graded["reports"][variant])
    assert [(line["student"], line["total"]) for line in graded["csv"]] == [
        (variant, "0.00") for variant in sorted(THROUGH_GRADE_ALL)
    ]
