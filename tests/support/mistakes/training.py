"""The classic mistakes of the ``training`` task: what each one computes, and its name.

``batch_indices`` mistakes are recognised by the batches they give (:func:`batch_variants`,
exact integer equality) or by a property of the batches (:func:`epoch_mistake`, repeats in
an epoch; two calls with one seed that differ). ``train_step`` mistakes are recognised by
simulating them in numpy on the small model of ``training.run_steps``
(:func:`tests.support.training_strategies.sgd_reference`) and comparing the losses and the
final weights (:func:`step_mistake`). The public and the hidden tests use the same names.

Each entry: the mistake; its fixture in ``tests/fixtures/training/wrong/``; the symptom.

batch_indices
  sampling with replacement     batches_with_replacement       an epoch repeats an example
                                                               (not from dropping); rng.integers
  the last partial batch dropped  last_partial_batch_dropped   each epoch stops after
                                                               (N // B) * B examples
  one permutation for all epochs  one_permutation_for_all_epochs  epoch 2 == epoch 1
  not shuffled                  not_shuffled                   epoch 1 == 0, 1, ..., N - 1
  the global random state       global_random_state            two calls, one seed, differ
train_step
  loss returned after the update  loss_after_update            the losses of the updated model
  loss summed over the batch    loss_summed                    B * loss, B times the steps
  gradients never applied       gradients_not_applied          the weights do not change
  gradient ascent               gradient_ascent                the weights move up the gradient
  softmax applied twice         --                             from_logits=True on probabilities
"""

from __future__ import annotations

import numpy as np

from tests.support.compare import Mistake
from tests.support.mistakes.metrics import exclusive
from tests.support.training_strategies import sgd_reference, stream_epochs

WITH_REPLACEMENT = (
    "sampling with replacement (rng.integers / rng.choice); each epoch must "
    "be a permutation (no repeats)"
)
DROPPED = (
    "the last partial batch of each epoch is dropped; complete it with the first "
    "examples of the next epoch"
)
ONE_PERMUTATION = (
    "one permutation is reused for every epoch; draw a new permutation for "
    "each epoch from the same generator"
)
NOT_SHUFFLED = "the examples are not shuffled: draw each epoch with rng.permutation"
GLOBAL_STATE = (
    "the same seed gave different batches: use rng = np.random.default_rng(seed), "
    "not the global np.random state"
)
SEED_IGNORED = "the seed must seed the generator: np.random.default_rng(seed)"

LOSS_AFTER = (
    "the recorded loss is the loss AFTER the update; return the loss the gradient "
    "was computed from (before apply_gradients)"
)
SUMMED = "the loss is summed over the batch; use the MEAN over the batch"
NO_UPDATE = (
    "the weights never change: apply the gradients with "
    "optimizer.apply_gradients(zip(gradients, model.trainable_variables))"
)
ASCENT = (
    "gradient ascent: the weights move UP the gradient; let the optimizer apply the "
    "gradient as it is (do not negate it)"
)
DOUBLE_SOFTMAX = (
    "the model already outputs probabilities; the loss must not apply a "
    "softmax again (from_logits=False)"
)

# the numpy simulations of sgd_reference, in the order they are tried
STEP_MISTAKES = {
    "loss_after": LOSS_AFTER,
    "sum": SUMMED,
    "no_update": NO_UPDATE,
    "ascent": ASCENT,
    "double_softmax": DOUBLE_SOFTMAX,
}


# --------------------------------------------------------------------------- batch_indices


