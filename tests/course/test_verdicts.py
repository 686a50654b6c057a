"""The cross-version verdict comparison (tests/support/verdicts.py, run by tox) finds every
difference, and the grading tests store their verdicts where tox looks for them."""

from __future__ import annotations

import json

from tests.support import verdicts

REFERENCE = [{"nodeid": "t::a", "outcome": "passed"}, {"nodeid": "t::b", "outcome": "passed"}]
KNOWN = {
    "exercises": {"t::a": "failed", "t::b": "failed"},
    "style_losses--content_mean": {"t::a": "passed", "t::b": "failed"},
}
ADVERSARIAL = {"always_equal": {"t::a": "failed", "t::b": "failed"}}


def environment_folder(path, known=KNOWN, adversarial=ADVERSARIAL, reference=REFERENCE):
    path.mkdir()
    (path / "reference.json").write_text(json.dumps(reference))
    for part, data in (("known_implementations", known), ("adversarial", adversarial)):
        (path / f"{part}.json").write_text(
            json.dumps({"environment": {"tensorflow": "2.15.1"}, "verdicts": data})
        )
    return path


def test_identical_verdicts_compare_equal(tmp_path, capsys):
    folders = [environment_folder(tmp_path / name) for name in ("tf-latest", "tf215")]
    assert verdicts.compare(folders) == 0
    out = capsys.readouterr().out
    assert "tf215: 8 verdicts of 4 submissions (tensorflow 2.15.1)" in out
    assert "identical in 2 environments" in out


def test_a_changed_outcome_is_reported_with_every_environment(tmp_path, capsys):
    changed = {**KNOWN, "style_losses--content_mean": {"t::a": "failed", "t::b": "failed"}}
    folders = [
        environment_folder(tmp_path / "tf-latest"),
        environment_folder(tmp_path / "tf216"),
        environment_folder(tmp_path / "tf215", known=changed),
    ]
    assert verdicts.compare(folders) == 1
    out = capsys.readouterr().out
    assert (
        "DIFFERENT known_implementations/style_losses--content_mean: t::a: "
        "tf-latest: passed, tf216: passed, tf215: failed"
    ) in out
    assert out.count("DIFFERENT") == 1


def test_a_test_that_ran_in_one_environment_only_is_a_difference(tmp_path, capsys):
    more = {"always_equal": {**ADVERSARIAL["always_equal"], "t::c": "failed"}}
    folders = [
        environment_folder(tmp_path / "tf216"),
        environment_folder(tmp_path / "tf215", adversarial=more),
    ]
    assert verdicts.compare(folders) == 1
    assert (
        "DIFFERENT adversarial/always_equal: t::c: tf216: missing, tf215: failed"
        in capsys.readouterr().out
    )


def test_a_missing_part_or_environment_fails_the_comparison(tmp_path, capsys):
    complete = environment_folder(tmp_path / "tf-latest")
    partial = environment_folder(tmp_path / "tf215")
    (partial / "adversarial.json").unlink()
    assert verdicts.compare([complete, partial]) == 1
    assert "adversarial.json is missing" in capsys.readouterr().err
    assert verdicts.compare([complete]) == 1


def test_a_subset_run_is_compared_on_the_parts_it_ran_and_names_the_rest(tmp_path, capsys):
    complete = environment_folder(tmp_path / "tf-latest")
    subset = environment_folder(tmp_path / "tf216")
    (subset / "adversarial.json").unlink()
    assert verdicts.compare([complete, subset], frozenset({"tf216"})) == 0
    out = capsys.readouterr().out
    assert "tf216: ran a subset, without adversarial" in out
    assert "identical in 2 environments" in out


def test_a_subset_run_still_fails_on_a_difference_in_the_parts_it_ran(tmp_path, capsys):
    changed = {**KNOWN, "style_losses--content_mean": {"t::a": "failed", "t::b": "failed"}}
    complete = environment_folder(tmp_path / "tf-latest")
    subset = environment_folder(tmp_path / "tf216", known=changed)
    (subset / "adversarial.json").unlink()
    assert verdicts.compare([complete, subset], frozenset({"tf216"})) == 1
    assert (
        "DIFFERENT known_implementations/style_losses--content_mean: t::a: "
        "tf-latest: passed, tf216: failed"
    ) in capsys.readouterr().out


def test_a_subset_run_without_the_reference_or_a_submission_of_its_part_fails(tmp_path, capsys):
    complete = environment_folder(tmp_path / "tf-latest")
    fewer = {"exercises": KNOWN["exercises"]}
    subset = environment_folder(tmp_path / "tf216", known=fewer)
    (subset / "adversarial.json").unlink()
    assert verdicts.compare([complete, subset], frozenset({"tf216"})) == 1
    out = capsys.readouterr().out
    assert "known_implementations/style_losses--content_mean: t::a: " in out
    assert "tf216: missing" in out
    (subset / "reference.json").unlink()
    assert verdicts.compare([complete, subset], frozenset({"tf216"})) == 1
    assert "reference.json is missing" in capsys.readouterr().err


def test_only_a_compared_folder_can_be_a_subset(tmp_path, capsys):
    folders = [environment_folder(tmp_path / name) for name in ("tf-latest", "tf215")]
    assert verdicts.compare(folders, frozenset({"tf216"})) == 1
    assert "--subset names no folder compared" in capsys.readouterr().err
    assert verdicts.main(["compare", *map(str, folders), "--subset", str(folders[1])]) == 0


def test_a_failing_reference_or_a_passing_stub_fails_even_when_all_agree(tmp_path, capsys):
    wrong_reference = [{**REFERENCE[0], "outcome": "failed"}, REFERENCE[1]]
    folders = [
        environment_folder(tmp_path / name, reference=wrong_reference)
        for name in ("tf216", "tf215")
    ]
    assert verdicts.compare(folders) == 1
    assert "reference: t::a failed" in capsys.readouterr().err
    passing_stub = {**KNOWN, "exercises": {"t::a": "passed", "t::b": "failed"}}
    assert verdicts.problems_with(
        {f"known_implementations/{label}": rows for label, rows in passing_stub.items()}
    ) == ["stubs: t::a passed"]


def test_record_writes_only_when_asked(tmp_path, monkeypatch):
    rows = {"sub": [{"nodeid": "t::a", "outcome": "passed", "message": "long text"}]}
    monkeypatch.delenv(verdicts.ENV_VAR, raising=False)
    assert verdicts.record("adversarial", rows) is None
    monkeypatch.setenv(verdicts.ENV_VAR, str(tmp_path / "env"))
    path = verdicts.record("adversarial", rows)
    data = json.loads(path.read_text())
    assert data["verdicts"] == {"sub": {"t::a": "passed"}}
    assert data["environment"]["tensorflow"]
