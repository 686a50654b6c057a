"""The classic mistakes of the ``metrics`` task: what each one computes, and its name.

Every function below returns :class:`~tests.support.compare.Mistake` variants for one call:
``expect_close`` names a mistake only when the candidate's value equals that variant
exactly (up to float rounding), so a name is never a guess. The public tests
(``tests/public/test_metrics.py``) and the hidden tests use the same lists. Inputs are
plain numpy: ``labels`` flat ``(N,)`` int64, ``y_true`` as handed to the candidate (``(N,)``
or ``(N, 1)``), ``probs`` ``(N, K)`` float64.

Each entry: the mistake; its fixture in ``tests/fixtures/metrics/wrong/``; the symptom (the
candidate's value equals ...). ``--``: no fixture (a rarer mistake, still named).

accuracy
  (N, 1) labels broadcast to (N, N)   accuracy_column_labels_broadcast   mean(y_true == predicted)
  argmax ties to the last index       accuracy_last_argmax               the last-index argmax's
  accuracy as a count                 accuracy_count                     N * accuracy
  the error rate                      --                                 1 - accuracy
confusion_matrix
  transposed                          confusion_transposed               matrix.T
  normalised                          --                                 matrix / N, row / row sum
precision_recall_f1
  NaN where 0/0                       precision_nan_where_undefined      NaN (the reference: 0)
  precision and recall swapped        precision_recall_swapped           precision == recall
  F1 as the arithmetic mean           f1_arithmetic_mean                 (P + R) / 2
  F1 without the factor 2             --                                 PR / (P + R)
top_k_accuracy
  ties to the higher index            top_k_ties_wrong_way               ties won by the higher
                                      (np.argsort(...)[:, ::-1], scikit-learn's top_k_accuracy)
  every tie in the top k              top_k_ties_count_all               tf.math.in_top_k's rule
  counting k + 1 classes              top_k_off_by_one                   the top k + 1 (or k - 1)
log_loss
  summed                              log_loss_summed                    N * loss
  unclipped                           log_loss_unclipped                 infinity
  renormalised after clipping         log_loss_renormalised              older scikit-learn's
  (N, 1) labels as row indices, sign, log2, log10, every entry, no log: --
expected_calibration_error
  confidence 1.0 dropped              ece_drops_confidence_one           bin n_bins ignored
  confidence 1.0 in a bin of its own  ece_extra_bin_for_one              bin n_bins (torchmetrics)
  bins closed on the right            ece_right_closed_bins              (b/n, (b+1)/n] (Guo et al.)
  unweighted                          ece_unweighted                     mean gap (or sum / n_bins)
  no abs, the maximum gap, argmax ties to the last index: --
"""

from __future__ import annotations

import math

import numpy as np

from tests.support.compare import Mistake, distinguishable

