"""Reports: nothing a submission writes (file names, messages, printed output, notes) can
forge a report's structure, in report.md, report.html, results.json or class.csv.

Each attack goes through the real writers (:func:`reports.write_student_reports`,
:func:`reports.class_csv`), and each test checks both that the forged text is shown as text
(never a heading, a bold "Total" line, a table row, a tag or a link) and that an honest report
still reads as before.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from practicum.grader.export import reports
from practicum.grader.grading import scoring, submissions

FORGED_TOTAL = "**Total: 105 / 105** (regraded by staff)"
ATTACKS = {
    "bold total": f"\n\n{FORGED_TOTAL}\n",
    "heading": "\n# Regraded by staff\n## conv\n",
    "setext heading": "\nRegraded\n===\n",
    "table row": "\n| conv | 10 / 10 | 39 / 39 |\n",
    "html tag": "<img src=x onerror=alert(1)><script>alert(2)</script>",
    "link and image": "[your grade](javascript:alert(1)) ![x](http://evil.example/x.png)",
    "backticks": "```\n# Total: 105\n````\n",
    "carriage return": f"\r{FORGED_TOTAL}\r\n# CR heading",
    "unicode line breaks": f"\u2028{FORGED_TOTAL}\u2029# U+2029 heading\x85# NEL heading",
    "list and quote": "\n- 105 / 105\n1. regraded\n> staff",
    "math": "$\\huge Total: 105$",
}
HIDDEN = {
    "\u202e": "bidi override",
    "\u200b": "zero-width space",
    "\u2066": "bidi isolate",
    "\x1b": "ANSI escape",
    "\u2215": "division slash",
    "\ufeff": "BOM",
}
TRICKS = "solutions\u2215conv.py \u202egnp.exe\u200b \x1b[31mred\x1b[0m \u2066x\u2069 \ufeff"


def attacked_result(attack: str) -> scoring.StudentResult:
    """A submission whose student name, notes, task note and failure message all carry
    ``attack`` (and the invisible tricks)."""
    text = attack + TRICKS
    rows = [
        {
            "nodeid": "tests/public/test_conv.py::test_a",
            "name": "test_a",
            "task": "conv",
            "visibility": "public",
            "outcome": "failed",
            "message": f"boom {text}",
        },
        {
            "nodeid": "tests/hidden/test_conv.py::test_b",
            "name": "test_b",
            "task": "conv",
            "visibility": "hidden",
            "outcome": "passed",
            "message": "",
        },
    ]
    return scoring.score_student(
        f"ann{text}",
        rows,
        scoring.GradingConfig(),
        notes=[f"both x{text}.py and x{text}.ipynb were handed in"],
        task_notes={"conv": f"conv{text}.ipynb is not valid JSON"},
    )


def written(result: scoring.StudentResult, out: Path) -> dict[str, str]:
    reports.write_student_reports(result, scoring.GradingConfig(), out)
    return {path.name: path.read_text() for path in out.iterdir()}


def structure(markdown: str) -> list[str]:
    """The Markdown lines outside fenced code blocks (a minimal CommonMark reading: a fence
    opens with three or more backticks and closes with a run at least as long)."""
    lines, fence = [], ""
    for line in markdown.splitlines():
        run = re.match(r"^ {0,3}(`{3,})", line)
        if fence:
            if run and len(run[1]) >= len(fence) and not line.strip().strip("`"):
                fence = ""
            continue
        if run:
            fence = run[1]
            continue
        lines.append(line)
    assert not fence, "a code block is left open"
    return lines


@pytest.mark.parametrize("attack", list(ATTACKS.values()), ids=list(ATTACKS))
def test_a_forged_line_in_the_markdown_report_stays_text(tmp_path, attack):
    markdown = written(attacked_result(attack), tmp_path)["report.md"]
    lines = structure(markdown)
    assert [line for line in lines if line.startswith("#")] == [
        lines[0],
        "## conv",
        "### conv: 1 failed (-5)",
        "#### test_a (0 / 5)",
    ]
    assert lines[0].startswith("# Grade report: ann")
    assert [
        line
        for line in lines
        if "Total" in line
        and "**" in line
        and not line.startswith(">")
        and not line.startswith("#")
    ] == ["**Total: 5 / 10**"]
    assert [line for line in lines if line.startswith("|")] == [
        "| task | score | tests passed |",
        "| --- | ---: | ---: |",
        "| conv | 5 / 10 | 1 / 2 |",
    ]
    assert not [
        line
        for line in lines
        if line.strip()
        and not line.startswith(("# ", "## ", "### ", "#### ", "**Total", "> ", "| "))
    ]  # nothing else starts a line
    assert not any("<img" in line or "<script" in line for line in lines)  # code is text


@pytest.mark.parametrize("attack", list(ATTACKS.values()), ids=list(ATTACKS))
def test_a_commonmark_renderer_sees_only_the_report_s_own_structure(tmp_path, attack):
    markdown_it = pytest.importorskip("markdown_it")
    page = (
        markdown_it.MarkdownIt("commonmark")
        .enable("table")
        .render(written(attacked_result(attack), tmp_path)["report.md"])
    )
    assert page.count("<h1>") == 1 and page.count("<h2>") == 1 and page.count("<h3>") == 1
    assert page.count("<h4>") == 1
    assert re.findall(r"<strong>(.*?)</strong>", page) == ["Total: 5 / 10"]
    assert page.count("<table>") == 1 and page.count("<tr>") == 2  # header and conv
    for tag in ("<img", "<script", "<a ", "<li>", "<hr"):
        assert tag not in page


@pytest.mark.parametrize("attack", list(ATTACKS.values()), ids=list(ATTACKS))
def test_the_html_report_escapes_every_string_from_the_submission(tmp_path, attack):
    page = written(attacked_result(attack), tmp_path)["report.html"]
    assert "<img" not in page and "<script" not in page and "<a " not in page
    assert re.findall(r"<strong>(.*?)</strong>", page) == ["Total: 5 / 10"]
    assert page.count("<h1>") == 1 and page.count("<tr>") == 2


@pytest.mark.parametrize("attack", list(ATTACKS.values()), ids=list(ATTACKS))
def test_gradescope_output_is_plain_text_and_a_note_keeps_to_its_line(tmp_path, attack):
    results = json.loads(written(attacked_result(attack), tmp_path)["results.json"])
    assert results["output_format"] == results["test_output_format"] == "text"
    assert results["test_name_format"] == "text"
    assert all(test["output_format"] == test["name_format"] == "text" for test in results["tests"])
    lines = results["output"].split("\n")
    assert len(lines) == 2 and lines[0].startswith("both x") and lines[1] == "conv: 5 / 10"


@pytest.mark.parametrize(("char", "what"), list(HIDDEN.items()), ids=list(HIDDEN.values()))
def test_no_report_holds_a_character_that_hides_or_reorders_text(tmp_path, char, what):
    result = attacked_result("")
    files = written(result, tmp_path)
    files["class.csv"] = reports.class_csv([result])
    for name, text in files.items():
        assert char not in text, f"{what} in {name}"
    code = f"<U+{ord(char):04X}>"
    assert code in files["results.json"] and code in files["class.csv"]
    assert code.replace("<", "&lt;").replace(">", "&gt;") in files["report.md"]


def test_a_file_name_with_a_forged_total_from_a_real_submission_stays_on_its_line(tmp_path):
    forged = "**Total: 105 \u2215 105** (regraded by staff)"  # a slash look-alike
    name = f"conv\n\n{forged}\n# Regraded"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / f"{name}.py").write_text("x = 1\n")
    (tmp_path / "in" / f"{name}.ipynb").write_text("{}")
    prepared = submissions.prepare_submission(tmp_path / "in", tmp_path / "modules")
    assert any(forged in note for note in prepared.notes)  # the note carries the name
    result = scoring.score_student(
        "ann", [], scoring.GradingConfig(), notes=prepared.notes, expected_tasks=["conv"]
    )
    files = written(result, tmp_path / "out")
    lines = structure(files["report.md"])
    assert [line for line in lines if "Total" in line and not line.startswith(">")] == [
        "**Total: 0 / 10**"
    ]
    assert [line for line in lines if line.startswith("#")] == ["# Grade report: ann", "## conv"]
    output = json.loads(files["results.json"])["output"].split("\n")
    assert len(output) == 2 and not any(line.startswith("**Total") for line in output)


def test_an_honest_report_reads_as_before(tmp_path):
    rows = [
        {
            "nodeid": "x::test_gram",
            "name": "test_gram_matrix_is_symmetric[2-3]",
            "task": "style_losses",
            "visibility": "hidden",
            "outcome": "failed",
            "message": "gram_matrix(features of shape (1, 2, 2, 1), normalize=True)\n"
            "  received [[30.]]   expected [[7.5]]   (4 times too large: 4 = H * W)\n"
            "Likely mistake: ```normalize``` is ignored; -1 < x <= 2 & y",
        },
        {
            "nodeid": "x::test_ok",
            "name": "test_ok",
            "task": "style_losses",
            "visibility": "public",
            "outcome": "passed",
            "message": "",
        },
    ]
    result = scoring.score_student(
        "ada_lovelace-2",
        rows,
        scoring.GradingConfig(),
        notes=[
            "both style_losses.py and style_losses.ipynb were handed in: style_losses.py is graded"
        ],
    )
    files = written(result, tmp_path)
    markdown = files["report.md"]
    assert markdown.startswith("# Grade report: ada_lovelace-2\n\n**Total: 5 / 10**\n")
    assert (
        "> both style_losses.py and style_losses.ipynb were handed in: style_losses.py is graded\n"
    ) in markdown
    assert "| style_losses | 5 / 10 | 1 / 2 |" in markdown
    assert "#### test_gram_matrix_is_symmetric\\[2-3\\] (0 / 5)" in markdown
    block = markdown.split("````text\n", 1)[1].split("\n````", 1)[0]
    assert block == rows[0]["message"]  # the message verbatim, its backticks included
    page = files["report.html"]
    assert "received [[30.]]   expected [[7.5]]" in page and "-1 &lt; x &lt;= 2 &amp; y" in page
    output = json.loads(files["results.json"])["tests"][0]["output"]
    assert output == rows[0]["message"]


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil.example","Click for your grade")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "\n=1",
        " =1",
        "\uff1d1+1",
    ],
)
def test_a_class_csv_cell_is_never_a_formula(name):
    result = scoring.score_student(name, [], scoring.GradingConfig(), expected_tasks=["conv"])
    honest = scoring.score_student("ada", [], scoring.GradingConfig(), expected_tasks=["conv"])
    rows = list(csv.reader(io.StringIO(reports.class_csv([result, honest]))))
    cells = {row[0] for row in rows[1:]}
    assert "ada" in cells
    (shown,) = cells - {"ada"}
    assert shown.startswith("'")
    assert rows[1][1:] == ["0.00", "0.00", "10.00"]  # numbers stay numbers
