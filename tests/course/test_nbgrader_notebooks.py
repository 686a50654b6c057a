"""The nbgrader source notebooks: up to date with solutions/, well formed for nbgrader,
runnable top to bottom in a real kernel (with the solutions), and, once released by
nbgrader, runnable with the stubs up to the first NotImplementedError."""

from __future__ import annotations

import json

import pytest

from practicum.grader.authoring import assignments, source_notebooks
from tests.course.nbgrader_helpers import ROOT, have_nbgrader, make_course, nbgrader

needs_nbgrader = pytest.mark.skipif(not have_nbgrader(), reason="nbgrader is not installed")


def load(assignment: str) -> dict:
    return json.loads(source_notebooks.notebook_path(assignment, ROOT / "nbgrader").read_text())


def test_the_committed_notebooks_are_what_grader_notebooks_makes():
    problems = source_notebooks.stale_notebooks()
    assert not problems, "\n".join(problems) + "\nrun `grader notebooks`"


def test_a_stale_notebook_is_reported(tmp_path):
    course = make_course(tmp_path / "course")
    path = source_notebooks.notebook_path("assignment3", course)
    path.write_text(path.read_text().replace("conv_output_shape", "conv_out_shape", 1))
    problems = source_notebooks.stale_notebooks(course)
    assert len(problems) == 1 and "assignment3.ipynb is out of date" in problems[0]


@pytest.mark.parametrize("assignment", list(assignments.ASSIGNMENTS))
def test_the_cells_carry_nbgrader_metadata(assignment):
    cells = load(assignment)["cells"]
    by_role: dict[str, list[dict]] = {}
    for cell in cells:
        by_role.setdefault(cell["metadata"]["practicum"]["role"], []).append(cell)
    grade_ids = [
        cell["metadata"]["nbgrader"]["grade_id"] for cell in cells if "nbgrader" in cell["metadata"]
    ]
    assert len(grade_ids) == len(set(grade_ids))
    for cell in by_role["answer"]:
        meta, source = cell["metadata"]["nbgrader"], cell["source"]
        assert meta["solution"] and not meta["grade"] and cell["cell_type"] == "code"
        assert source.count("### BEGIN SOLUTION") == source.count("### END SOLUTION") == 1
    for cell in by_role["provided"]:
        assert cell["metadata"]["nbgrader"]["locked"] and "BEGIN SOLUTION" not in cell["source"]
    for cell in by_role["check"]:
        meta = cell["metadata"]["nbgrader"]
        assert meta["grade"] and meta["points"] > 0 and not meta["solution"]
        assert "### BEGIN HIDDEN TESTS" in cell["source"]
    for cell in by_role["written"]:
        meta = cell["metadata"]["nbgrader"]
        assert cell["cell_type"] == "markdown" and meta["grade"] and meta["solution"]


@pytest.mark.parametrize("assignment", list(assignments.ASSIGNMENTS))
def test_the_check_cells_share_each_task_s_points_as_grading_toml_does(assignment):
    from practicum.grader.grading import scoring

    config = scoring.load_config(ROOT / "grading.toml")
    cells = [
        cell
        for cell in load(assignment)["cells"]
        if cell["metadata"]["practicum"]["role"] == "check"
    ]
    for task in assignments.ASSIGNMENTS[assignment].tasks:
        points = [
            cell["metadata"]["nbgrader"]["points"]
            for cell in cells
            if cell["metadata"]["practicum"]["task"] == task
        ]
        assert sum(points) == pytest.approx(config.task_points(task), abs=1e-9), task
    for cell in cells:  # the cell's last line is its score, out of the cell's points
        last = cell["source"].splitlines()[-1]
        assert (
            last.startswith("score(")
            and f"out_of={cell['metadata']['nbgrader']['points']!r})" in last
        )


def test_every_test_of_a_task_belongs_to_one_part_and_every_part_has_tests():
    for task in assignments.TASKS.values():
        for part in task.parts:
            names = [
                name
                for kind in ("public", "hidden")
                for name in assignments.tests_of_part(task.name, part.name, kind)
            ]
            assert names, f"{task.name}: the part {part.name} has no test"
    assert (
        assignments.part_of("metrics", "test_top_k_accuracy_matches_the_reference")
        == "probability_metrics"
    )  # the longest keyword wins over "accuracy"
    assert (
        assignments.part_of("metrics", "test_accuracy_matches_the_reference[x]") == "label_metrics"
    )