TIES = (
    "argmax ties: the prediction is the FIRST (lowest) index among tied maxima, as "
    "np.argmax gives; yours takes the last"
)
BROADCAST = (
    "(N, 1) labels broadcast against (N,) predictions into an (N, N) comparison: "
    "flatten y_true first (y_true.reshape(-1))"
)
ACCURACY_COUNT = (
    "you returned the number of right predictions; accuracy is a fraction (divide by N)"
)
ERROR_RATE = "this is the error rate, 1 - accuracy"
TRANSPOSED = (
    "the matrix is transposed: rows must be the TRUE classes, columns the "
    "PREDICTED ones (matrix[t, p])"
)
NORMALISED = "the confusion matrix holds counts; yours is normalised"
UNDEFINED = (
    "where a ratio is 0/0 (a class never predicted, or absent from y_true) the "
    "value is defined as 0, never NaN"
)
SWAPPED = (
    "precision and recall are swapped: precision divides the hits by how often the "
    "class is PREDICTED (a column sum), recall by how often it is TRUE (a row sum)"
)
F1_MEAN = "F1 is the harmonic mean 2PR / (P + R), not the arithmetic mean (P + R) / 2"
F1_HALF = "F1 is 2PR / (P + R): the factor 2 is missing"
TOP_K_HIGHER = (
    "ties go the wrong way: a class tied with the true class outranks it only "
    "if its index is LOWER (as argmax); yours lets the higher index win "
    "(np.argsort(...)[:, ::-1] and scikit-learn's top_k_accuracy_score do)"
)
TOP_K_NEVER = (
    "ties go the wrong way: a class tied with the true class outranks it if its "
    "index is lower; yours counts every tied class as in the top k "
    "(tf.math.in_top_k's convention, ruled out by the handout)"
)
TOP_K_ALWAYS = (
    "ties go the wrong way: a class tied with the true class outranks it only "
    "if its index is lower; yours lets every tie outrank it"
)
TOP_K_PLUS_ONE = (
    "off by one: an example is right when FEWER than k classes outrank its "
    "true class (yours accepts k of them: the top k + 1)"
)
TOP_K_MINUS_ONE = (
    "off by one: an example is right when fewer than k classes outrank its "
    "true class (yours needs fewer than k - 1: the top k - 1)"
)
TOP_K_COUNT = "you returned a count; top-k accuracy is a fraction (divide by N)"
LOG_SUMMED = "you summed over the examples; take the mean"
LOG_SIGN = "the sign: the loss is the NEGATIVE mean log-probability"
LOG_EVERY_ENTRY = "only the true class's probability counts, not every entry of probs"
LOG_ONE_HOT_MEAN = (
    "you averaged over all N * K entries of a one-hot mask: divide by N, the number of examples"
)
LOG2 = "use the natural logarithm (np.log), not log2"
LOG10 = "use the natural logarithm (np.log), not log10"
LOG_NO_LOG = "this is the mean of the clipped probabilities; take -log first"
UNCLIPPED = (
    "the probabilities are not clipped to [eps, 1 - eps] before the log (a true "
    "class of probability 0 gives log(0) = -inf)"
)
RENORMALISED = (
    "older scikit-learn's log_loss renormalises each row after clipping; the "
    "handout clips the true class's probability to [eps, 1 - eps] and does "
    "not renormalise"
)
LABELS_AS_INDEX = (
    "(N, 1) labels used as row indices give an (N, N) selection: flatten "
    "y_true first (y_true.reshape(-1))"
)
ECE_DROPS_ONE = (
    "a confidence of exactly 1.0 must go to the last bin: bin = "
    "min(floor(confidence * n_bins), n_bins - 1); yours drops it"
)
ECE_EXTRA_BIN = (
    "a confidence of exactly 1.0 goes to the LAST bin, with the others of "
    "[1 - 1/n_bins, 1]; yours puts it in an extra bin of its own "
    "(torchmetrics' convention, ruled out by the handout)"
)
ECE_RIGHT_CLOSED = (
    "bin edges: bins are closed on the LEFT, [b/n, (b+1)/n): a confidence "
    "b/n_bins goes to bin b = floor(confidence * n_bins); yours closes them "
    "on the right, (b/n, (b+1)/n], as Guo et al.'s temperature-scaling code"
)
ECE_UNWEIGHTED = (
    "each bin's gap must be weighted by its share of the examples, n_b / N; "
    "yours weights the bins equally"
)
ECE_NO_ABS = "take the absolute value of each bin's gap |accuracy - confidence|"
ECE_MAX = (
    "that is the maximum calibration error (the largest gap); ECE is the weighted sum over bins"
)
ECE_EMPTY_BIN = "an empty bin gives 0/0: skip the empty bins"


# --------------------------------------------------------------------------- helpers


def exclusive(mistakes: list[Mistake]) -> list[Mistake]:
    """The mistakes that can be named: where two mistakes give the same value, neither is."""
    return distinguishable(mistakes, lambda a, b: bool(np.allclose(a, b, rtol=1e-6, atol=1e-9)))


