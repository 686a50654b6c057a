"""Hypothesis strategies and numpy models for the ``training`` and ``inspect_model`` tasks.

* ``batch_settings``: ``(num_examples, batch_size, num_batches, seed)`` for
  ``batch_indices``, small enough to reason about, often spanning several epochs and
  often with a partial last batch per epoch (``num_examples % batch_size != 0``).
* ``step_problems``: batches for ``training.run_steps`` (which drives ``train_step`` on a
  small fixed model), and ``sgd_reference``, the same training written out in numpy
  (forward pass, backpropagation, plain SGD) with the usual mistakes as options.
* ``example_images``: one input for each of ``inspect_model.example_model``'s models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

# --------------------------------------------------------------------------- batch_indices


@st.composite
def batch_settings(
    draw,
    min_examples: int = 1,
    max_examples: int = 12,
    max_batches: int = 9,
    min_batches: int = 0,
    min_epochs: float = 0.0,
):
    """``(num_examples, batch_size, num_batches, seed)`` with ``1 <= batch_size <= N``.

    ``min_epochs``: draw enough batches to cover at least this many epochs.
    """
    num_examples = draw(st.integers(min_examples, max_examples), label="num_examples")
    batch_size = draw(st.integers(1, num_examples), label="batch_size")
    least = max(min_batches, int(np.ceil(min_epochs * num_examples / batch_size)))
    num_batches = draw(st.integers(least, max(least, max_batches)), label="num_batches")
    seed = draw(st.integers(0, 2**16), label="seed")
    return num_examples, batch_size, num_batches, seed


def stream_epochs(indices: np.ndarray, num_examples: int) -> list[np.ndarray]:
    """The flattened batches cut into consecutive epochs of ``num_examples`` (the last may
    be partial)."""
    stream = np.asarray(indices).reshape(-1)
    return [stream[i : i + num_examples] for i in range(0, len(stream), num_examples)]


def dropped_last_variant(num_examples: int, batch_size: int) -> bool:
    """True if a drop-the-last-partial-batch sampler would differ from the right one."""
    return num_examples % batch_size != 0


# --------------------------------------------------------------------------- train_step


@dataclass(frozen=True)
class StepProblem:
    """Batches for ``run_steps``: ``x`` ``(S, B, *features)`` float32, ``y`` ``(S, B)``."""

    x: np.ndarray
    y: np.ndarray
    num_classes: int
    hidden: int
    learning_rate: float
    seed: int

    def rate(self, optimizer: str = "sgd") -> float:
        """The learning rate for ``optimizer``: adaptive optimizers (Adam, RMSprop) take
        steps of about the learning rate whatever the gradient, so 0.1 or 0.3 saturates the
        softmax within a few steps, and the textbook ``-log(p)`` of the docstring then gives
        inf where a clipped library loss stays finite: both are right, so such rates are
        not drawn for them."""
        return (
            min(self.learning_rate, 0.01)
            if optimizer in ("adam", "rmsprop")
            else (self.learning_rate)
        )

    def kwargs(self, optimizer: str = "sgd") -> dict:
        return {
            "num_classes": self.num_classes,
            "learning_rate": self.rate(optimizer),
            "optimizer": optimizer,
            "seed": self.seed,
            "hidden": self.hidden,
        }


@st.composite
def step_problems(draw, max_steps: int = 4, max_batch: int = 6) -> StepProblem:
    """A few batches of small random inputs (vectors or tiny images) with labels."""
    steps = draw(st.integers(1, max_steps), label="steps")
    batch = draw(st.integers(1, max_batch), label="batch size")
    features = draw(st.sampled_from([(3,), (5,), (2, 2, 1), (3, 3, 2)]), label="input shape")
    num_classes = draw(st.integers(2, 5), label="classes")
    seed = draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=(steps, batch, *features)).astype(np.float32)
    y = rng.integers(0, num_classes, size=(steps, batch))
    learning_rate = draw(st.sampled_from([0.01, 0.1, 0.3]), label="learning rate")
    hidden = draw(st.sampled_from([3, 8]), label="hidden units")
    return StepProblem(x, y, num_classes, hidden, learning_rate, seed)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def mlp_loss_and_grads(weights, x, y):
    """Mean cross-entropy of flatten-dense-ReLU-dense-softmax and its gradients (float64)."""
    w1, b1, w2, b2 = (np.asarray(w, dtype=np.float64) for w in weights)
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    pre = flat @ w1 + b1
    hidden = np.maximum(pre, 0.0)
    probs = softmax(hidden @ w2 + b2)
    n = len(x)
    loss = float(-np.mean(np.log(probs[np.arange(n), y])))
    d_logits = probs.copy()
    d_logits[np.arange(n), y] -= 1.0
    d_logits /= n
    g_w2, g_b2 = hidden.T @ d_logits, d_logits.sum(axis=0)
    d_hidden = (d_logits @ w2.T) * (pre > 0)
    g_w1, g_b1 = flat.T @ d_hidden, d_hidden.sum(axis=0)
    return loss, probs, [g_w1, g_b1, g_w2, g_b2]


def sgd_reference(
    weights, x_batches, y_batches, learning_rate: float, mistake: str | None = None
) -> dict:
    """Plain SGD on the small model, in numpy: ``{"losses", "weights"}``.

    ``mistake``: ``None`` (right), ``"loss_after"`` (records the loss after the update),
    ``"sum"`` (sums the per-example losses), ``"no_update"`` (never applies the gradient),
    ``"ascent"`` (adds the gradient), ``"double_softmax"`` (treats the probabilities as
    logits: ``from_logits=True``; only the loss values are simulated).
    """
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    losses = []
    for x, y in zip(x_batches, y_batches):
        loss, probs, grads = mlp_loss_and_grads(weights, x, y)
        scale = len(x) if mistake == "sum" else 1.0
        if mistake == "double_softmax":
            again = softmax(probs)
            loss = float(-np.mean(np.log(again[np.arange(len(x)), y])))
        if mistake != "no_update":
            sign = 1.0 if mistake == "ascent" else -1.0
            weights = [w + sign * learning_rate * scale * g for w, g in zip(weights, grads)]
        if mistake == "loss_after":
            loss = mlp_loss_and_grads(weights, x, y)[0]
        losses.append(loss * scale)
    return {"losses": losses, "weights": weights}


# --------------------------------------------------------------------------- inspect_model

EXAMPLE_INPUTS = {
    "mlp": (28, 28, 1),
    "conv": (28, 28, 1),
    "conv_bn": (12, 12, 3),
    "functional": (10,),
}


@st.composite
def example_images(draw, names=tuple(EXAMPLE_INPUTS)) -> tuple[str, np.ndarray, int]:
    """``(model name, one input without a batch axis, weight seed)``."""
    name = draw(st.sampled_from(names), label="model")
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="image seed"))
    low = draw(st.sampled_from([0.0, -1.0]), label="lowest value")
    image = rng.uniform(low, 1.0, size=EXAMPLE_INPUTS[name]).astype(np.float32)
    return name, image, draw(st.integers(0, 50), label="weight seed")


def first_argmax(probs: np.ndarray) -> np.ndarray:
    """The argmax of each row, the first index on ties (written out)."""
    return np.array([int(np.flatnonzero(row == row.max())[0]) for row in probs], dtype=int)


def confidently_wrong_by_definition(
    probs,
    labels,
    k: int,
    *,
    confidence=None,
    include_right: bool = False,
    ascending: bool = False,
    ties_last: bool = False,
    predicted=None,
    wrong=None,
) -> np.ndarray:
    """``most_confidently_wrong`` written out; the options give the usual mistakes
    (``wrong``: which examples count as wrong, instead of prediction != label)."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1)
    predicted = first_argmax(probs) if predicted is None else predicted
    scores = probs.max(axis=1) if confidence is None else confidence
    if wrong is None:
        wrong = [include_right or predicted[i] != labels[i] for i in range(len(probs))]
    chosen = [i for i in range(len(probs)) if wrong[i]]
    sign = 1.0 if ascending else -1.0
    chosen.sort(key=lambda i: (sign * scores[i], -i if ties_last else i))
    return np.array(chosen[:k], dtype=np.int64)
