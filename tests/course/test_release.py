"""The release: stubs generated from the solutions, and the student copy."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

import practicum
from practicum.grader.authoring import release

ROOT = practicum.REPO_ROOT


def test_exercises_are_up_to_date_with_the_solutions():
    stale = release.stale_exercises(ROOT / "solutions", ROOT / "exercises")
    assert not stale, f"run `grader release`: exercises/ is out of date for {stale}"


def public_functions(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    return {
        node.name: (ast.unparse(node.args), ast.get_docstring(node))
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


@pytest.mark.parametrize(
    "solution", release.solution_files(ROOT / "solutions"), ids=lambda path: path.name
)
def test_a_stub_keeps_signatures_and_docstrings_and_hides_every_answer(solution):
    stub = (ROOT / "exercises" / solution.name).read_text()
    assert release.BEGIN not in stub and release.END not in stub
    assert public_functions(ast.parse(stub)) == public_functions(ast.parse(solution.read_text()))
    lines = solution.read_text().splitlines()
    regions = release.find_regions(lines, str(solution))
    inside = {n for region in regions for n in range(region.begin, region.end + 1)}
    provided = {line for n, line in enumerate(lines) if n not in inside}
    for region in regions:
        assert (
            f'NotImplementedError("{solution.stem}.{region.function}: replace this line' in stub
        ), f"{region.function} has no NotImplementedError in the stub"
        answer = [
            line
            for line in lines[region.begin + 1 : region.end]
            if line.strip() and not line.strip().startswith(release.HINT)
        ]
        leaked = [
            line
            for line in answer
            if len(line.strip()) > 30 and line in stub.splitlines() and line not in provided
        ]
        assert not leaked, f"{region.function}'s answer leaked into the stub: {leaked}"


SOLUTION = '''"""A task."""


def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    # HINT: one line
    return 2 * x
    ### END SOLUTION
'''


def test_strip_solutions_replaces_the_region_and_keeps_hints():
    stub = release.strip_solutions(SOLUTION, "task")
    assert "return 2 * x" not in stub
    assert "    # HINT: one line\n" in stub
    assert 'raise NotImplementedError("task.double: replace this line with your code")' in stub
    namespace: dict = {}
    exec(compile(stub, "task.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="task.double"):
        namespace["double"](1)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (SOLUTION.replace("    ### END SOLUTION\n", ""), "is never closed"),
        (SOLUTION.replace("    ### BEGIN SOLUTION\n", ""), "without a ### BEGIN SOLUTION"),
        (SOLUTION.replace("    # HINT: one line\n", "    ### BEGIN SOLUTION\n"), "inside another"),
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "must be inside a function"),
    ],
)
def test_malformed_markers_are_reported_with_file_and_line(text, problem):
    with pytest.raises(release.ReleaseError, match=problem) as error:
        release.strip_solutions(text, "task", "solutions/task.py")
    assert "solutions/task.py:" in str(error.value)


def test_a_malformed_solution_leaves_the_exercises_untouched(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    (solutions / "good.py").write_text(SOLUTION)
    release.write_exercises(solutions, exercises)
    before = (exercises / "good.py").read_text()
    (solutions / "good.py").write_text(SOLUTION.replace("return 2 * x", "return 3 * x"))
    (solutions / "bad.py").write_text(SOLUTION.replace("    ### END SOLUTION\n", ""))
    with pytest.raises(release.ReleaseError):
        release.write_exercises(solutions, exercises)
    assert (exercises / "good.py").read_text() == before
    assert not (exercises / "bad.py").exists()
    assert release.stale_exercises(solutions.parent / "none", exercises) == []


def test_the_student_release_holds_no_solutions_and_no_hidden_tests(tmp_path):
    out = release.build_student_release(ROOT, tmp_path / "student")
    files = {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}
    assert "exercises/style_losses.py" in files
    assert "tests/public/test_style_losses.py" in files
    assert "README.md" in files
    assert not any(
        name.startswith(("solutions/", "tests/hidden/", "tests/fixtures/", "tests/course/"))
        for name in files
    )
    assert not any(
        "### BEGIN SOLUTION" in (out / name).read_text(errors="ignore")
        for name in files
        if name.startswith("exercises/")
    )


def test_a_public_test_file_that_mentions_the_hidden_marker_is_refused(tmp_path):
    root = tmp_path / "course"
    (root / "tests" / "public").mkdir(parents=True)
    (root / "tests" / "public" / "test_x.py").write_text("pytestmark = pytest.mark.hidden\n")
    with pytest.raises(release.ReleaseError, match="hidden"):
        release.build_student_release(root, tmp_path / "out")


@pytest.mark.slow
def test_students_run_pytest_in_their_release_and_see_what_to_do(tmp_path):
    out = release.build_student_release(ROOT, tmp_path / "student")
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--task", "style_losses"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = completed.stdout.strip().splitlines()[-1]
    assert " failed" in summary and "passed" not in summary and "error" not in summary, summary
    assert "style_losses.gram_matrix is not implemented yet" in completed.stdout