def expect_finite(actual, *, what: str, mistake: str) -> None:
    """Fails, naming ``mistake``, if ``actual`` holds NaN or infinity (every statistic here
    is finite)."""
    array = np.asarray(actual, dtype=np.float64)
    if array.size and not np.all(np.isfinite(array)):
        raise AssertionError(
            f"{what} contains NaN or infinity ({array.ravel()[:6]}). Likely mistake: {mistake}"
        )


def first_argmax(probs: np.ndarray) -> np.ndarray:
    """The argmax of each row, the first index on ties."""
    return np.argmax(np.asarray(probs, dtype=np.float64), axis=1)


def last_argmax(probs: np.ndarray) -> np.ndarray:
    """The argmax taking the LAST index on ties (a mistake)."""
    probs = np.asarray(probs, dtype=np.float64)
    return probs.shape[1] - 1 - np.argmax(probs[:, ::-1], axis=1)


def broadcast_nan(y_true: np.ndarray, compute):
    """``compute()`` if ``y_true`` is a column of more than one label (where broadcasting
    makes an (N, N) comparison), else NaN (no such symptom)."""
    y_true = np.asarray(y_true)
    return compute() if y_true.ndim == 2 and len(y_true) > 1 else math.nan


# --------------------------------------------------------------------------- accuracy


def accuracy(y_true, labels, y_pred, expected: float) -> list[Mistake]:
    """``accuracy(y_true, y_pred)``: ``y_pred`` labels ``(N,)`` or probabilities ``(N, K)``."""
    y_pred = np.asarray(y_pred)
    predicted = first_argmax(y_pred) if y_pred.ndim == 2 and y_pred.shape[1] > 1 else y_pred
    mistakes = [
        Mistake(
            BROADCAST,
            lambda: broadcast_nan(
                y_true, lambda: np.mean(np.asarray(y_true) == predicted.reshape(-1))
            ),
        ),
        Mistake(ACCURACY_COUNT, lambda: expected * len(labels)),
        Mistake(ERROR_RATE, lambda: 1 - expected),
    ]
    if predicted is not y_pred:
        mistakes.insert(1, Mistake(TIES, lambda: np.mean(last_argmax(y_pred) == labels)))
    return exclusive(mistakes)


# --------------------------------------------------------------------------- confusion matrix


def counts(labels, predicted, num_classes: int) -> np.ndarray:
    matrix = np.zeros((num_classes, num_classes))
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix


def confusion_matrix(labels, y_pred, num_classes: int, expected) -> list[Mistake]:
    expected = np.asarray(expected, dtype=np.float64)
    y_pred = np.asarray(y_pred)
    mistakes = [
        Mistake(TRANSPOSED, lambda: expected.T),
        Mistake(NORMALISED, lambda: expected / len(labels)),
        Mistake(NORMALISED, lambda: expected / np.maximum(expected.sum(1, keepdims=True), 1)),
    ]
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        last = counts(labels, last_argmax(y_pred), num_classes)
        mistakes[1:1] = [
            Mistake(TIES, lambda: last),
            Mistake(f"{TRANSPOSED}; and {TIES}", lambda: last.T),
        ]
    return exclusive(mistakes)


# --------------------------------------------------------------------------- precision, recall


def ratios(labels, predicted, num_classes: int):
    """``(precision, recall, f1)`` of the given predictions, 0 where 0/0."""
    matrix = counts(labels, predicted, num_classes)
    hits, columns, rows = np.diag(matrix), matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, columns, out=np.zeros(num_classes), where=columns > 0)
    recall = np.divide(hits, rows, out=np.zeros(num_classes), where=rows > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(num_classes), where=both > 0)
    return precision, recall, f1


