"""The CIFAR-10 challenge, graded: the reference earns full marks and a leaderboard entry, the
stub and the untouched preset score less, and broken attempts fail alone with a clear message.

Attempts run on the embedded sample with its budget (``grading.toml``), in the sandbox
(bubblewrap where it works, else the process mode), each in a fresh worker after the
machine's calibration, as ``grader grade`` runs them. The attempts are whole modules: the
released stub with the functions of ``tests/fixtures/cifar_challenge/attempts/<name>.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import practicum
from practicum.challenge import GRACE_SECONDS, Budget, run
from practicum.grader.export import leaderboard, reports
from practicum.grader.grading import grade_all, scoring
from practicum.grader.grading.results import StudentResult, TaskResult, TestScore
from practicum.grader.running.challenge import (
    ChallengeSettings,
    credit,
    mirrored_half,
    run_attempt,
)
from practicum.grader.running.proxy import (
    Candidate,
    CandidateError,
    InProcessBackend,
    MissingImplementation,
)
from practicum.grader.sandbox import SandboxBackend
from tests.support.submissions import FIXTURES, on_top_of_the_stub

ROOT = practicum.REPO_ROOT
CONFIG = scoring.load_config(ROOT / "grading.toml")
SETTINGS = ChallengeSettings.from_table(CONFIG.tasks["cifar_challenge"])
POINTS = CONFIG.task_points("cifar_challenge")
ATTEMPTS = FIXTURES / "cifar_challenge" / "attempts"


def attempt_folder(tmp: Path, name: str) -> Path:
    """The attempt's module; one with a ``# base: <attempt>`` line goes on top of that one."""
    folder = tmp / name
    folder.mkdir()
    source = (ATTEMPTS / f"{name}.py").read_text()
    base = re.search(r"^# base: (.+)$", source, re.M)
    parts = [(ATTEMPTS / f"{base.group(1).strip()}.py").read_text()] if base else []
    module = on_top_of_the_stub("cifar_challenge", *parts, source)
    (folder / "cifar_challenge.py").write_text(module)
    return folder


@pytest.fixture(scope="module")
def sample():
    from practicum.datasets import load_cifar10

    train, test = load_cifar10(source="sample", progress=False)
    return train, test


def attempt(folder: Path, sample):
    train, test = sample
    with SandboxBackend(folder, mode="auto", quiet=True) as backend:
        candidate = Candidate(backend, label=folder.name)
        return run_attempt(candidate, train, test, SETTINGS.budgets[0], SETTINGS, "sample")


# --------------------------------------------------------------------------- the rules


def test_credit_is_linear_between_the_thresholds():
    assert [credit(a, 0.4, 0.5) for a in (0.1, 0.4, 0.45, 0.5, 0.9)] == [0, 0, 0.5, 1, 1]


def test_half_the_test_images_are_mirrored_and_none_is_changed_otherwise():
    images = np.random.default_rng(0).integers(0, 256, (200, 4, 4, 3), dtype=np.uint8)
    out = mirrored_half(images, np.random.default_rng(1))
    same = np.all(out == images, axis=(1, 2, 3))
    flipped = np.all(out == images[:, :, ::-1, :], axis=(1, 2, 3))
    assert np.all(same | flipped) and 60 < flipped.sum() < 140


def test_the_student_release_without_grading_toml_uses_the_same_budget_and_thresholds():
    """The student release has no grading.toml: the defaults must be the course's."""
    assert ChallengeSettings() == SETTINGS


def test_a_malformed_budget_table_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown key"):
        ChallengeSettings.from_table({"budget": [{"seconds": 60, "full": 0.6}]})


def tiny_model(input_shape, num_classes, budget_seconds):
    import keras

    return keras.Sequential(
        [keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(num_classes)]
    )


def tiny_predict(model, x_test):
    return np.zeros((len(x_test), 10), np.float32)


def train_then_clean_up(model, x_train, y_train, budget):
    while not budget.expired():
        time.sleep(0.01)
    time.sleep(30)  # a clean-up after the last step


