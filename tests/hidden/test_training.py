"""Hidden tests for ``training.py``: the candidate against the reference solutions.

``batch_indices`` must give exactly the reference's batches (the docstring fixes the random
generator and the order of its calls); a wrong answer is compared with what the usual
mistakes give (one permutation for all epochs, the last partial batch dropped, sampling
with replacement, no shuffling) so the feedback can name it. ``train_step`` is graded
through ``run_steps`` with every optimizer, on more and larger batches than the public tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close
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


def variants(num_examples: int, batch_size: int, num_batches: int, seed: int):
    """The batches that the usual mistakes give (or None where a mistake changes nothing)."""
    needed = num_batches * batch_size

    def stream(epochs):
        flat = np.concatenate(epochs) if epochs else np.zeros(0, dtype=np.int64)
        return flat[:needed].reshape(num_batches, batch_size) if len(flat) >= needed else None

    count = -(-needed // num_examples) + 1
    rng = np.random.default_rng(seed)
    one = rng.permutation(num_examples)
    rng = np.random.default_rng(seed)
    per_epoch = (num_examples // batch_size) * batch_size
    dropped = [rng.permutation(num_examples)[:per_epoch] for _ in range(needed // max(
        per_epoch, 1) + 1)]
    rng = np.random.default_rng(seed)
    return [
        Mistake("one permutation is reused for every epoch; draw a new permutation for each "
                "epoch from the same generator", lambda: stream([one] * count)),
        Mistake("the last partial batch of each epoch is dropped; complete it with the first "
                "examples of the next epoch", lambda: stream(dropped)),
        Mistake("sampling with replacement (rng.integers / rng.choice); each epoch must be a "
                "permutation", lambda: rng.integers(0, num_examples, size=(num_batches,
                                                                           batch_size))),
        Mistake("the examples are not shuffled", lambda: stream(
            [np.arange(num_examples)] * count)),
    ]


@given(settings=batch_settings(max_examples=20, max_batches=12))
def test_batch_indices_matches_the_reference(training, ref, settings):
    num_examples, batch_size, num_batches, seed = settings
    what = f"batch_indices({num_examples}, {batch_size}, {num_batches}, seed={seed})"
    expected = np.asarray(ref.batch_indices(num_examples, batch_size, num_batches, seed))
    actual = np.asarray(training.batch_indices(num_examples, batch_size, num_batches, seed))
    if actual.shape == expected.shape and np.array_equal(actual, expected):
        return
    expect_close(actual, expected, what=what, atol=0.0, rtol=0.0,
                 mistakes=variants(num_examples, batch_size, num_batches, seed))
    raise AssertionError(f"{what} is wrong: use rng = np.random.default_rng(seed) and "
                         f"rng.permutation(num_examples) for each epoch, in order")


@given(settings=batch_settings(min_examples=30, max_examples=200, max_batches=40,
                               min_epochs=1.5))
def test_batch_indices_on_larger_data_sets(training, ref, settings):
    num_examples, batch_size, num_batches, seed = settings
    what = f"batch_indices({num_examples}, {batch_size}, {num_batches}, seed={seed})"
    expected = np.asarray(ref.batch_indices(num_examples, batch_size, num_batches, seed))
    actual = np.asarray(training.batch_indices(num_examples, batch_size, num_batches, seed))
    expect_close(actual, expected, what=what, atol=0.0, rtol=0.0,
                 mistakes=variants(num_examples, batch_size, num_batches, seed))


def test_batch_indices_returns_integers(training):
    indices = np.asarray(training.batch_indices(7, 3, 5, seed=1))
    assert indices.dtype.kind in "iu", f"batch_indices has dtype {indices.dtype}"


def step_mistakes(problem, weights) -> list[Mistake]:
    def run(mistake):
        return sgd_reference(weights, problem.x, problem.y, problem.learning_rate, mistake)

    return [
        Mistake("the recorded loss is the loss AFTER the update; return the loss the "
                "gradient was computed from", lambda: run("loss_after")["losses"]),
        Mistake("the loss is summed over the batch; use the MEAN over the batch",
                lambda: run("sum")["losses"]),
        Mistake("the model already outputs probabilities; the loss must not apply a softmax "
                "again (from_logits=False)", lambda: run("double_softmax")["losses"]),
    ]


@given(problem=step_problems(max_steps=6, max_batch=10),
       optimizer=st.sampled_from(["sgd", "momentum", "nesterov", "adam", "rmsprop"]))
def test_train_step_matches_the_reference_with_every_optimizer(training, ref, problem,
                                                               optimizer):
    kwargs = problem.kwargs(optimizer)
    expected = ref.run_steps(problem.x, problem.y, **kwargs)
    actual = training.run_steps(problem.x, problem.y, **kwargs)
    weights = ref.small_model_weights(problem.x.shape[2:], problem.num_classes,
                                      problem.hidden, problem.seed)
    what = (f"train_step on {len(problem.x)} batches of {problem.x.shape[1]} "
            f"({optimizer}, learning rate {problem.learning_rate})")
    expect_close(actual["losses"], expected["losses"], what=f"the losses recorded by {what}",
                 rtol=1e-3, atol=1e-4,
                 mistakes=step_mistakes(problem, weights) if optimizer == "sgd" else [])
    initial = [np.asarray(w, dtype=np.float64) for w in weights]
    for index, (a, b) in enumerate(zip(actual["weights"], expected["weights"])):
        if len(problem.x) and np.allclose(a, initial[index]) and not np.allclose(
                b, initial[index]):
            raise AssertionError(
                f"weight {index} did not change in {what}. Likely mistake: the gradients "
                f"are never applied (optimizer.apply_gradients)")
        expect_close(a, b, what=f"weight {index} after {what}", rtol=1e-3, atol=1e-4,
                     mistakes=[Mistake("gradient ascent: the weights move UP the gradient; "
                                       "let the optimizer apply the gradient as it is",
                                       lambda i=index: sgd_reference(
                                           initial, problem.x, problem.y,
                                           problem.learning_rate, "ascent")["weights"][i])]
                     if optimizer == "sgd" else [])