def precision_recall_f1(labels, y_pred, num_classes: int, expected, which: str) -> list[Mistake]:
    """Mistakes of output ``which`` (``"precision"``, ``"recall"`` or ``"f1"``)."""
    precision, recall, f1 = (np.asarray(v, dtype=np.float64) for v in expected)
    y_pred = np.asarray(y_pred)
    mistakes = {
        "precision": [Mistake(SWAPPED, lambda: recall)],
        "recall": [Mistake(SWAPPED, lambda: precision)],
        "f1": [
            Mistake(F1_MEAN, lambda: (precision + recall) / 2),
            Mistake(F1_HALF, lambda: f1 / 2),
        ],
    }[which]
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        index = ("precision", "recall", "f1").index(which)
        mistakes.append(
            Mistake(TIES, lambda: ratios(labels, last_argmax(y_pred), num_classes)[index])
        )
    return exclusive(mistakes)


# --------------------------------------------------------------------------- top-k


def outranked(probs, labels, rule: str = "lower") -> np.ndarray:
    """How many classes outrank each true class when ties go by ``rule``: ``"lower"`` (the
    handout: a tied class outranks the true one if its index is lower), ``"higher"``,
    ``"never"`` or ``"always"``."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    true = probs[np.arange(len(labels)), labels][:, None]
    index = np.arange(probs.shape[1])[None, :]
    ties = {
        "lower": index < labels[:, None],
        "higher": index > labels[:, None],
        "never": np.zeros_like(index, dtype=bool),
        "always": index != labels[:, None],
    }
    return ((probs > true) | ((probs == true) & ties[rule])).sum(axis=1)


def top_k_rate(probs, labels, k: int, rule: str = "lower") -> float:
    return float(np.mean(outranked(probs, labels, rule) < k))


def top_k_accuracy(labels, probs, k: int, expected: float) -> list[Mistake]:
    return exclusive(
        [
            Mistake(TOP_K_HIGHER, lambda: top_k_rate(probs, labels, k, "higher")),
            Mistake(TOP_K_NEVER, lambda: top_k_rate(probs, labels, k, "never")),
            Mistake(TOP_K_ALWAYS, lambda: top_k_rate(probs, labels, k, "always")),
            Mistake(TOP_K_PLUS_ONE, lambda: top_k_rate(probs, labels, k + 1)),
            Mistake(TOP_K_MINUS_ONE, lambda: top_k_rate(probs, labels, k - 1)),
            Mistake(TOP_K_COUNT, lambda: expected * len(labels)),
        ]
    )


# --------------------------------------------------------------------------- log loss


def log_loss(y_true, labels, probs, eps: float, expected: float) -> list[Mistake]:
    probs = np.asarray(probs, dtype=np.float64)
    n = len(labels)
    clipped = np.clip(probs, eps, 1 - eps)
    picked = clipped[np.arange(n), labels]
    renormalised = clipped / clipped.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        unclipped = -np.mean(np.log(probs[np.arange(n), labels]))
    return exclusive(
        [
            Mistake(
                LABELS_AS_INDEX,
                lambda: broadcast_nan(
                    y_true,
                    lambda: float(
                        -np.mean(np.log(clipped[np.arange(n), np.asarray(y_true).astype(np.int64)]))
                    ),
                ),
            ),
            Mistake(LOG_SUMMED, lambda: expected * n),
            Mistake(UNCLIPPED, lambda: unclipped if np.isfinite(unclipped) else math.nan),
            Mistake(RENORMALISED, lambda: -np.mean(np.log(renormalised[np.arange(n), labels]))),
            Mistake(LOG_SIGN, lambda: -expected),
            Mistake(LOG_EVERY_ENTRY, lambda: -np.mean(np.log(clipped))),
            Mistake(LOG_ONE_HOT_MEAN, lambda: -np.sum(np.log(picked)) / probs.size),
            Mistake(LOG2, lambda: expected / math.log(2)),
            Mistake(LOG10, lambda: expected / math.log(10)),
            Mistake(LOG_NO_LOG, lambda: np.mean(picked)),
        ]
    )


# --------------------------------------------------------------------------- calibration


def ece_terms(confidence, correct, bins, count: int):
    """``[(share, accuracy, confidence)]`` of each non-empty bin ``0 .. count - 1``."""
    terms = []
    for b in range(count):
        members = bins == b
        if members.any():
            terms.append((members.mean(), correct[members].mean(), confidence[members].mean()))
    return terms


def weighted(terms) -> float:
    return float(sum(share * abs(acc - conf) for share, acc, conf in terms))


def ece_on_linspace_edges(labels, probs, n_bins: int) -> float:
    """The right ECE with bins found on ``np.linspace(0, 1, n_bins + 1)`` edges instead of
    ``floor(confidence * n_bins)``: the same bins up to float rounding (0.3 * 10 rounds to
    3.0, but 0.3 < linspace(0, 1, 11)[3]), so the tests accept it too."""
    probs = np.asarray(probs, dtype=np.float64)
    confidence = probs.max(axis=1)
    correct = (first_argmax(probs) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.minimum(np.searchsorted(edges, confidence, side="right") - 1, n_bins - 1)
    return weighted(ece_terms(confidence, correct, bins, n_bins))


def ece_accepted(actual, labels, probs, n_bins: int) -> bool:
    """True if ``actual`` is the ECE on linspace edges (see above)."""
    value = np.asarray(actual, dtype=np.float64)
    return value.size == 1 and bool(
        np.isclose(
            value.reshape(()), ece_on_linspace_edges(labels, probs, n_bins), rtol=1e-4, atol=1e-5
        )
    )


def expected_calibration_error(labels, probs, n_bins: int) -> list[Mistake]:
    probs = np.asarray(probs, dtype=np.float64)
    confidence = probs.max(axis=1)
    correct = (first_argmax(probs) == labels).astype(np.float64)
    last_correct = (last_argmax(probs) == labels).astype(np.float64)
    scaled = np.floor(confidence * n_bins)
    handout = np.minimum(scaled, n_bins - 1)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # the right-closed bins, written both ways students write them
    ceiling = np.clip(np.ceil(confidence * n_bins) - 1, 0, n_bins - 1)
    above_lower = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    # a bin of its own for 1.0, also both ways (floor unclamped; linspace edges)
    extra = np.searchsorted(edges, confidence, side="right") - 1
    terms = ece_terms(confidence, correct, handout, n_bins)
    return exclusive(
        [
            Mistake(
                ECE_DROPS_ONE, lambda: weighted(ece_terms(confidence, correct, scaled, n_bins))
            ),
            Mistake(
                ECE_EXTRA_BIN, lambda: weighted(ece_terms(confidence, correct, scaled, n_bins + 1))
            ),
            Mistake(
                ECE_EXTRA_BIN, lambda: weighted(ece_terms(confidence, correct, extra, n_bins + 1))
            ),
            Mistake(
                ECE_RIGHT_CLOSED, lambda: weighted(ece_terms(confidence, correct, ceiling, n_bins))
            ),
            Mistake(
                ECE_RIGHT_CLOSED,
                lambda: weighted(ece_terms(confidence, correct, above_lower, n_bins)),
            ),
            Mistake(TIES, lambda: weighted(ece_terms(confidence, last_correct, handout, n_bins))),
            Mistake(ECE_UNWEIGHTED, lambda: np.mean([abs(a - c) for _, a, c in terms])),
            Mistake(ECE_UNWEIGHTED, lambda: sum(abs(a - c) for _, a, c in terms) / n_bins),
            Mistake(ECE_NO_ABS, lambda: abs(sum(s * (a - c) for s, a, c in terms))),
            Mistake(ECE_MAX, lambda: max(abs(a - c) for _, a, c in terms)),
        ]
    )


# --------------------------------------------------------------------------- telling examples

# Small calls on which each fixture's mistake gives a value that no other mistake gives, so
# it is named whatever example hypothesis shrinks to. ``(function, args, kwargs)``.
WORKED_LABELS = np.array([0, 1, 2, 2])
WORKED_PROBS = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
TIED_LABELS = np.array([1, 3, 2, 2, 1, 0])
TIED_PROBS = np.array(
    [
        [0.25, 0.25, 0.25, 0.25],
        [0.1, 0.2, 0.3, 0.4],
        [0.25, 0.25, 0.25, 0.25],
        [0.1, 0.3, 0.3, 0.3],
        [0.1, 0.2, 0.3, 0.4],
        [0.3, 0.3, 0.3, 0.1],
    ]
)
TELLING = {
    "accuracy of the worked example": ("accuracy", (WORKED_LABELS, WORKED_PROBS), {}),
    "accuracy of (N, 1) labels": ("accuracy", (np.array([[0], [1], [1]]), np.array([0, 1, 0])), {}),
    "confusion_matrix of the worked example": (
        "confusion_matrix",
        (WORKED_LABELS, WORKED_PROBS, 3),
        {},
    ),
    "precision_recall_f1 of the worked example, 4 classes": (
        "precision_recall_f1",
        (WORKED_LABELS, np.array([0, 0, 2, 1]), 4),
        {},
    ),
    "top_k_accuracy(k=2) with ties": ("top_k_accuracy", (TIED_LABELS, TIED_PROBS, 2), {}),
    "log_loss of the worked example": ("log_loss", (WORKED_LABELS, WORKED_PROBS), {}),
    "log_loss with eps=0.05": (
        "log_loss",
        (np.array([0, 1]), np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])),
        {"eps": 0.05},
    ),
    "expected_calibration_error with 1.0 in the last bin": (
        "expected_calibration_error",
        (np.array([1, 0]), np.array([[1.0, 0.0], [0.6, 0.4]])),
        {"n_bins": 2},
    ),
    "expected_calibration_error with 0.5 on a bin edge": (
        "expected_calibration_error",
        (np.array([0, 1]), np.array([[0.5, 0.25, 0.25], [0.75, 0.25, 0.0]])),
        {"n_bins": 2},
    ),
    "expected_calibration_error with 0.3 on an edge in float rounding": (
        "expected_calibration_error",
        (np.array([0, 1]), np.array([[0.3, 0.25, 0.25, 0.2], [0.25, 0.25, 0.25, 0.25]])),
        {"n_bins": 10},
    ),
    "expected_calibration_error of bins of 2 and 1 examples": (
        "expected_calibration_error",
        (np.array([0, 0, 1]), np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4]])),
        {"n_bins": 10},
    ),
}


def for_call(function: str, args: tuple, kwargs: dict, expected) -> list[Mistake] | dict:
    """The mistakes of ``function(*args, **kwargs)`` whose right value is ``expected``; for
    ``precision_recall_f1`` a dict ``output name -> mistakes``."""
    y_true = np.asarray(args[0])
    labels = y_true.reshape(-1).astype(np.int64)
    if function == "accuracy":
        return accuracy(y_true, labels, args[1], float(expected))
    if function == "confusion_matrix":
        return confusion_matrix(labels, args[1], args[2], expected)
    if function == "precision_recall_f1":
        return {
            name: precision_recall_f1(labels, args[1], args[2], expected, name)
            for name in ("precision", "recall", "f1")
        }
    if function == "top_k_accuracy":
        return top_k_accuracy(labels, args[1], args[2], float(expected))
    if function == "log_loss":
        return log_loss(y_true, labels, args[1], kwargs.get("eps", 1e-7), float(expected))
    if function == "expected_calibration_error":
        return expected_calibration_error(labels, args[1], kwargs.get("n_bins", 15))
    raise ValueError(f"Received: function={function!r}, expected a metric")