def train_and_ignore_the_budget(model, x_train, y_train, budget):
    time.sleep(30)


def train_and_stop_in_time(model, x_train, y_train, budget):
    while not budget.expired():
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("train", "stopped", "late"),
    [
        (train_then_clean_up, False, True),
        (train_and_ignore_the_budget, True, False),
        (train_and_stop_in_time, False, False),
    ],
)
def test_the_driver_waits_a_grace_and_stops_only_a_train_that_never_saw_its_budget_end(
    train, stopped, late
):
    x = np.zeros((4, 32, 32, 3), np.uint8)
    began = time.perf_counter()
    result = run(tiny_model, train, tiny_predict, x, np.zeros(4), x, 0.3, grace_seconds=0.5)
    assert (result["stopped"], result["late"]) == (stopped, late)
    assert time.perf_counter() - began < 10  # neither kind of overrun is waited out


def test_a_budget_remembers_that_it_was_seen_expired():
    budget = Budget(0.05)
    assert not budget.expired() and not budget.seen_expired
    time.sleep(0.06)
    assert budget.expired() and budget.seen_expired


# --------------------------------------------------------------------------- graded


def test_the_reference_earns_every_point_and_a_leaderboard_entry_the_stub_none(tmp_path):
    """Both graded by ``grade-all`` in the sandbox, as an instructor grades a class."""
    submissions = tmp_path / "submissions"
    for name, source in (("reference", "solutions"), ("stub", "exercises")):
        (submissions / name).mkdir(parents=True)
        shutil.copy(ROOT / source / "cifar_challenge.py", submissions / name)
    run = grade_all.grade_all(
        submissions, tmp_path / "out", tasks=["cifar_challenge"], jobs=1, progress=lambda _: None
    )
    graded = {
        name: scoring.StudentResult.from_json(
            json.loads((tmp_path / "out" / name / "grade.json").read_text())
        )
        for name in ("reference", "stub")
    }
    task = graded["reference"].tasks[0]
    assert task.score == pytest.approx(POINTS), [(t.name, t.score, t.message) for t in task.tests]
    results = reports.gradescope_results(graded["reference"], CONFIG)
    board = {column["name"]: column for column in results["leaderboard"]}
    assert 0.40 < board["Accuracy (%)"]["value"] / 100 <= 1 and board["Seconds"]["order"] == "asc"
    assert board["Parameters"]["value"] > 10_000
    scored = [test for test in task.tests if test.max_score]
    assert "machine factor" in scored[0].message, scored[0].message
    json.dumps(results)  # results.json is valid JSON
    assert graded["stub"].tasks[0].score == 0
    assert "not implemented yet" in graded["stub"].tasks[0].tests[0].message
    # the class leaderboard lists the one attempt that ran
    assert run.leaderboard is not None and "reference" in run.leaderboard.read_text()
    assert "stub" not in run.leaderboard.read_text()


def test_the_untouched_preset_scores_below_full_marks(tmp_path, sample):
    result = attempt(attempt_folder(tmp_path, "preset"), sample)
    assert result.credit < 1, result.summary()
    assert 0.2 < result.accuracy < SETTINGS.budgets[0].sample_full_at, result.summary()


def test_an_attempt_in_another_idiom_is_graded_on_its_accuracy(tmp_path, sample):
    """Keras's fit on a tf.data pipeline, classes instead of logits: accepted as it is."""
    result = attempt(attempt_folder(tmp_path, "keras_fit"), sample)
    assert result.accuracy > 0.35, result.summary()  # chance is 0.10
    budget = SETTINGS.budgets[0]
    assert result.credit == credit(result.accuracy, budget.sample_zero_at, budget.sample_full_at)


class SlowingDown(InProcessBackend):
    """A machine measured at 1.6 s per calibration before the attempt, 3.2 s after it."""

    def __init__(self, directory):
        super().__init__(directory)
        self.measurements = iter([1.6, 3.2])

    def calibrate(self) -> float:
        return next(self.measurements)