def batch_variants(
    num_examples: int, batch_size: int, num_batches: int, seed: int
) -> list[Mistake]:
    """The batches the usual mistakes give (NaN where a mistake changes nothing, or where
    two mistakes give the same batches)."""
    needed = num_batches * batch_size

    def stream(epochs):
        flat = np.concatenate(epochs) if epochs else np.zeros(0, dtype=np.int64)
        return flat[:needed].reshape(num_batches, batch_size) if len(flat) >= needed else None

    count = -(-needed // num_examples) + 1
    one = np.random.default_rng(seed).permutation(num_examples)
    rng = np.random.default_rng(seed)
    per_epoch = (num_examples // batch_size) * batch_size
    dropped = [
        rng.permutation(num_examples)[:per_epoch] for _ in range(needed // max(per_epoch, 1) + 1)
    ]
    return exclusive(
        [
            Mistake(ONE_PERMUTATION, lambda: stream([one] * count)),
            Mistake(DROPPED, lambda: stream(dropped)),
            Mistake(
                WITH_REPLACEMENT,
                lambda: np.random.default_rng(seed).integers(
                    0, num_examples, size=(num_batches, batch_size)
                ),
            ),
            Mistake(NOT_SHUFFLED, lambda: stream([np.arange(num_examples)] * count)),
        ]
    )


def epoch_mistake(indices: np.ndarray, num_examples: int, batch_size: int) -> str | None:
    """The mistake an epoch with a repeated example shows: ``DROPPED`` when the stream is
    free of repeats in chunks of ``(N // B) * B`` (each epoch stopped early), else
    ``WITH_REPLACEMENT``; None if no epoch repeats an example."""
    epochs = stream_epochs(indices, num_examples)
    if all(len(np.unique(epoch)) == len(epoch) for epoch in epochs):
        return None
    per_epoch = (num_examples // batch_size) * batch_size
    if per_epoch and all(
        len(np.unique(chunk)) == len(chunk) for chunk in stream_epochs(indices, per_epoch)
    ):
        return DROPPED
    return WITH_REPLACEMENT


# --------------------------------------------------------------------------- train_step


def simulate(weights, problem, mistake: str | None = None) -> dict:
    """``{"losses", "weights"}`` of plain SGD on ``problem`` with ``mistake`` (numpy)."""
    return sgd_reference(weights, problem.x, problem.y, problem.learning_rate, mistake)


def same_run(actual: dict, expected: dict, *, weights: bool = True) -> bool:
    """True if two runs have the same losses (and final weights) up to float32 rounding."""
    if len(actual["losses"]) != len(expected["losses"]) or not np.allclose(
        actual["losses"], expected["losses"], rtol=1e-3, atol=1e-4
    ):
        return False
    return not weights or all(
        np.allclose(a, b, rtol=1e-3, atol=1e-4)
        for a, b in zip(actual["weights"], expected["weights"])
    )


def step_mistake(actual: dict, weights, problem, *, compare_weights: bool = True) -> str | None:
    """The message of the one simulated mistake whose run is the candidate's (None if no
    mistake, or more than one, matches). ``compare_weights=False`` compares the losses
    only. A double softmax is simulated for the first loss only (its gradients are not)."""
    found = set()
    right = simulate(weights, problem)["losses"][:1]
    for mistake, message in STEP_MISTAKES.items():
        run = simulate(weights, problem, mistake)
        if mistake == "double_softmax":
            first = run["losses"][:1]
            if np.allclose(actual["losses"][:1], first, rtol=1e-3, atol=1e-4) and not np.allclose(
                first, right, rtol=1e-3, atol=1e-4
            ):  # a first loss only it gives
                found.add(message)
        elif same_run(actual, run, weights=compare_weights):
            found.add(message)
    return found.pop() if len(found) == 1 else None


def first_loss_mistake(actual: dict, weights, problem) -> str | None:
    """The message of the one mistake whose *first* recorded loss is the candidate's, where
    the right first loss differs (None otherwise). The first loss is taken before any
    update, so this names a wrong loss (summed, double softmax, ...) whatever the
    optimizer."""
    if not len(actual["losses"]):
        return None
    first = np.asarray(actual["losses"][:1], np.float64)
    right = simulate(weights, problem)["losses"][:1]
    if np.allclose(first, right, rtol=1e-3, atol=1e-4):
        return None
    found = {
        message
        for mistake, message in STEP_MISTAKES.items()
        if np.allclose(
            first, simulate(weights, problem, mistake)["losses"][:1], rtol=1e-3, atol=1e-4
        )
    }
    return found.pop() if len(found) == 1 else None


def step_variants(weights, problem) -> list[Mistake]:
    """The recorded losses the usual mistakes give, for ``expect_close``."""
    return exclusive(
        [
            Mistake(message, lambda m=mistake: simulate(weights, problem, m)["losses"])
            for mistake, message in STEP_MISTAKES.items()
        ]
    )
