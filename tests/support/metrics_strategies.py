"""Hypothesis strategies for the ``metrics`` task: labels and probability matrices.

Probabilities are small integer weights (0 to 8) normalised per row, so that what tells
a right answer from the usual mistakes really occurs: rows whose maximum is shared by
several classes (argmax ties), one-hot rows (a confidence of exactly 1.0), and true
classes with probability exactly 0 or 1. Labels come as ``(N,)`` or ``(N, 1)`` arrays of
various integer dtypes, as Keras's CIFAR-10 labels do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

LABEL_DTYPES = (np.int64, np.int32, np.uint8)
ROW_KINDS = ("tie", "one_hot", "weights", "smooth")


@st.composite
def probability_row(draw, num_classes: int) -> np.ndarray:
    """One row of ``num_classes`` probabilities (float64, summing to 1)."""
    kind = draw(st.sampled_from(ROW_KINDS), label="row kind")
    if kind == "one_hot":
        row = np.zeros(num_classes)
        row[draw(st.integers(0, num_classes - 1))] = 1.0
        return row
    if kind == "smooth":  # no ties: a softmax of continuous logits
        logits = np.array(
            draw(st.lists(st.floats(-3, 3), min_size=num_classes, max_size=num_classes))
        )
        row = np.exp(logits - logits.max())
        return row / row.sum()
    weights = np.array(
        draw(st.lists(st.integers(0, 8), min_size=num_classes, max_size=num_classes)),
        dtype=np.float64,
    )
    if kind == "tie" and num_classes >= 2:
        tied = draw(
            st.lists(st.integers(0, num_classes - 1), min_size=2, max_size=num_classes, unique=True)
        )
        weights[tied] = max(1.0, weights.max())
    if weights.sum() == 0:
        weights[0] = 1.0
    return weights / weights.sum()


@st.composite
def probability_matrices(draw, count: int, num_classes: int) -> np.ndarray:
    """A ``(count, num_classes)`` float64 matrix of probability rows."""
    return np.stack([draw(probability_row(num_classes)) for _ in range(count)])


def first_argmax(probs: np.ndarray) -> np.ndarray:
    """The predicted labels, the first index on ties (written out, not ``np.argmax``)."""
    best = probs.max(axis=1, keepdims=True)
    return np.array([int(np.flatnonzero(row == top)[0]) for row, top in zip(probs, best)])


def label_shapes() -> st.SearchStrategy[str]:
    """``"flat"`` for ``(N,)`` labels, ``"column"`` for ``(N, 1)``."""
    return st.sampled_from(["flat", "column"])


def shaped(labels: np.ndarray, shape: str, dtype=np.int64) -> np.ndarray:
    """``labels`` (a flat int array) as ``(N,)`` or ``(N, 1)`` of ``dtype``."""
    array = np.asarray(labels).astype(dtype)
    return array.reshape(-1, 1) if shape == "column" else array.reshape(-1)


@dataclass(frozen=True)
class Case:
    """One classification problem.

    Attributes:
        labels: the true labels, flat ``(N,)`` int64 (for computing expectations).
        y_true: the same labels as handed to the candidate: ``(N,)`` or ``(N, 1)``, some
            integer dtype.
        probs: ``(N, K)`` float64 probabilities.
        num_classes: ``K``.
    """

    labels: np.ndarray
    y_true: np.ndarray
    probs: np.ndarray
    num_classes: int

    @property
    def predicted(self) -> np.ndarray:
        """The predicted labels: argmax of ``probs``, the first index on ties."""
        return first_argmax(self.probs)


@st.composite
def cases(
    draw,
    max_examples: int = 12,
    min_examples: int = 1,
    min_classes: int = 2,
    max_classes: int = 5,
    shape: str | None = None,
) -> Case:
    """A :class:`Case`: ``N`` examples of ``K`` classes.

    About half the labels are the predicted class (so accuracies are neither always 0
    nor always 1); the others are drawn at random, so the true class sometimes has
    probability exactly 0, and sometimes 1 (one-hot rows).
    """
    num_classes = draw(st.integers(min_classes, max_classes), label="K")
    count = draw(st.integers(min_examples, max_examples), label="N")
    probs = draw(probability_matrices(count, num_classes))
    predicted = first_argmax(probs)
    labels = np.array(
        [
            int(predicted[i]) if draw(st.booleans()) else draw(st.integers(0, num_classes - 1))
            for i in range(count)
        ],
        dtype=np.int64,
    )
    shape = shape or draw(label_shapes(), label="label shape")
    dtype = draw(st.sampled_from(LABEL_DTYPES), label="label dtype")
    return Case(labels, shaped(labels, shape, dtype), probs, num_classes)


def float32_or_64(probs: np.ndarray, kind: str) -> np.ndarray:
    """``probs`` as float32 (``kind == "float32"``) or float64; ties stay ties."""
    return probs.astype(np.float32 if kind == "float32" else np.float64)


prob_dtypes = st.sampled_from(["float64", "float32"])
