"""Hidden tests for ``metrics.py``: the candidate against the reference solutions.

Inputs are drawn by hypothesis (derandomised when grading) with argmax ties, one-hot rows
and true classes of probability exactly 0 or 1; the reference (``--reference``) computes
the expected value; a wrong value is matched against the values that the usual mistakes
give, so that the feedback can name the mistake.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close, expect_error
from tests.support.metrics_strategies import (
    Case,
    cases,
    float32_or_64,
    label_shapes,
    prob_dtypes,
    shaped,
)

pytestmark = [pytest.mark.hidden, pytest.mark.task("metrics")]


@pytest.fixture(scope="module")
def metrics(candidate):
    return candidate.module("metrics")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("metrics")


def f64(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def last_argmax(probs: np.ndarray) -> np.ndarray:
    """The argmax taking the LAST index on ties (a mistake)."""
    return probs.shape[1] - 1 - np.argmax(probs[:, ::-1], axis=1)


def expect_finite(actual, *, what: str, mistake: str) -> None:
    """Fails with ``mistake`` named if ``actual`` holds NaN or infinity."""
    array = np.asarray(actual, dtype=np.float64)
    if array.size and not np.all(np.isfinite(array)):
        raise AssertionError(f"{what} contains NaN or infinity ({array.ravel()[:6]}). "
                             f"Likely mistake: {mistake}")


def expect_triple(value, what: str) -> list[np.ndarray]:
    assert isinstance(value, list) and len(value) == 3, (
        f"{what} returned {type(value).__name__}, expected a tuple (precision, recall, f1)")
    return [f64(item) for item in value]


TIES = ("ties: the predicted label is the argmax taking the FIRST (lowest) index among "
        "tied maxima, as np.argmax does; yours takes the last")
BROADCAST = ("(N, 1) labels broadcast against (N,) predictions into an (N, N) comparison: "
             "flatten y_true first (y_true.reshape(-1))")


# --------------------------------------------------------------------------- known mistakes


def accuracy_mistakes(case: Case, predicted: np.ndarray, expected: float) -> list[Mistake]:
    n = len(case.labels)
    return [
        Mistake(BROADCAST, lambda: np.mean(case.y_true == predicted)
                if case.y_true.ndim == 2 and n > 1 else math.nan),
        Mistake(TIES, lambda: np.mean(last_argmax(case.probs) == case.labels)),
        Mistake("you returned the number of right predictions; accuracy is the fraction "
                "(divide by N)", lambda: expected * n),
        Mistake("this is the error rate, 1 - accuracy", lambda: 1 - expected),
    ]


def confusion_mistakes(case: Case, expected: np.ndarray, from_probs: bool) -> list[Mistake]:
    k = case.num_classes
    last = np.zeros((k, k))
    np.add.at(last, (case.labels, last_argmax(case.probs)), 1)
    mistakes = [
        Mistake("the matrix is transposed: rows must be the TRUE classes and columns the "
                "PREDICTED classes (matrix[t, p])", lambda: expected.T),
        Mistake("the counts are normalised; the confusion matrix holds counts",
                lambda: expected / len(case.labels)),
        Mistake("each row is normalised; the confusion matrix holds counts",
                lambda: expected / np.maximum(expected.sum(axis=1, keepdims=True), 1)),
    ]
    if from_probs:
        mistakes.insert(1, Mistake(TIES, lambda: last))
        mistakes.insert(2, Mistake("the matrix is transposed, and " + TIES, lambda: last.T))
    return mistakes


def ratios(case: Case, predicted: np.ndarray):
    k = case.num_classes
    matrix = np.zeros((k, k))
    np.add.at(matrix, (case.labels, predicted), 1)
    hits, columns, rows = np.diag(matrix), matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(hits / columns), np.nan_to_num(hits / rows)


def precision_mistakes(case: Case, precision, recall, f1, which: str) -> list[Mistake]:
    swap = ("precision and recall are swapped: precision divides the hits by how often the "
            "class is PREDICTED (a column sum), recall by how often it is TRUE (a row sum)")
    last_p, last_r = ratios(case, last_argmax(case.probs))
    harmonic = np.divide(2 * last_p * last_r, last_p + last_r, out=np.zeros_like(last_p),
                         where=last_p + last_r > 0)
    mistakes = {
        "precision": [Mistake(swap, lambda: recall), Mistake(TIES, lambda: last_p)],
        "recall": [Mistake(swap, lambda: precision), Mistake(TIES, lambda: last_r)],
        "f1": [Mistake("F1 is the harmonic mean 2PR / (P + R), not the arithmetic mean",
                       lambda: (precision + recall) / 2),
               Mistake("F1 is 2PR / (P + R): the factor 2 is missing",
                       lambda: f1 / 2),
               Mistake(TIES, lambda: harmonic)],
    }
    return mistakes[which]


def outranked(probs: np.ndarray, labels: np.ndarray, rule: str) -> np.ndarray:
    """How many classes outrank each true class under a tie ``rule``."""
    rows = np.arange(len(labels))
    true = probs[rows, labels][:, None]
    index = np.arange(probs.shape[1])[None, :]
    ties = probs == true
    if rule == "lower":
        ties &= index < labels[:, None]
    elif rule == "higher":
        ties &= index > labels[:, None]
    elif rule == "never":
        ties &= False
    elif rule == "always":
        ties &= index != labels[:, None]
    return ((probs > true) | ties).sum(axis=1)


def top_k_mistakes(case: Case, probs: np.ndarray, k: int, expected: float) -> list[Mistake]:
    labels = case.labels

    def rate(rule, cut=k):
        return np.mean(outranked(probs, labels, rule) < cut)

    return [
        Mistake("ties go the wrong way: a class that ties with the true class outranks it "
                "only if its index is lower (ties go to the lower index, as argmax)",
                lambda: rate("higher")),
        Mistake("ties go the wrong way: a class that ties with the true class outranks it "
                "only if its index is lower (you never let a tie outrank it)",
                lambda: rate("never")),
        Mistake("ties go the wrong way: a class that ties with the true class outranks it "
                "only if its index is lower (you let every tie outrank it)",
                lambda: rate("always")),
        Mistake("off by one: an example is right when FEWER than k classes outrank its "
                "true class", lambda: rate("lower", k + 1)),
        Mistake("off by one: an example is right when fewer than k (not k - 1) classes "
                "outrank its true class", lambda: rate("lower", k - 1)),
        Mistake("you returned a count; top-k accuracy is a fraction (divide by N)",
                lambda: expected * len(labels)),
    ]


def log_loss_mistakes(case: Case, probs: np.ndarray, eps: float, expected: float):
    n = len(case.labels)
    clipped = np.clip(probs, eps, 1 - eps)
    picked = clipped[np.arange(n), case.labels]
    mistakes = [
        Mistake("you summed over the examples; take the mean", lambda: expected * n),
        Mistake("the sign: the loss is the NEGATIVE mean log-probability", lambda: -expected),
        Mistake("only the true class's probability counts, not every entry of probs",
                lambda: -np.mean(np.log(clipped))),
        Mistake("you averaged over all N * K entries after picking the true class "
                "(one-hot mask): divide by N", lambda: -np.sum(np.log(picked)) / probs.size),
        Mistake("use the natural logarithm (np.log), not log2", lambda: expected / math.log(2)),
        Mistake("use the natural logarithm (np.log), not log10",
                lambda: expected / math.log(10)),
        Mistake("this is the mean of the clipped probabilities; take -log first",
                lambda: np.mean(picked)),
    ]
    if case.y_true.ndim == 2 and n > 1:
        mistakes.insert(0, Mistake(BROADCAST.replace("predictions", "row indices"), lambda: float(
            -np.mean(np.log(clipped[np.arange(n), case.y_true.astype(np.int64)])))))
    return mistakes


def binned(confidence, correct, n_bins, assign):
    bins = assign(confidence)
    terms = []
    for b in range(n_bins):
        members = bins == b
        if members.any():
            terms.append((members.mean(), correct[members].mean(), confidence[members].mean()))
    return terms


def ece_mistakes(case: Case, probs: np.ndarray, n_bins: int, expected: float):
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == case.labels).astype(np.float64)
    last_correct = (last_argmax(probs) == case.labels).astype(np.float64)

    def floor_bins(c):
        return np.minimum(np.floor(c * n_bins), n_bins - 1)

    def unclipped(c):
        return np.floor(c * n_bins)  # confidence 1.0 -> bin n_bins, never visited

    def right_closed(c):
        return np.clip(np.ceil(c * n_bins) - 1, 0, n_bins - 1)

    def ece(terms):
        return sum(share * abs(acc - conf) for share, acc, conf in terms)

    terms = binned(confidence, correct, n_bins, floor_bins)
    return [
        Mistake("a confidence of exactly 1.0 must go to the last bin (index n_bins - 1): "
                "bin = min(floor(confidence * n_bins), n_bins - 1); yours drops it",
                lambda: ece(binned(confidence, correct, n_bins, unclipped))),
        Mistake("bin edges: a confidence b / n_bins on an edge goes to bin b "
                "(floor(confidence * n_bins)), not to the bin below",
                lambda: ece(binned(confidence, correct, n_bins, right_closed))),
        Mistake(TIES, lambda: ece(binned(confidence, last_correct, n_bins, floor_bins))),
        Mistake("each bin's gap must be weighted by its share of the examples, n_b / N; "
                "you averaged over the non-empty bins",
                lambda: np.mean([abs(a - c) for _, a, c in terms])),
        Mistake("each bin's gap must be weighted by its share of the examples, n_b / N; "
                "you divided by n_bins", lambda: sum(abs(a - c) for _, a, c in terms) / n_bins),
        Mistake("take the absolute value of each bin's gap |accuracy - confidence|",
                lambda: abs(sum(s * (a - c) for s, a, c in terms))),
        Mistake("that is the maximum calibration error (the largest gap); ECE is the "
                "weighted sum over bins", lambda: max(abs(a - c) for _, a, c in terms)),
    ]


# --------------------------------------------------------------------------- against the reference


@given(case=cases(), as_labels=st.booleans(), kind=prob_dtypes)
def test_accuracy_matches_the_reference(metrics, ref, case, as_labels, kind):
    probs = float32_or_64(case.probs, kind)
    y_pred = case.predicted if as_labels else probs
    expected = f64(ref.accuracy(case.labels, y_pred))
    actual = metrics.accuracy(case.y_true, y_pred)
    assert isinstance(actual, float), (
        f"accuracy returned {type(actual).__name__}, expected a Python float")
    expect_close(actual, expected, what=f"accuracy(y_true of shape {case.y_true.shape}, "
                 f"{'labels' if as_labels else 'probabilities'} of shape {y_pred.shape})",
                 mistakes=accuracy_mistakes(case, case.predicted, float(expected)))


@given(case=cases(shape="column", min_examples=2))
def test_accuracy_of_n_by_1_labels_matches_the_reference(metrics, ref, case):
    expected = f64(ref.accuracy(case.labels, case.predicted))
    expect_close(metrics.accuracy(case.y_true, case.predicted), expected,
                 what=f"accuracy(y_true of shape {case.y_true.shape}, predicted labels of "
                      f"shape {case.predicted.shape})",
                 mistakes=accuracy_mistakes(case, case.predicted, float(expected)))


@given(case=cases(), as_labels=st.booleans(), kind=prob_dtypes)
def test_confusion_matrix_matches_the_reference(metrics, ref, case, as_labels, kind):
    y_pred = case.predicted if as_labels else float32_or_64(case.probs, kind)
    expected = f64(ref.confusion_matrix(case.labels, y_pred, case.num_classes))
    actual = metrics.confusion_matrix(case.y_true, y_pred, case.num_classes)
    expect_close(actual, expected, what=f"confusion_matrix(y_true of shape "
                 f"{case.y_true.shape}, y_pred of shape {y_pred.shape}, "
                 f"num_classes={case.num_classes})",
                 mistakes=confusion_mistakes(case, expected, not as_labels))
    assert np.issubdtype(np.asarray(actual).dtype, np.integer), (
        f"confusion_matrix has dtype {np.asarray(actual).dtype}, expected integer counts")


@given(case=cases(max_classes=6), as_labels=st.booleans())
def test_precision_recall_f1_match_the_reference(metrics, ref, case, as_labels):
    y_pred = case.predicted if as_labels else case.probs
    expected = expect_triple(ref.precision_recall_f1(case.labels, y_pred, case.num_classes),
                             "reference")
    actual = expect_triple(metrics.precision_recall_f1(case.y_true, y_pred, case.num_classes),
                           "precision_recall_f1")
    for name, got, want in zip(("precision", "recall", "f1"), actual, expected):
        what = f"{name} from precision_recall_f1 (num_classes={case.num_classes})"
        expect_finite(got, what=what, mistake="where a ratio is 0/0 (a class never predicted, "
                      "or absent from y_true) the value is defined as 0, never NaN")
        expect_close(got, want, what=what, mistakes=precision_mistakes(case, *expected, name))


@given(case=cases(), kind=prob_dtypes, data=st.data())
def test_top_k_accuracy_matches_the_reference(metrics, ref, case, kind, data):
    probs = float32_or_64(case.probs, kind)
    k = data.draw(st.integers(1, case.num_classes), label="k")
    expected = f64(ref.top_k_accuracy(case.labels, probs, k))
    expect_close(metrics.top_k_accuracy(case.y_true, probs, k), expected,
                 what=f"top_k_accuracy(k={k}, {case.num_classes} classes)",
                 mistakes=top_k_mistakes(case, f64(probs), k, float(expected)))


@given(case=cases(), kind=prob_dtypes, eps=st.sampled_from([None, 1e-7, 1e-3, 0.05]))
def test_log_loss_matches_the_reference(metrics, ref, case, kind, eps):
    probs = float32_or_64(case.probs, kind)
    options = {} if eps is None else {"eps": eps}
    expected = f64(ref.log_loss(case.labels, probs, **options))
    actual = metrics.log_loss(case.y_true, probs, **options)
    what = f"log_loss({'' if eps is None else f'eps={eps}'})"
    expect_finite(actual, what=what, mistake="the probabilities are not clipped to "
                  "[eps, 1 - eps] before the log (a true class of probability 0 gives "
                  "log(0) = -inf)")
    expect_close(actual, expected, what=what, mistakes=log_loss_mistakes(
        case, f64(probs), 1e-7 if eps is None else eps, float(expected)))


@given(case=cases(max_examples=16), kind=prob_dtypes,
       n_bins=st.one_of(st.none(), st.sampled_from([1, 2, 4, 5, 8, 10]), st.integers(1, 20)))
def test_expected_calibration_error_matches_the_reference(metrics, ref, case, kind, n_bins):
    probs = float32_or_64(case.probs, kind)
    options = {} if n_bins is None else {"n_bins": n_bins}
    expected = f64(ref.expected_calibration_error(case.labels, probs, **options))
    actual = metrics.expected_calibration_error(case.y_true, probs, **options)
    what = f"expected_calibration_error(n_bins={15 if n_bins is None else n_bins})"
    expect_finite(actual, what=what, mistake="an empty bin gives 0/0: skip empty bins")
    expect_close(actual, expected, what=what, mistakes=ece_mistakes(
        case, f64(probs), 15 if n_bins is None else n_bins, float(expected)))


# --------------------------------------------------------------------------- properties


@given(case=cases(), shape=label_shapes(), seed=st.integers(0, 2**16))
def test_metrics_do_not_depend_on_the_order_of_the_examples(metrics, case, shape, seed):
    order = np.random.default_rng(seed).permutation(len(case.labels))
    y_true, probs = shaped(case.labels[order], shape), case.probs[order]
    k = case.num_classes
    pairs = [
        ("accuracy", metrics.accuracy(case.y_true, case.probs), metrics.accuracy(y_true, probs)),
        ("confusion_matrix", metrics.confusion_matrix(case.y_true, case.probs, k),
         metrics.confusion_matrix(y_true, probs, k)),
        ("top_k_accuracy(k=2)", metrics.top_k_accuracy(case.y_true, case.probs, 2),
         metrics.top_k_accuracy(y_true, probs, 2)),
        ("log_loss", metrics.log_loss(case.y_true, case.probs), metrics.log_loss(y_true, probs)),
        ("expected_calibration_error",
         metrics.expected_calibration_error(case.y_true, case.probs),
         metrics.expected_calibration_error(y_true, probs)),
    ]
    for name, before, after in pairs:
        expect_close(after, before, what=f"{name} of the shuffled examples ({shape} labels)")


@given(case=cases(), seed=st.integers(0, 2**16))
def test_renaming_classes_permutes_the_confusion_matrix(metrics, case, seed):
    k = case.num_classes
    rename = np.random.default_rng(seed).permutation(k)
    matrix = f64(metrics.confusion_matrix(case.y_true, case.predicted, k))
    renamed = f64(metrics.confusion_matrix(rename[case.labels], rename[case.predicted], k))
    expected = np.zeros_like(matrix)
    expected[np.ix_(rename, rename)] = matrix
    expect_close(renamed, expected, what=f"confusion_matrix after renaming class c to "
                 f"{rename.tolist()}[c]")
    results = [f64(v) for v in metrics.precision_recall_f1(rename[case.labels],
                                                           rename[case.predicted], k)]
    originals = [f64(v) for v in metrics.precision_recall_f1(case.y_true, case.predicted, k)]
    for name, got, before in zip(("precision", "recall", "f1"), results, originals):
        expect_close(got[rename], before, what=f"{name} after renaming the classes")


@given(case=cases())
def test_bounds_of_every_statistic(metrics, case):
    k = case.num_classes
    for name, value in [
        ("accuracy", metrics.accuracy(case.y_true, case.probs)),
        ("top_k_accuracy(k=1)", metrics.top_k_accuracy(case.y_true, case.probs, 1)),
        ("expected_calibration_error", metrics.expected_calibration_error(case.y_true,
                                                                          case.probs)),
        *zip(("precision", "recall", "f1"),
             metrics.precision_recall_f1(case.y_true, case.probs, k)),
    ]:
        array = f64(value)
        assert np.all((array >= -1e-12) & (array <= 1 + 1e-12)), (
            f"{name} = {array}, expected values in [0, 1]")
    loss = float(f64(metrics.log_loss(case.y_true, case.probs)))
    assert 0 <= loss <= -math.log(1e-7) + 1e-6, (
        f"log_loss = {loss}, expected a value in [0, -log(eps)] after clipping")
    expect_close(metrics.top_k_accuracy(case.y_true, case.probs, k + 2), 1.0,
                 what=f"top_k_accuracy(k={k + 2}) for {k} classes")


@given(case=cases())
def test_one_hot_probabilities_are_perfectly_confident(metrics, case):
    probs = np.eye(case.num_classes)[case.predicted]
    right = float(np.mean(case.predicted == case.labels))
    expect_close(metrics.expected_calibration_error(case.y_true, probs), 1 - right,
                 what="expected_calibration_error of one-hot probabilities (every confidence "
                      "is exactly 1.0, in the last bin)",
                 mistakes=[Mistake("a confidence of exactly 1.0 must go to the last bin "
                                   "(index n_bins - 1); yours drops it", lambda: 0.0)])


# --------------------------------------------------------------------------- errors


def test_confusion_matrix_rejects_predicted_labels_outside_the_classes(metrics):
    metrics.confusion_matrix([0, 1, 2], [0, 1, 2], 3)
    expect_error("ValueError", lambda: metrics.confusion_matrix([0, 1, 2], [0, 3, 2], 3),
                 what="confusion_matrix(y_pred=[0, 3, 2], num_classes=3)",
                 because="predicted labels must lie in [0, K)")
    expect_error("ValueError", lambda: metrics.confusion_matrix([0, 1, 2], [0, -1, 2], 3),
                 what="confusion_matrix(y_pred=[0, -1, 2], num_classes=3)",
                 because="predicted labels must lie in [0, K)")


@pytest.mark.parametrize("name", ["accuracy", "confusion_matrix", "precision_recall_f1"])
def test_label_predictions_of_another_length_are_rejected(metrics, name):
    call = getattr(metrics, name)
    extra = () if name == "accuracy" else (3,)
    call([0, 1, 2], [0, 1, 1], *extra)
    expect_error("ValueError", lambda: call([0, 1, 2], [0, 1], *extra),
                 what=f"{name} of 3 labels and 2 predicted labels",
                 because="broadcasting would silently compare the wrong examples")
    expect_error("ValueError", lambda: call([[0, 1], [1, 2]], [0, 1, 1, 2], *extra),
                 what=f"{name} with y_true of shape (2, 2)",
                 because="labels must be (N,) or (N, 1)")


@pytest.mark.parametrize("name", ["top_k_accuracy", "log_loss", "expected_calibration_error"])
def test_probabilities_of_three_dimensions_are_rejected(metrics, name):
    call = getattr(metrics, name)
    extra = (1,) if name == "top_k_accuracy" else ()
    call([0, 1], np.full((2, 2), 0.5), *extra)
    expect_error("ValueError", lambda: call([0, 1], np.full((2, 2, 2), 0.5), *extra),
                 what=f"{name} with probabilities of shape (2, 2, 2)",
                 because="probabilities must be (N, K)")
    expect_error("ValueError", lambda: call([0, -1], np.full((2, 2), 0.5), *extra),
                 what=f"{name} with the label -1", because="labels must lie in [0, K)")
