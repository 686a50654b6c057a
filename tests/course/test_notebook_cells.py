"""Submitted notebooks and modules become task modules that lose only what is broken:
a cell that does not compile or raises costs what it defines, a module with a syntax
error keeps its other functions, and every such loss is reported with the cell or lines.
Also what a notebook cannot do to its score (nbgrader metadata, outputs, odd JSON)."""

from __future__ import annotations

import importlib.util
import json
import traceback

import pytest

from practicum.grader.authoring import assignments, source_notebooks
from practicum.grader.grading import nbgrader_submissions, submissions
from tests.course.nbgrader_helpers import ROOT


def notebook(*sources: str) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "markdown", "source": "# title"}]
            + [
                {"cell_type": "code", "source": source, "outputs": [], "metadata": {}}
                for source in sources
            ],
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
        }
    )


def load(path):
    spec = importlib.util.spec_from_file_location(f"_cells_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepared(tmp_path, name: str, text: str):
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in" / name).write_text(text)
    result = submissions.prepare_submission(tmp_path / "in", tmp_path / "out")
    return result, tmp_path / "out" / f"{name.split('.')[0]}.py"


def test_a_cell_that_does_not_compile_costs_only_its_own_functions(tmp_path):
    result, path = prepared(
        tmp_path,
        "conv.ipynb",
        notebook(
            "import math",
            "def area(r)\n    return math.pi * r * r",
            "def double(x):\n    return 2 * x",
        ),
    )
    assert result.task_notes["conv"] == (
        "conv.ipynb: cell 3 does not compile (line 1: expected ':'): the functions it "
        "defines are not graded; the other cells are"
    )
    module = load(path)
    assert module.double(4) == 8
    with pytest.raises(
        NameError,
        match=r"area\(\) is not defined: cell 3 does not compile "
        r"\(line 1: expected ':'\)",
    ):
        module.area(1.0)


def test_a_cell_that_raises_when_it_runs_does_not_stop_the_next_cells(tmp_path):
    result, path = prepared(
        tmp_path,
        "conv.ipynb",
        notebook(
            "def first():\n    return 1\nx = 1 / 0\ndef lost():\n    return 2",
            "def after():\n    return 3",
        ),
    )
    assert "conv" not in result.task_notes  # it compiles: only running it shows the error
    module = load(path)
    assert (module.first(), module.after()) == (1, 3)
    with pytest.raises(
        NameError,
        match="cell 2 raised ZeroDivisionError: division by zero "
        "when it ran, so the rest of that cell did not run",
    ):
        module.lost()


def test_tracebacks_and_source_of_cell_functions_name_the_cell_and_its_line(tmp_path):
    _, path = prepared(
        tmp_path,
        "conv.ipynb",
        notebook(
            "%matplotlib inline\nimport math", "def f(x):\n    y = x + 1\n    raise ValueError(y)"
        ),
    )
    module = load(path)
    with pytest.raises(ValueError) as error:
        module.f(1)
    frame = traceback.extract_tb(error.value.__traceback__)[-1]
    assert frame.filename == f"{path} (cell 3)" and frame.lineno == 3
    assert frame.line == "raise ValueError(y)"
    import inspect

    assert inspect.getsource(module.f).startswith("def f(x):")


def test_a_module_with_a_syntax_error_keeps_the_functions_around_it(tmp_path):
    code = (
        "import math\n\n\ndef before(x):\n    return x + 1\n\n\n"
        "def broken(x)\n    return x\n\n\n@staticmethod\ndef after(x):\n    return 2 * x\n"
    )
    result, path = prepared(tmp_path, "conv.py", code)
    assert result.task_notes["conv"] == (
        "conv.py does not compile (line 8: expected ':'): "
        "lines 8-11 were left out, the rest of the module "
        "is graded"
    )
    text = path.read_text()
    assert len(text.splitlines()) == len(code.splitlines())  # line numbers unchanged
    module = load(path)
    assert module.before(1) == 2 and module.after(3) == 6
    assert not hasattr(module, "broken")


def test_a_module_that_cannot_be_recovered_says_why_the_task_scores_zero(tmp_path):
    code = "import math\n\ndef f(:\n    return 1\n"
    result, path = prepared(tmp_path, "conv.py", code)
    assert result.task_notes["conv"].startswith("conv.py does not compile (line 3: ")
    assert result.task_notes["conv"].endswith(
        "and no part of it could be recovered, so none of its functions can be graded: "
        "this task scores 0"
    )
    assert path.read_text() == code  # the worker then says the same when it imports it


def test_a_module_that_compiles_is_copied_unchanged_without_a_note(tmp_path):
    code = "def f():\n    return 1\n"
    result, path = prepared(tmp_path, "conv.py", code)
    assert path.read_text() == code and not result.task_notes


# --------------------------------------------------------------------------- nbgrader


def source3() -> dict:
    return json.loads(source_notebooks.notebook_path("assignment3", ROOT / "nbgrader").read_text())


def cell(notebook: dict, grade_id: str) -> dict:
    return next(
        c
        for c in notebook["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id
    )


def test_the_source_decides_cell_types_and_the_notes_describe_without_quoting():
    source = source3()
    submitted = json.loads(json.dumps(source))
    written = cell(submitted, "q_depth_conv")
    written.update(
        cell_type="code", outputs=[], execution_count=None, source="import os\nos.system('id')"
    )
    written["metadata"]["nbgrader"].update(solution=False, points="<img src=x onerror=alert(1)>")
    answer = cell(submitted, "conv_conv_output_shape")
    answer["cell_type"] = "markdown"  # nbgrader runs it as code all the same
    notes = nbgrader_submissions.source_rule_notes(source, submitted)
    assert notes == [
        "cell 'conv_conv_output_shape' was handed in as a markdown cell: graded as the "
        "source's code answer cell",
        "cell 'q_depth_conv' was handed in as a code cell with changed solution, points: "
        "graded as the source's markdown written answer",
    ]
    modules = nbgrader_submissions.task_modules(source, submitted)
    assert "os.system" not in modules["style_losses"]  # a written answer never runs
    assert "def conv_output_shape" in modules["conv"]


def test_a_written_answer_is_scored_with_the_source_s_metadata_and_capped():
    source = source3()
    submitted = json.loads(json.dumps(cell(source, "q_depth_conv")))
    submitted.update(cell_type="code", outputs=[], source="")
    submitted["metadata"]["nbgrader"].update(solution=False, points=1000)
    source_cell = cell(source, "q_depth_conv")
    assert nbgrader_submissions.written_score(source_cell, submitted, None) is None  # manual
    assert nbgrader_submissions.written_score(source_cell, None, None) == 0.0


def test_a_check_cell_earns_the_share_of_each_test_that_passes_as_grade_scores_it():
    from practicum.grader.grading import scoring
    from practicum.grader.grading.results import TestOutcome

    def outcome(name, result="passed"):
        return TestOutcome(f"x::{name}", name, "conv", "hidden", result, "")

    outcomes = [
        outcome("test_conv_output_shape_on_worked_examples"),
        outcome("test_conv_output_shape_matches_the_reference", "failed"),
        outcome("test_pool_output_shape_on_the_handouts_example"),
        outcome("test_build_conv_stack_rejects_invalid_blocks", "skipped"),
    ]
    scores = nbgrader_submissions.cell_scores("assignment3", outcomes)
    task = scoring.score_task("conv", outcomes, scoring.load_config(ROOT / "grading.toml"))
    assert scores["check_conv_conv_output_shape"] == pytest.approx(10 / 3, abs=1e-3)  # 1 of 3 tests
    assert scores["check_conv_pool_output_shape"] == pytest.approx(10 / 3, abs=1e-3)
    assert scores["check_conv_build_conv_stack"] == 0.0  # skipped: not counted
    assert sum(scores[g] for g in scores if g.startswith("check_conv")) == pytest.approx(
        task.score, abs=1e-3
    )
    assert scores["check_metrics_label_metrics"] == 0.0  # no test ran: nothing


def test_a_check_cell_counts_value_tests_of_its_own_and_earlier_cells_only_as_the_kernel():
    """The kernel scores a cell when it runs, so a value test in a later cell cannot open an
    earlier cell's property points; the sandboxed path must give the same grades."""
    from practicum.grader.grading.results import TestOutcome

    def outcome(name, functions, value_test_for=()):
        return TestOutcome.from_row(
            {
                "nodeid": f"x::{name}",
                "name": name,
                "task": "metrics",
                "visibility": "hidden",
                "outcome": "passed",
                "message": "",
                "functions": list(functions),
                "value_test_for": list(value_test_for),
            }
        )

    prop = outcome("test_log_loss_of_uniform_probabilities_is_log_k", ["log_loss"])
    late_value = outcome("test_every_metric_whatever", ["log_loss"], ["log_loss"])
    early_value = outcome("test_log_loss_matches_the_reference", ["log_loss"], ["log_loss"])
    late = nbgrader_submissions.cell_scores("assignment3", [prop, late_value])
    assert late["check_metrics_probability_metrics"] == 0.0  # withheld: checked only later
    assert late["check_metrics_every_metric"] > 0.0
    early = nbgrader_submissions.cell_scores("assignment3", [prop, early_value])
    assert early["check_metrics_probability_metrics"] > 0.0


def test_the_check_cells_points_are_the_tests_shares_and_add_up_to_the_task_s():
    from practicum.grader.grading import scoring

    config = scoring.load_config(ROOT / "grading.toml")
    for assignment in assignments.ASSIGNMENTS:
        points = assignments.part_points(assignment)
        for task in assignments.ASSIGNMENTS[assignment].tasks:
            shares = [share for (owner, _, share) in points.values() if owner == task]
            assert sum(shares) == pytest.approx(config.task_points(task), abs=1e-9)
            assert all(share > 0 for share in shares), task
    tests = assignments.collected_tests()["conv"]
    each = 10 / len(tests)  # conv has no per-test override
    in_pool = [name for name in tests if assignments.part_of("conv", name) == "pool_output_shape"]
    assert assignments.part_shares("conv")["pool_output_shape"] == pytest.approx(
        each * len(in_pool), abs=1e-4
    )


def test_notebook_checks_score_a_part_as_a_task_worth_its_share():
    from practicum.grader.grading.results import TestOutcome
    from practicum.grader.running import notebook_checks

    rows = [
        TestOutcome(
            f"x::t{i}",
            f"test_gram_matrix_{i}",
            "style_losses",
            "hidden",
            "passed" if i < 3 else "failed",
            "",
        )
        for i in range(4)
    ]
    notebook_checks._OUTCOMES[("style_losses", "gram_matrix")] = {"hidden": rows}
    try:
        assert notebook_checks.score("style_losses", "gram_matrix", out_of=5.2941) == pytest.approx(
            5.2941 * 3 / 4, abs=1e-4
        )
    finally:
        notebook_checks._OUTCOMES.clear()
    assert notebook_checks.score("style_losses", "gram_matrix", out_of=5.0) == 0.0


# --------------------------------------------------------------------------- odd JSON


def test_duplicate_keys_are_read_as_jupyter_reads_them_and_said(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_text('{"cells": [], "cells": [{"cell_type": "code", "source": "x = 1"}]}')
    notes: list[str] = []
    notebook_ = nbgrader_submissions.read_notebook(path, notes)
    assert notebook_["cells"][0]["source"] == "x = 1"  # the last one, as json and nbformat
    assert notes == [
        "a.ipynb repeats a key inside an object: the last value of each was "
        "used, as Jupyter and nbgrader read it"
    ]


def test_a_huge_or_deeply_nested_notebook_is_refused_with_a_reason(tmp_path):
    huge = tmp_path / "huge.ipynb"
    with open(huge, "w") as handle:
        handle.truncate(submissions.MAX_FILE_BYTES + 1)
    with pytest.raises(ValueError, match="huge.ipynb is larger than 20 MB"):
        nbgrader_submissions.read_notebook(huge)
    deep = tmp_path / "deep.ipynb"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="deep.ipynb is nested too deeply"):
        nbgrader_submissions.read_notebook(deep)


def test_a_cell_source_that_is_not_text_makes_the_notebook_unreadable():
    source = source3()
    submitted = json.loads(json.dumps(source))
    cell(submitted, "conv_conv_output_shape")["source"] = {"not": "text"}
    with pytest.raises(ValueError, match="a cell's source is not text"):
        nbgrader_submissions.rebuild(source, submitted)


@pytest.mark.slow
def test_grader_grade_of_a_notebook_with_a_syntax_error_loses_only_that_function(tmp_path):
    import subprocess

    from practicum.grader.grading import scoring
    from tests.course.nbgrader_helpers import BIN, env

    def submission(folder, typo: bool):
        _, chunks = source_notebooks.solution_chunks(
            (ROOT / "solutions" / "style_losses.py").read_text()
        )
        cells = [
            code.replace(
                "def content_loss(generated, target) -> tf.Tensor:",
                "def content_loss(generated, target) -> tf.Tensor"
                if typo
                else "def content_loss(generated, target) -> tf.Tensor:",
            )
            for _, code in chunks
        ]
        folder.mkdir()
        (folder / "style_losses.ipynb").write_text(notebook(*cells))
        done = subprocess.run(
            [
                str(BIN / "grader"),
                "grade",
                str(folder),
                "--out",
                str(folder / "out"),
                "--task",
                "style_losses",
            ],
            env=env(),
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert done.returncode in (0, 1), done.stdout + done.stderr
        return scoring.StudentResult.from_json(
            json.loads((folder / "out" / "grade.json").read_text())
        ).tasks[0]

    typo, right = submission(tmp_path / "typo", True), submission(tmp_path / "right", False)
    lost = {test.name for test in typo.tests if not test.passed}
    assert right.score == 20.0 and lost
    assert all("content_loss" in name for name in lost), sorted(lost)
    assert typo.note == (
        "style_losses.ipynb: cell 4 does not compile (line 1: expected "
        "':'): the functions it defines are not graded; the other cells are"
    )
    failed = next(test for test in typo.tests if not test.passed)
    assert (
        "content_loss() is not defined: cell 4 does not compile (line 1: expected ':'), "
        "so none of it ran"
    ) in failed.message


def test_a_cell_that_raises_in_the_sandboxed_autograde_is_named_in_the_notes():
    from practicum.grader.grading.results import TestOutcome

    message = (
        "style_losses.content_loss raised NameError: content_loss() is not defined: "
        "cell 29 raised ZeroDivisionError: division by zero when it ran, so the rest "
        "of that cell did not run"
    )
    outcomes = [
        TestOutcome("x::t", "test_content_loss_x", "style_losses", "hidden", "failed", message)
    ] * 2
    assert nbgrader_submissions.runtime_notes(outcomes, {29: "style_losses_content_loss"}) == [
        "cell 29 (style_losses_content_loss) raised ZeroDivisionError when it ran: the rest "
        "of that cell did not run, and the functions it defines there are not graded"
    ]
    source = source3()
    submitted = json.loads(json.dumps(source))
    cell(submitted, "style_losses_content_loss")["source"] = "x = 1 / 0"
    rebuilt = nbgrader_submissions.rebuild(source, submitted)
    assert rebuilt.labels[29] == "style_losses_content_loss" and not rebuilt.notes


@pytest.mark.slow
def test_each_check_cell_finds_the_value_tests_it_is_gated_on_in_itself_or_earlier():
    # In nbgrader's kernel a check cell knows only the tests of its own and earlier cells:
    # a test whose points count once its functions pass a value test (scoring's gating)
    # must find those value tests there, or the kernel would score less than `grade`.
    from practicum.grader.grading import grade

    crossing = []
    for task in assignments.TASKS:
        order = [part.name for part in assignments.TASKS[task].parts]
        rows = [vars(row) for row in grade.run_task_tests("solutions", tasks=[task])]
        assert rows, task
        first_value_part: dict[str, int] = {}
        for row in rows:
            for function in row.get("value_test_for") or ():
                where = order.index(assignments.part_of(task, row["name"]))
                first_value_part[function] = min(where, first_value_part.get(function, where))
        for row in rows:
            where = order.index(assignments.part_of(task, row["name"]))
            crossing += [
                f"{task}: {row['name']} (part {order[where]}) is gated on {function}"
                for function in row.get("functions") or ()
                if first_value_part.get(function, len(order)) > where
            ]
    assert not crossing, "\n".join(crossing)


def test_the_autograded_notebook_shows_feedback_never_hidden_tests_or_submitted_html():
    from practicum.grader.export.nbgrader_feedback import autograded_notebook
    from practicum.grader.grading.results import TestOutcome

    source = source3()
    submitted = json.loads(json.dumps(source))
    check = cell(submitted, "check_conv_conv_output_shape")
    check["outputs"] = [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"text/html": "<script>alert('full marks')</script>"},
        }
    ]
    cell(submitted, "q_depth_conv")["source"] = "Deeper is better <img src=x onerror=alert(1)>"
    submitted["cells"].append(
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "<iframe src='https://example.org'></iframe>",
        }
    )
    failed = TestOutcome(
        "x::t",
        "test_conv_output_shape_matches_the_reference",
        "conv",
        "hidden",
        "failed",
        "conv_output_shape((5, 5, 1), ...) is (3, 3, 8)",
    )
    passed = TestOutcome(
        "x::u", "test_conv_output_shape_on_worked_examples", "conv", "public", "passed", ""
    )
    notebook = autograded_notebook(source, submitted, [failed, passed], ["a note"])
    text = json.dumps(notebook)
    assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
    assert "<script>" not in text and "<img" not in text and "<iframe" not in text
    assert "&lt;img src=x" in cell(notebook, "q_depth_conv")["source"]
    shown = "".join(cell(notebook, "check_conv_conv_output_shape")["outputs"][0]["text"])
    assert shown.startswith("1 of 2 grading checks pass")
    assert "test_conv_output_shape_matches_the_reference: conv_output_shape((5, 5, 1)" in shown
    assert (
        cell(notebook, "check_conv_conv_output_shape")["metadata"]
        == cell(source, "check_conv_conv_output_shape")["metadata"]
    )  # the source's, for nbgrader
    first_code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    assert "grader: a note" in "".join(first_code["outputs"][0]["text"])
