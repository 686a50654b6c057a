"""Points, partial credit, reports, Gradescope's results.json, notebooks, `grader check`."""

from __future__ import annotations

import json

import pytest

import practicum
from practicum.grader.export import reports
from practicum.grader.grading import scoring, submissions
from practicum.grader.running.feedback import next_todo, task_summary

GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def row(name, outcome="passed", task="style_losses", visibility="hidden", message=""):
    return {
        "nodeid": f"tests/{visibility}/test_{task}.py::{name}",
        "name": name,
        "task": task,
        "visibility": visibility,
        "outcome": outcome,
        "message": message,
    }


def config(text: str, tmp_path) -> scoring.GradingConfig:
    path = tmp_path / "grading.toml"
    path.write_text(text)
    return scoring.load_config(path)


def validate_gradescope(results: dict) -> None:
    """The fields of Gradescope's results.json specification that we use."""
    assert isinstance(results["score"], float)
    assert results["visibility"] in GRADESCOPE_VISIBILITY
    assert results["stdout_visibility"] in GRADESCOPE_VISIBILITY
    assert isinstance(results["output"], str) and isinstance(results["execution_time"], int)
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert isinstance(test["name"], str) and test["status"] in ("passed", "failed")
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in GRADESCOPE_VISIBILITY
        assert isinstance(test["output"], str)
    late = results.get("extra_data", {}).get("late_penalty", 0.0)
    assert abs(results["score"] + late - sum(test["score"] for test in results["tests"])) < 1e-3
    json.dumps(results, allow_nan=False)


def test_the_repository_configuration_is_valid():
    loaded = scoring.load_config(practicum.REPO_ROOT / "grading.toml")
    assert loaded.task_points("style_losses") > 0
    assert loaded.hidden_visibility in GRADESCOPE_VISIBILITY


def test_a_task_s_points_are_shared_by_its_tests_for_partial_credit(tmp_path):
    loaded = config("[tasks.style_losses]\npoints = 8\n", tmp_path)
    rows = [row("a"), row("b", "failed"), row("c"), row("d", "failed")]
    result = scoring.score_student("ann", rows, loaded)
    (task,) = result.tasks
    assert (task.score, task.max_score) == (4.0, 8.0)
    assert [test.max_score for test in task.tests] == [2.0] * 4


def test_per_test_overrides_and_parametrised_groups(tmp_path):
    loaded = config(
        "[tasks.style_losses]\npoints = 10\n[tasks.style_losses.tests]\nspecial = 4\n", tmp_path
    )
    rows = [row("special[1]"), row("special[2]", "failed"), row("a"), row("b", "failed")]
    task = scoring.score_student("ann", rows, loaded).tasks[0]
    points = {test.name: (test.score, test.max_score) for test in task.tests}
    assert points == {
        "special[1]": (2.0, 2.0),
        "special[2]": (0.0, 2.0),
        "a": (3.0, 3.0),
        "b": (0.0, 3.0),
    }
    assert task.max_score == 10.0


def test_unlisted_tasks_get_the_default_and_missing_tasks_score_zero(tmp_path):
    loaded = config("default_points = 5\n", tmp_path)
    result = scoring.score_student(
        "ann",
        [row("a", task="conv")],
        loaded,
        expected_tasks=["conv", "metrics"],
        task_notes={"metrics": "metrics.ipynb is not valid JSON"},
    )
    by_task = {task.task: task for task in result.tasks}
    assert (by_task["conv"].score, by_task["conv"].max_score) == (5.0, 5.0)
    assert (by_task["metrics"].score, by_task["metrics"].max_score) == (0.0, 5.0)
    assert "not valid JSON" in by_task["metrics"].note
    assert (result.score, result.max_score) == (5.0, 10.0)


@pytest.mark.parametrize(
    "text",
    [
        "points = [",
        "[tasks]\nstyle_losses = 3\n",
        "[tasks.x]\npoints = -1\n",
        "[tasks.x]\npoints = 1\n[tasks.x.tests]\na = 2\n",
        "hidden_visibility = 'sometimes'\n",
        "sandbox = 45\n",
        "[sandbox]\ntime_budget = 0\n",
        "[sandbox]\ntime_budget = 'a minute'\n",
        "[sandbox]\ntime_budget = true\n",
    ],
)
def test_a_malformed_configuration_is_refused(tmp_path, text):
    with pytest.raises(ValueError, match="Received"):
        config(text, tmp_path)


def test_the_sandbox_time_budget_is_read_and_defaults_to_45_seconds(tmp_path):
    assert config("[sandbox]\ntime_budget = 90\n", tmp_path).time_budget == 90.0
    assert config("default_points = 10\n", tmp_path).time_budget == 45.0


def test_a_task_note_is_attached_to_its_failed_tests(tmp_path):
    result = scoring.score_student(
        "ann",
        [row("a", "failed", message="has no module")],
        scoring.GradingConfig(),
        task_notes={"style_losses": "notebook broken"},
    )
    assert result.tasks[0].tests[0].message.startswith("notebook broken")


HIDDEN_MESSAGE = (
    "off by a factor of H*W: did you forget to normalise?\n"
    "assert np.allclose(actual, expected)\n"
    " +  where False = <function allclose>(...)\n"
    "tests/hidden/test_style_losses.py:123: AssertionError\n"
    "Falsifying example: test_gram(features=array([[1.0]]))"
)


def sample_result() -> scoring.StudentResult:
    rows = [
        row("test_good"),
        row("test_good_too"),
        row("test_<gram>", "failed", message=HIDDEN_MESSAGE),
        row("test_public", "failed", visibility="public", message="returned None"),
        row("test_conv", task="conv", visibility="public"),
    ]
    return scoring.score_student(
        "student <b>", rows, scoring.GradingConfig(), notes=["both a.py and a.ipynb"], seconds=3.2
    )