def test_the_hints_stay_above_the_answer_region():
    source = (
        "def f():\n    ### BEGIN SOLUTION\n    # HINT: use g\n    return 1\n    ### END SOLUTION\n"
    )
    assert source_notebooks._move_hints(source).splitlines()[1:3] == [
        "    # HINT: use g",
        "    ### BEGIN SOLUTION",
    ]


def execute(path, *, allow_errors: bool):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


@pytest.mark.slow
@pytest.mark.nbgrader
@needs_nbgrader
def test_assignment2_runs_top_to_bottom_with_the_solutions(tmp_path):
    # (Assignment 3 runs with the solutions in test_nbgrader_flow.py: alice's submission)
    course = make_course(tmp_path / "course")
    notebook = execute(source_notebooks.notebook_path("assignment2", course), allow_errors=True)
    errors = [
        (cell["metadata"].get("nbgrader", {}).get("grade_id"), output.get("evalue"))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
    checks = [cell for cell in notebook.cells if cell.metadata["practicum"]["role"] == "check"]
    assert len(checks) == 5
    from nbgrader.utils import determine_grade

    for cell in checks:
        text = "".join(output.get("text", "") for output in cell.outputs)
        assert "public checks pass" in text and "grading checks pass" in text
        # nbgrader's own rule: an error or *any* stderr output would score 0
        assert not [output for output in cell.outputs if output.get("name") == "stderr"]
        assert determine_grade(cell) == (cell.metadata.nbgrader.points,) * 2


@pytest.mark.slow
@pytest.mark.nbgrader
@needs_nbgrader
@pytest.mark.parametrize("assignment", list(assignments.ASSIGNMENTS))
def test_the_release_runs_with_the_stubs_up_to_the_first_not_implemented_error(
    tmp_path, assignment
):
    from nbclient.exceptions import CellExecutionError

    course, exchange = make_course(tmp_path / "course"), tmp_path / "exchange"
    nbgrader("generate_assignment", assignment, "--force", cwd=course, exchange=exchange)
    released = course / "release" / assignment / f"{assignment}.ipynb"
    assert "BEGIN HIDDEN TESTS" not in released.read_text()
    with pytest.raises(CellExecutionError) as error:
        execute(released, allow_errors=False)
    assert error.value.ename == "NotImplementedYet"
    assert "is not implemented yet" in error.value.evalue
    first_check = next(
        cell
        for cell in json.loads(released.read_text())["cells"]
        if cell["metadata"].get("practicum", {}).get("role") == "check"
    )
    public_call = next(
        line
        for line in "".join(first_check["source"]).splitlines()
        if line.startswith("check(globals()")
    )
    assert public_call in str(error.value)  # it stopped at the first check cell


def test_the_sandboxed_path_takes_locked_cells_from_the_source_and_keeps_student_cells():
    from practicum.grader.grading.nbgrader_submissions import task_modules

    source = load("assignment3")
    submitted = json.loads(json.dumps(source))
    cells = submitted["cells"]
    provided = next(
        cell
        for cell in cells
        if cell["metadata"]["practicum"].get("task") == "conv"
        and cell["metadata"]["practicum"]["role"] == "provided"
    )
    provided["source"] = "PADDINGS = ('cheat',)"  # a locked cell, edited anyway
    position = cells.index(provided) + 1
    cells.insert(
        position,
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "source": "%timeit 1\nHELPER = 42",
            "execution_count": None,
        },
    )
    modules = task_modules(source, submitted)
    assert "PADDINGS = ('cheat',)" not in modules["conv"]
    assert 'PADDINGS = ("same", "valid")' in modules["conv"]
    assert repr("# (magic removed) %timeit 1\nHELPER = 42") in modules["conv"]
    assert "HELPER = 42" in modules["style_losses"]  # the kernel still has it there
    assert "check(globals()" not in modules["style_losses"]
    assert modules["conv"].index("HELPER") < modules["conv"].index("def build_conv_stack")


def test_nbgrader_autograde_refuses_a_folder_that_is_not_a_course(tmp_path, capsys):
    from practicum.grader.cli import main

    assert main(["nbgrader-autograde", str(tmp_path / "missing"), "assignment3"]) == 1
    assert "is not a directory" in capsys.readouterr().err
    assert main(["nbgrader-autograde", str(tmp_path), "assignment3", "--sandbox", "process"]) == 1
    assert "has no gradebook.db: run `nbgrader generate_assignment" in capsys.readouterr().err
    assert not (tmp_path / "gradebook.db").exists()
