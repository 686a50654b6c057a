"""What a student's own ``pytest`` prints: short failures, the summary last.

A planted mistake's failure is at most about 15 lines (the call, received, expected, the
likely mistake, the failing example, where the test is), with no frames of the course's
helpers and no hypothesis explanation; the run ends with the per-task summary and the next
thing to do, not with a list of every failing test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import practicum

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MAX_FAILURE_LINES = 15


def student_run(impl: Path | str, *options: str) -> str:
    """``pytest tests/public --impl IMPL OPTIONS`` as a student types it; the output."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/public",
            "--impl",
            str(impl),
            "-p",
            "no:cacheprovider",
            *options,
        ],
        cwd=practicum.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode in (0, 1), completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


def failure_sections(output: str) -> dict[str, list[str]]:
    """``test name -> lines`` of each failure pytest printed."""
    body = output.split(" FAILURES ", 1)[1] if " FAILURES " in output else ""
    body = re.split(r"^=+ tasks =+$", body, flags=re.M)[0]
    sections: dict[str, list[str]] = {}
    name = None
    for line in body.splitlines()[1:]:
        header = re.fullmatch(r"_+ (\S.*?) _+", line)
        if header:
            name = header.group(1)
            sections[name] = []
        elif name:
            sections[name].append(line)
    return sections


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """A correct style_losses with one classic mistake: the Gram matrix not normalised."""
    folder = tmp_path_factory.mktemp("planted")
    base = (FIXTURES / "style_losses" / "independent_loops.py").read_text()
    wrong = (FIXTURES / "style_losses" / "wrong" / "unnormalised_gram.py").read_text()
    (folder / "style_losses.py").write_text(f"{base}\n\n{wrong}")
    return folder


@pytest.fixture(scope="module")
def planted_output(planted) -> str:
    return student_run(planted, "--task", "style_losses")


def test_a_planted_mistake_fails_in_a_few_lines_that_name_it(planted_output):
    output = planted_output
    sections = failure_sections(output)
    assert sections, output[-2000:]
    for name, lines in sections.items():
        text = "\n".join(lines)
        assert len(lines) <= MAX_FAILURE_LINES, f"{name} took {len(lines)} lines:\n{text}"
        assert "tests/support" not in text and "def expect_close" not in text, text
        assert "These lines were always and only run" not in text, text
        assert "ModuleHandle object" not in text, text
        assert "received" in text and "expected" in text, text
    assert any("Likely mistake" in "\n".join(lines) for lines in sections.values()), output


def test_the_run_ends_with_the_task_summary_and_what_to_fix_next(planted_output):
    output = planted_output
    tail = output.rstrip().splitlines()[-8:]
    assert any(line.startswith("[todo] style_losses") for line in tail), tail
    assert any(line.startswith("Next: fix style_losses") for line in tail), tail
    assert "short test summary info" not in output, "the FAILED list repeats the summary"


def test_the_stubs_print_one_line_per_failure_and_point_at_the_first_todo():
    output = student_run("exercises", "--task", "style_losses", "--task", "conv")
    sections = failure_sections(output)
    assert sections and all(len(lines) == 1 for lines in sections.values()), [
        lines for lines in sections.values() if len(lines) != 1
    ][:2]
    assert all("is not implemented yet" in lines[0] for lines in sections.values())
    tail = output.rstrip().splitlines()[-4:]
    assert any(
        line.startswith("Next TODO: conv_output_shape() in exercises/conv.py:") for line in tail
    ), tail


def test_asking_for_the_full_traceback_still_shows_it(planted):
    output = student_run(planted, "--task", "style_losses", "--tb=long")
    assert "def expect_close" in output or "tests/support/compare.py" in output


@pytest.mark.parametrize("readme", ["README.md", "grader/STUDENT_README.md"])
def test_the_readmes_quote_only_messages_the_tests_print(planted_output, readme):
    """The READMEs quote the feedback of this planted mistake: it must be printed as quoted."""
    text = " ".join((practicum.REPO_ROOT / readme).read_text().split())
    quoted = re.findall(r'says what is wrong \("([^"]+)"\)', text)
    assert quoted, f"{readme} quotes no feedback message"
    printed = " ".join(planted_output.split())
    assert all(quote in printed for quote in quoted), (quoted, planted_output[-1500:])
