"""Hidden tests for ``training.py``: the candidate against the reference solutions.

``batch_indices`` must give exactly the reference's batches (the docstring fixes the random
generator and the order of its calls); a wrong answer is compared with what the usual
mistakes give (``tests/support/mistakes/training.py``: one permutation for all epochs, the
last partial batch dropped, sampling with replacement, no shuffling, the global random
state) so the feedback can name it. ``train_step`` is graded
through ``run_steps`` with every optimizer, on more and larger batches than the public tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close
from tests.support.mistakes import training as mistakes
from tests.support.training_strategies import (
    batch_settings,
    sgd_reference,
    step_problems,
)

pytestmark = [pytest.mark.hidden, pytest.mark.task("training")]


@pytest.fixture(scope="module")
def training(candidate):
    return candidate.module("training")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("training")


def expect_batches(training, actual, expected, settings) -> None:
    """Exactly the reference's batches, or a failure naming the mistake."""
    num_examples, batch_size, num_batches, seed = settings
    what = f"batch_indices({num_examples}, {batch_size}, {num_batches}, seed={seed})"
    if actual.shape == expected.shape and np.array_equal(actual, expected):
        return
    again = np.asarray(training.batch_indices(*settings))
    if again.shape == actual.shape and not np.array_equal(again, actual):
        raise AssertionError(
            f"{what} called twice gave different batches\n  Likely mistake: {mistakes.GLOBAL_STATE}"
        )
    expect_close(
        actual, expected, what=what, atol=0.0, rtol=0.0, mistakes=mistakes.batch_variants(*settings)
    )


@given(settings=batch_settings(max_examples=20, max_batches=12))
def test_batch_indices_matches_the_reference(training, ref, settings):
    expected = np.asarray(ref.batch_indices(*settings))
    actual = np.asarray(training.batch_indices(*settings))
    expect_batches(training, actual, expected, settings)


@given(settings=batch_settings(min_examples=30, max_examples=200, max_batches=40, min_epochs=1.5))
def test_batch_indices_on_larger_data_sets(training, ref, settings):
    expected = np.asarray(ref.batch_indices(*settings))
    actual = np.asarray(training.batch_indices(*settings))
    expect_batches(training, actual, expected, settings)


def test_batch_indices_returns_integers(training):
    indices = np.asarray(training.batch_indices(7, 3, 5, seed=1))
    assert indices.dtype.kind in "iu", f"batch_indices has dtype {indices.dtype}"


@given(
    problem=step_problems(max_steps=6, max_batch=10),
    optimizer=st.sampled_from(["sgd", "momentum", "nesterov", "adam", "rmsprop"]),
)
def test_train_step_matches_the_reference_with_every_optimizer(training, ref, problem, optimizer):
    kwargs = problem.kwargs(optimizer)
    expected = ref.run_steps(problem.x, problem.y, **kwargs)
    actual = training.run_steps(problem.x, problem.y, **kwargs)
    weights = ref.small_model_weights(
        problem.x.shape[2:], problem.num_classes, problem.hidden, problem.seed
    )
    what = (
        f"train_step on {len(problem.x)} batches of {problem.x.shape[1]} "
        f"({optimizer}, learning rate {problem.rate(optimizer)})"
    )
    if optimizer != "sgd":  # the mistakes are simulated with SGD: name them by the first loss
        named = mistakes.first_loss_mistake(actual, weights, problem)
        if named:
            raise AssertionError(
                f"the first loss recorded by {what} is {float(actual['losses'][0]):.6g}, "
                f"expected {float(expected['losses'][0]):.6g}\nLikely mistake: {named}"
            )
    expect_close(
        actual["losses"],
        expected["losses"],
        what=f"the losses recorded by {what}",
        rtol=1e-3,
        atol=1e-4,
        mistakes=mistakes.step_variants(weights, problem) if optimizer == "sgd" else [],
    )
    initial = [np.asarray(w, dtype=np.float64) for w in weights]
    for index, (a, b) in enumerate(zip(actual["weights"], expected["weights"])):
        if len(problem.x) and np.allclose(a, initial[index]) and not np.allclose(b, initial[index]):
            raise AssertionError(
                f"weight {index} did not change in {what}\n  Likely mistake: {mistakes.NO_UPDATE}"
            )
        expect_close(
            a,
            b,
            what=f"weight {index} after {what}",
            rtol=1e-3,
            atol=1e-4,
            mistakes=[
                Mistake(
                    mistakes.ASCENT,
                    lambda i=index: sgd_reference(
                        initial, problem.x, problem.y, problem.learning_rate, "ascent"
                    )["weights"][i],
                )
            ]
            if optimizer == "sgd"
            else [],
        )