def test_feedback_never_shows_the_hidden_test_source():
    test = sample_result().tasks[1].tests[2]
    shown = reports.student_message(test)
    assert "off by a factor of H*W" in shown and "Falsifying example" in shown
    assert "assert np.allclose" not in shown and "where False" not in shown
    assert "tests/hidden" not in shown


def test_markdown_and_html_reports(tmp_path):
    result = sample_result()
    markdown = reports.markdown(result)
    assert "**Total: 15 / 20**" in markdown and "| conv | 10 / 10 | 1 / 1 |" in markdown
    assert "off by a factor of H*W" in markdown and "assert np.allclose" not in markdown
    assert "both a.py and a.ipynb" in markdown
    page = reports.html_report(result)
    assert page.startswith("<!DOCTYPE html>") and "student &lt;b&gt;" in page
    assert "test_&lt;gram&gt;" in page and "<gram>" not in page
    reports.write_student_reports(result, scoring.GradingConfig(), tmp_path / "out")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "grade.json",
        "report.html",
        "report.md",
        "results.json",
    ]
    again = scoring.StudentResult.from_json(json.loads((tmp_path / "out/grade.json").read_text()))
    assert again.to_json() == result.to_json()


def test_class_csv_is_sorted_and_has_a_column_per_task():
    first, second = sample_result(), sample_result()
    second.student = "aaron"
    text = reports.class_csv([first, second])
    lines = text.splitlines()
    assert lines[0] == "student,conv,style_losses,total,max_score"
    assert lines[1].startswith("aaron,10.00,5.00,15.00,20.00")


def test_gradescope_results_follow_the_specification():
    loaded = scoring.GradingConfig(hidden_visibility="after_due_date")
    results = reports.gradescope_results(sample_result(), loaded)
    validate_gradescope(results)
    visibility = {test["name"]: test["visibility"] for test in results["tests"]}
    assert visibility["style_losses: test_public"] == "visible"
    assert visibility["style_losses: test_good"] == "after_due_date"
    failed = [test for test in results["tests"] if test["status"] == "failed"]
    assert all(test["output"] for test in failed)
    assert results["score"] == 15.0


def test_atomic_writes_leave_no_temporary_files(tmp_path):
    reports.atomic_write(tmp_path / "a" / "f.txt", "one")
    reports.atomic_write(tmp_path / "a" / "f.txt", "two")
    assert [path.name for path in (tmp_path / "a").iterdir()] == ["f.txt"]
    assert (tmp_path / "a" / "f.txt").read_text() == "two"


# --------------------------------------------------------------------------- notebooks


def notebook(*sources: str) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "markdown", "source": ["# title"]}]
            + [
                {"cell_type": "code", "source": source.splitlines(keepends=True), "outputs": []}
                for source in sources
            ],
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
        }
    )


def test_a_notebook_becomes_a_module_without_magics(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "style_losses.ipynb").write_text(
        notebook("%matplotlib inline\nimport math", "def f():\n    return math.pi\n!ls")
    )
    prepared = submissions.prepare_submission(tmp_path / "in", tmp_path / "out")
    source = (tmp_path / "out" / "style_losses.py").read_text()
    namespace: dict = {}
    exec(compile(source, "style_losses.py", "exec"), namespace)
    assert namespace["f"]() == pytest.approx(3.14159, abs=1e-4)
    assert not prepared.task_notes


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        ('{"cells": [', "is not valid JSON (line 1"),
        ('["not", "a", "notebook"]', "is not a Jupyter notebook"),
        ('{"cells": [{"cell_type": "code", "source": 3}]}', "not text"),
    ],
)
def test_an_unreadable_notebook_gives_its_task_a_note(tmp_path, content, phrase):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "conv.py").write_text("x = 1\n")
    (tmp_path / "in" / "style_losses.ipynb").write_text(content)
    prepared = submissions.prepare_submission(tmp_path / "in", tmp_path / "out")
    assert phrase in prepared.task_notes["style_losses"]
    assert "scores 0" in prepared.task_notes["style_losses"]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["conv.py"]


def test_a_module_wins_over_a_notebook_of_the_same_name(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "conv.py").write_text("x = 1\n")
    (tmp_path / "in" / "conv.ipynb").write_text(notebook("x = 2"))
    prepared = submissions.prepare_submission(tmp_path / "in", tmp_path / "out")
    assert (tmp_path / "out" / "conv.py").read_text() == "x = 1\n"
    assert any("conv.py is graded" in note for note in prepared.notes)


# --------------------------------------------------------------------------- grader check


def test_check_names_the_next_todo_with_file_and_line():
    path, line, function = next_todo(practicum.REPO_ROOT / "exercises", ["style_losses"])
    assert path.endswith("style_losses.py") and function == "gram_matrix"
    text = (practicum.REPO_ROOT / "exercises" / "style_losses.py").read_text().splitlines()
    assert "NotImplementedError" in text[line - 1]


def test_check_summary_counts_tasks_and_points_to_the_next_step(tmp_path):
    rows = [
        row("a", visibility="public"),
        row("b", "failed", visibility="public", message="gram_matrix is not implemented yet"),
        row("c", task="conv", visibility="public"),
    ]
    summary = "\n".join(task_summary(rows, practicum.REPO_ROOT / "exercises"))
    assert "[done] conv" in summary and "[todo] style_losses" in summary
    assert "1 of 2 task(s)" in summary and "Next TODO: gram_matrix()" in summary
    (tmp_path / "style_losses.py").write_text("def gram_matrix():\n    return 1\n")
    summary = "\n".join(task_summary(rows, tmp_path))
    assert "Next: fix style_losses: b: gram_matrix is not implemented yet" in summary
