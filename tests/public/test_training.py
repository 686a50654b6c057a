"""Public tests for ``training.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_training.py`` (or ``grader check training``).
They need no reference solution: ``batch_indices`` is checked against its definition
(shuffled epochs laid end to end, cut into equal batches), and ``train_step`` against the
same training written out in numpy (``tests/support/training_strategies.py``) on the small
fixed model of ``training.run_steps``. The classic mistakes are named from their symptoms
(``tests/support/mistakes/training.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from tests.support.compare import expect_close, expect_error
from tests.support.mistakes import training as mistakes
from tests.support.training_strategies import (
    batch_settings,
    sgd_reference,
    step_problems,
    stream_epochs,
)

pytestmark = [pytest.mark.public, pytest.mark.task("training")]


@pytest.fixture(scope="module")
def training(candidate):
    return candidate.module("training")


def as_index_array(value, what: str) -> np.ndarray:
    assert value is not None, f"{what} returned None: did you forget to `return`?"
    array = np.asarray(value)
    assert array.dtype.kind in "iu", f"{what} has dtype {array.dtype}, expected integers"
    return array


# --------------------------------------------------------------------------- batch_indices


def check_epochs(indices: np.ndarray, num_examples: int, batch_size: int, what: str) -> None:
    """Each consecutive run of N indices in the stream is one epoch: no repeats in it."""
    named = mistakes.epoch_mistake(indices, num_examples, batch_size)
    if named is None:
        return
    for number, epoch in enumerate(stream_epochs(indices, num_examples), start=1):
        counts = np.bincount(epoch, minlength=num_examples)
        if counts.max() > 1:
            raise AssertionError(
                f"{what}: epoch {number} (the flattened batches' indices "
                f"{(number - 1) * num_examples} to {(number - 1) * num_examples + len(epoch) - 1}"
                f") uses example {int(np.argmax(counts))} {counts.max()} times\n"
                f"  Likely mistake: {named}"
            )


@given(settings=batch_settings())
def test_batch_indices_has_one_row_of_batch_size_indices_per_batch(training, settings):
    num_examples, batch_size, num_batches, seed = settings
    what = f"batch_indices({num_examples}, {batch_size}, {num_batches}, seed={seed})"
    indices = as_index_array(
        training.batch_indices(num_examples, batch_size, num_batches, seed), what
    )
    assert indices.shape == (num_batches, batch_size), (
        f"{what} has shape {indices.shape}, expected (num_batches, batch_size) = "
        f"{(num_batches, batch_size)}: every batch has exactly batch_size examples (a "
        f"partial batch is completed with the next epoch's first examples)"
    )
    if indices.size:
        assert indices.min() >= 0 and indices.max() < num_examples, (
            f"{what} holds indices from {indices.min()} to {indices.max()}, expected "
            f"0 to {num_examples - 1}"
        )


@given(settings=batch_settings(min_epochs=1.0))
def test_batch_indices_uses_every_example_once_per_epoch(training, settings):
    num_examples, batch_size, num_batches, seed = settings
    what = f"batch_indices({num_examples}, {batch_size}, {num_batches}, seed={seed})"
    indices = as_index_array(
        training.batch_indices(num_examples, batch_size, num_batches, seed), what
    )
    assert indices.shape == (num_batches, batch_size), (
        f"{what} has shape {indices.shape}, expected {(num_batches, batch_size)}"
    )
    check_epochs(indices, num_examples, batch_size, what)


@given(settings=batch_settings(min_examples=6, min_epochs=2.0))
def test_batch_indices_shuffles_and_reshuffles_every_epoch(training, settings):
    num_examples, batch_size, num_batches, seed = settings
    what = f"batch_indices({num_examples}, {batch_size}, {num_batches}, seed={seed})"
    indices = as_index_array(
        training.batch_indices(num_examples, batch_size, num_batches, seed), what
    )
    check_epochs(indices, num_examples, batch_size, what)
    first, second = stream_epochs(indices, num_examples)[:2]
    assert not np.array_equal(first, np.arange(num_examples)), (
        f"{what}: the first epoch is 0, 1, ..., {num_examples - 1} in order\n"
        f"  Likely mistake: {mistakes.NOT_SHUFFLED}"
    )
    assert not np.array_equal(first, second), (
        f"{what}: the first two epochs are both {first.tolist()}\n"
        f"  Likely mistake: {mistakes.ONE_PERMUTATION}"
    )


@given(settings=batch_settings(min_examples=6, min_batches=2))
def test_batch_indices_depends_on_the_seed_only(training, settings):
    num_examples, batch_size, num_batches, seed = settings
    what = f"batch_indices({num_examples}, {batch_size}, {num_batches}, seed={seed})"
    once = as_index_array(training.batch_indices(num_examples, batch_size, num_batches, seed), what)
    again = as_index_array(
        training.batch_indices(num_examples, batch_size, num_batches, seed), what
    )
    assert np.array_equal(once, again), (
        f"{what} called twice gave {once[0].tolist()}... then {again[0].tolist()}...\n"
        f"  Likely mistake: {mistakes.GLOBAL_STATE}"
    )
    other = as_index_array(
        training.batch_indices(num_examples, batch_size, num_batches, seed + 1), what
    )
    assert not np.array_equal(once, other), (
        f"{what} gives the same batches for seed {seed} and seed {seed + 1}\n"
        f"  Likely mistake: {mistakes.SEED_IGNORED}"
    )


def test_batch_indices_example_from_the_docstring(training):
    indices = as_index_array(training.batch_indices(4, 4, 2, seed=0), "batch_indices(4, 4, 2)")
    assert indices.shape == (2, 4)
    assert sorted(indices[1].tolist()) == [0, 1, 2, 3]


def test_batch_indices_of_zero_batches_is_empty(training):
    indices = np.asarray(training.batch_indices(5, 2, 0, seed=0))
    assert indices.shape == (0, 2), f"batch_indices(5, 2, 0) has shape {indices.shape}"


@pytest.mark.parametrize(
    ("arguments", "because"),
    [
        ((5, 0, 3), "batch_size must be at least 1"),
        ((5, 6, 3), "batch_size must not exceed num_examples"),
        ((0, 1, 3), "there must be at least one example"),
        ((5, 2, -1), "num_batches must be 0 or more"),
    ],
)
def test_batch_indices_rejects_invalid_arguments(training, arguments, because):
    training.batch_indices(5, 2, 3, seed=0)
    expect_error(
        "ValueError",
        lambda: training.batch_indices(*arguments, seed=0),
        what=f"batch_indices{arguments}",
        because=because,
    )


# --------------------------------------------------------------------------- train_step


@pytest.mark.value_test
@given(problem=step_problems())
def test_train_step_does_plain_sgd_on_the_mean_cross_entropy(training, problem):
    kwargs = problem.kwargs("sgd")
    weights = training.small_model_weights(
        problem.x.shape[2:], problem.num_classes, problem.hidden, problem.seed
    )
    actual = training.run_steps(problem.x, problem.y, **kwargs)
    assert isinstance(actual, dict) and "losses" in actual, "run_steps returned no losses"
    expected = sgd_reference(weights, problem.x, problem.y, problem.learning_rate)
    what = (
        f"train_step on {len(problem.x)} batches of {problem.x.shape[1]} "
        f"(SGD, learning rate {problem.learning_rate})"
    )
    assert len(actual["losses"]) == len(problem.x), (
        f"{what} recorded {len(actual['losses'])} losses, expected one per batch"
    )
    losses_ok = np.allclose(actual["losses"], expected["losses"], rtol=1e-3, atol=1e-4)
    weights_ok = all(
        np.allclose(a, b, rtol=1e-3, atol=1e-4)
        for a, b in zip(actual["weights"], expected["weights"])
    )
    if losses_ok and weights_ok:
        return
    named = mistakes.step_mistake(actual, weights, problem)
    if named:
        lines = [f"{what} is wrong"]
        if not losses_ok:
            lines += [
                f"  received losses {np.round(actual['losses'], 4).tolist()}",
                f"  expected losses {np.round(expected['losses'], 4).tolist()}",
            ]
        if not weights_ok:
            lines.append(
                "  the final weights differ from plain SGD's"
                + (" (the losses are right)" if losses_ok else "")
            )
        raise AssertionError("\n".join([*lines, f"  Likely mistake: {named}"]))
    if not losses_ok:
        expect_close(
            actual["losses"], expected["losses"], what=f"the losses of {what}", rtol=1e-3, atol=1e-4
        )
    for index, (a, b) in enumerate(zip(actual["weights"], expected["weights"])):
        expect_close(a, b, what=f"weight {index} after {what}", rtol=1e-3, atol=1e-4)


@given(problem=step_problems(max_steps=1))
def test_train_step_returns_the_mean_cross_entropy_before_the_update(training, problem):
    weights = training.small_model_weights(
        problem.x.shape[2:], problem.num_classes, problem.hidden, problem.seed
    )
    actual = training.run_steps(problem.x, problem.y, **problem.kwargs("adam"))
    expected = sgd_reference(weights, problem.x, problem.y, problem.learning_rate)["losses"]
    if np.allclose(actual["losses"], expected, rtol=1e-3, atol=1e-4):
        return
    named = mistakes.step_mistake(actual, weights, problem, compare_weights=False)
    raise AssertionError(
        f"train_step with Adam on one batch of {problem.x.shape[1]} is wrong\n"
        f"  received the loss {np.round(actual['losses'], 4).tolist()}\n"
        f"  expected {np.round(expected, 4).tolist()} (the batch's mean cross-entropy before "
        f"the update)" + (f"\n  Likely mistake: {named}" if named else "")
    )