def test_an_attempt_on_a_machine_that_slowed_down_runs_again_with_the_slower_budget(
    tmp_path, sample
):
    train, test = sample
    candidate = Candidate(SlowingDown(attempt_folder(tmp_path, "preset")), "preset")
    result = run_attempt(candidate, train, test, SETTINGS.budgets[0], SETTINGS, "sample")
    assert "the machine slowed down during the attempt" in result.summary(), result.summary()
    assert "1.60 s before, 3.20 s after" in result.summary()
    assert result.credit < 1


# --------------------------------------------------------------------------- broken attempts


def test_a_model_with_the_wrong_number_of_outputs_is_named(tmp_path, sample):
    with pytest.raises(Exception, match=r"output shape \(None, 7\), expected \(None, 10\)"):
        attempt(attempt_folder(tmp_path, "wrong_output_shape"), sample)


def test_a_train_that_never_returns_is_left_behind_for_no_points(tmp_path, sample):
    result = attempt(attempt_folder(tmp_path, "never_returns"), sample)
    assert result.stopped and result.credit == 0
    assert "budget.expired()" in result.summary()


def test_a_train_that_saw_its_budget_end_but_returns_late_is_not_waited_for_nor_penalised(
    tmp_path, sample
):
    result = attempt(attempt_folder(tmp_path, "slow_to_finish"), sample)
    assert not result.stopped, result.summary()
    budget = SETTINGS.budgets[0]
    assert result.credit == credit(result.accuracy, budget.sample_zero_at, budget.sample_full_at)
    assert "saw its budget expire" in result.summary()
    assert result.wall_seconds < result.budget_seconds + GRACE_SECONDS + 15  # not 60 s more


def test_nan_losses_are_named(tmp_path, sample):
    with pytest.raises(Exception, match="NaN or infinite logits: did the training diverge"):
        attempt(attempt_folder(tmp_path, "nan_losses"), sample)


def test_a_forged_result_is_checked_in_the_grader(tmp_path, sample):
    """run_challenge is the submission's code: what it returns is checked, never trusted."""
    train, test = sample
    candidate = Candidate(InProcessBackend(attempt_folder(tmp_path, "forged_result")), "forged")
    with pytest.raises(CandidateError, match=r"predictions of shape \(3,\).*expected \(500,\)"):
        run_attempt(candidate, train, test, SETTINGS.budgets[0], SETTINGS, "sample")


def test_a_model_too_large_for_the_memory_limit_fails_alone(tmp_path, sample):
    with pytest.raises((Exception, MissingImplementation)) as failure:
        attempt(attempt_folder(tmp_path, "too_large"), sample)
    assert any(word in str(failure.value).lower() for word in ("memory", "oom", "alloc")), str(
        failure.value
    )


# --------------------------------------------------------------------------- leaderboard


def student(name: str, accuracy: float | None, seconds: float = 60.0, parameters: int = 1000):
    board = (
        {}
        if accuracy is None
        else {
            "accuracy": accuracy,
            "seconds": seconds,
            "parameters": parameters,
        }
    )
    test = TestScore(
        nodeid="n",
        name="challenge",
        task="cifar_challenge",
        visibility="public",
        outcome="passed",
        message="",
        score=5.0,
        max_score=10.0,
        leaderboard=board,
    )
    return StudentResult(student=name, tasks=[TaskResult("cifar_challenge", 5.0, 10.0, [test])])


def test_the_class_leaderboard_ranks_by_accuracy_then_seconds_and_escapes_names(tmp_path):
    results = [
        student("slow", 70.0, seconds=61),
        student("<script>alert(1)</script>", 72.5),
        student("fast", 70.0, seconds=58),
        student("no_attempt", None),
    ]
    assert [row.student for row in leaderboard.leaderboard_rows(results)] == [
        "<script>alert(1)</script>",
        "fast",
        "slow",
    ]
    page, png = leaderboard.write_leaderboard(tmp_path, results)
    text = page.read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text and "no_attempt" not in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert leaderboard.write_leaderboard(tmp_path / "none", [student("a", None)]) is None
    assert not (tmp_path / "none").exists()
