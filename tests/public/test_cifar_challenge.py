"""Public tests for ``cifar_challenge.py``: the CIFAR-10 challenge (A3 3.6 question 5).

The challenge is graded by these tests too: the points come from the test accuracy the
attempt reaches within a budget calibrated to the machine (``grader/running/challenge.py``;
thresholds and budgets in ``grading.toml``). Offline they train on the embedded sample
(2000 training images, 500 test images, a shorter budget); with the full data present
(``PRACTICUM_DATA_DIR`` or the Keras cache) on the full data.

    pytest tests/public/test_cifar_challenge.py     # your accuracy and the budget, printed
"""

from __future__ import annotations

import numpy as np
import pytest

from practicum.grader.running.challenge import ChallengeSettings, run_attempt

pytestmark = [pytest.mark.public, pytest.mark.task("cifar_challenge")]


@pytest.fixture(scope="module")
def cifar():
    """``(source, (x_train, y_train), (x_test, y_test))``: uint8 images, int labels."""
    from practicum.datasets import last_source, load_cifar10

    train, test = load_cifar10(progress=False)
    return last_source("cifar10"), train, test


@pytest.fixture(scope="module")
def settings(grading_config) -> ChallengeSettings:
    return ChallengeSettings.from_table(grading_config.tasks.get("cifar_challenge", {}))


def pytest_generate_tests(metafunc):
    if "budget" in metafunc.fixturenames:
        from practicum.grader.running.pytest_plugin import grading_config_of

        table = grading_config_of(metafunc.config).tasks.get("cifar_challenge", {})
        budgets = ChallengeSettings.from_table(table).budgets
        metafunc.parametrize("budget", budgets, ids=[budget.name for budget in budgets])


def test_a_short_attempt_classifies_every_test_image(candidate, cifar):
    """The contract, on 256 training images and a 3 s budget: one class per test image."""
    _, (x_train, y_train), (x_test, _) = cifar
    result = candidate.call_within(
        120, "cifar_challenge", "run_challenge", x_train[:256], y_train[:256], x_test[:50], 3.0
    )
    predictions = np.asarray(result["predictions"])
    assert predictions.shape == (50,), (
        f"run_challenge returned predictions of shape {predictions.shape}, expected (50,)"
    )
    assert not result["stopped"], (
        "train was still running 5 s after its 3 s budget: check budget.expired() in your "
        "loop, or pass budget.callback() to model.fit"
    )


@pytest.mark.value_test
def test_the_attempt_reaches_the_target_accuracy_within_the_calibrated_budget(
    candidate, cifar, settings, budget, record_property
):
    source, train, test = cifar
    attempt = run_attempt(candidate, train, test, budget, settings, source)
    record_property("credit", attempt.credit)
    record_property("note", attempt.summary())
    record_property("leaderboard", attempt.leaderboard())
    print(attempt.summary())
    assert attempt.credit > 0, attempt.summary()
