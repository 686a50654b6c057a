"""Hidden tests for ``metrics.py``: the candidate against the reference solutions.

Inputs are drawn by hypothesis (derandomised when grading) with argmax ties, one-hot rows
and true classes of probability exactly 0 or 1; the reference (``--reference``) computes
the expected value; a wrong value is matched against the values that the usual mistakes
give (``tests/support/mistakes/metrics.py``, shared with the public tests), so that the
feedback can name the mistake.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close, expect_error
from tests.support.metrics_strategies import (
    cases,
    float32_or_64,
    label_shapes,
    prob_dtypes,
    shaped,
)
from tests.support.mistakes import metrics as mistakes

pytestmark = [pytest.mark.hidden, pytest.mark.task("metrics")]


@pytest.fixture(scope="module")
def metrics(candidate):
    return candidate.module("metrics")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("metrics")


def f64(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def expect_triple(value, what: str) -> list[np.ndarray]:
    assert isinstance(value, list) and len(value) == 3, (
        f"{what} returned {type(value).__name__}, expected a tuple (precision, recall, f1)"
    )
    return [f64(item) for item in value]


# --------------------------------------------------------------------------- against the reference


@given(case=cases(), as_labels=st.booleans(), kind=prob_dtypes)
def test_accuracy_matches_the_reference(metrics, ref, case, as_labels, kind):
    probs = float32_or_64(case.probs, kind)
    y_pred = case.predicted if as_labels else probs
    expected = f64(ref.accuracy(case.labels, y_pred))
    actual = metrics.accuracy(case.y_true, y_pred)
    assert isinstance(actual, float), (
        f"accuracy returned {type(actual).__name__}, expected a Python float"
    )
    expect_close(
        actual,
        expected,
        what=f"accuracy(y_true of shape {case.y_true.shape}, "
        f"{'labels' if as_labels else 'probabilities'} of shape {y_pred.shape})",
        mistakes=mistakes.accuracy(case.y_true, case.labels, y_pred, float(expected)),
    )


@given(case=cases(shape="column", min_examples=2))
def test_accuracy_of_n_by_1_labels_matches_the_reference(metrics, ref, case):
    expected = f64(ref.accuracy(case.labels, case.predicted))
    expect_close(
        metrics.accuracy(case.y_true, case.predicted),
        expected,
        what=f"accuracy(y_true of shape {case.y_true.shape}, predicted labels of "
        f"shape {case.predicted.shape})",
        mistakes=mistakes.accuracy(case.y_true, case.labels, case.predicted, float(expected)),
    )


@given(case=cases(), as_labels=st.booleans(), kind=prob_dtypes)
def test_confusion_matrix_matches_the_reference(metrics, ref, case, as_labels, kind):
    y_pred = case.predicted if as_labels else float32_or_64(case.probs, kind)
    expected = f64(ref.confusion_matrix(case.labels, y_pred, case.num_classes))
    actual = metrics.confusion_matrix(case.y_true, y_pred, case.num_classes)
    expect_close(
        actual,
        expected,
        what=f"confusion_matrix(y_true of shape "
        f"{case.y_true.shape}, y_pred of shape {y_pred.shape}, "
        f"num_classes={case.num_classes})",
        mistakes=mistakes.confusion_matrix(case.labels, y_pred, case.num_classes, expected),
    )
    assert np.issubdtype(np.asarray(actual).dtype, np.integer), (
        f"confusion_matrix has dtype {np.asarray(actual).dtype}, expected integer counts"
    )


@given(case=cases(max_classes=6), as_labels=st.booleans())
def test_precision_recall_f1_match_the_reference(metrics, ref, case, as_labels):
    y_pred = case.predicted if as_labels else case.probs
    expected = expect_triple(
        ref.precision_recall_f1(case.labels, y_pred, case.num_classes), "reference"
    )
    actual = expect_triple(
        metrics.precision_recall_f1(case.y_true, y_pred, case.num_classes), "precision_recall_f1"
    )
    for name, got, want in zip(("precision", "recall", "f1"), actual, expected):
        what = f"{name} from precision_recall_f1 (num_classes={case.num_classes})"
        mistakes.expect_finite(got, what=what, mistake=mistakes.UNDEFINED)
        expect_close(
            got,
            want,
            what=what,
            mistakes=mistakes.precision_recall_f1(
                case.labels, y_pred, case.num_classes, expected, name
            ),
        )


@given(case=cases(), kind=prob_dtypes, data=st.data())
def test_top_k_accuracy_matches_the_reference(metrics, ref, case, kind, data):
    probs = float32_or_64(case.probs, kind)
    k = data.draw(st.integers(1, case.num_classes), label="k")
    expected = f64(ref.top_k_accuracy(case.labels, probs, k))
    expect_close(
        metrics.top_k_accuracy(case.y_true, probs, k),
        expected,
        what=f"top_k_accuracy(k={k}, {case.num_classes} classes)",
        mistakes=mistakes.top_k_accuracy(case.labels, f64(probs), k, float(expected)),
    )


@given(case=cases(), kind=prob_dtypes, eps=st.sampled_from([None, 1e-7, 1e-3, 0.05]))
def test_log_loss_matches_the_reference(metrics, ref, case, kind, eps):
    probs = float32_or_64(case.probs, kind)
    options = {} if eps is None else {"eps": eps}
    expected = f64(ref.log_loss(case.labels, probs, **options))
    actual = metrics.log_loss(case.y_true, probs, **options)
    what = f"log_loss({'' if eps is None else f'eps={eps}'})"
    mistakes.expect_finite(actual, what=what, mistake=mistakes.UNCLIPPED)
    expect_close(
        actual,
        expected,
        what=what,
        mistakes=mistakes.log_loss(
            case.y_true, case.labels, f64(probs), 1e-7 if eps is None else eps, float(expected)
        ),
    )


@given(
    case=cases(max_examples=16),
    kind=prob_dtypes,
    n_bins=st.one_of(st.none(), st.sampled_from([1, 2, 4, 5, 8, 10]), st.integers(1, 20)),
)
def test_expected_calibration_error_matches_the_reference(metrics, ref, case, kind, n_bins):
    probs = float32_or_64(case.probs, kind)
    options = {} if n_bins is None else {"n_bins": n_bins}
    expected = f64(ref.expected_calibration_error(case.labels, probs, **options))
    actual = metrics.expected_calibration_error(case.y_true, probs, **options)
    what = f"expected_calibration_error(n_bins={15 if n_bins is None else n_bins})"
    mistakes.expect_finite(actual, what=what, mistake=mistakes.ECE_EMPTY_BIN)
    n_bins = 15 if n_bins is None else n_bins
    if not mistakes.ece_accepted(actual, case.labels, f64(probs), n_bins):
        expect_close(
            actual,
            expected,
            what=what,
            mistakes=mistakes.expected_calibration_error(case.labels, f64(probs), n_bins),
        )


LABEL_METRICS = ("accuracy", "confusion_matrix", "precision_recall_f1")


# Small calls on which every classic mistake gives its own value, so that it is named; in two
# tests, so that each lands in its own nbgrader check cell (label and probability metrics).
@pytest.mark.parametrize(
    "example",
    [name for name, (function, _, _) in mistakes.TELLING.items() if function in LABEL_METRICS],
)
def test_label_metrics_match_the_reference_on_telling_examples(metrics, ref, example):
    telling_example_matches_the_reference(metrics, ref, example)


@pytest.mark.parametrize(
    "example",
    [name for name, (function, _, _) in mistakes.TELLING.items() if function not in LABEL_METRICS],
)
def test_probability_metrics_match_the_reference_on_telling_examples(metrics, ref, example):
    telling_example_matches_the_reference(metrics, ref, example)


def telling_example_matches_the_reference(metrics, ref, example):
    function, args, kwargs = mistakes.TELLING[example]
    expected = getattr(ref, function)(*args, **kwargs)
    actual = getattr(metrics, function)(*args, **kwargs)
    known = mistakes.for_call(function, args, kwargs, expected)
    if function == "precision_recall_f1":
        actual, expected = expect_triple(actual, example), expect_triple(expected, "reference")
        for name, got, want in zip(("precision", "recall", "f1"), actual, expected):
            mistakes.expect_finite(got, what=f"{name}: {example}", mistake=mistakes.UNDEFINED)
            expect_close(got, want, what=f"{name}: {example}", mistakes=known[name])
        return
    if function in ("log_loss", "expected_calibration_error"):
        mistakes.expect_finite(
            actual,
            what=example,
            mistake=mistakes.UNCLIPPED if function == "log_loss" else mistakes.ECE_EMPTY_BIN,
        )
    if function == "expected_calibration_error" and mistakes.ece_accepted(
        actual, np.asarray(args[0]), args[1], kwargs["n_bins"]
    ):
        return
    expect_close(actual, f64(expected), what=example, mistakes=known)


# --------------------------------------------------------------------------- properties


@given(case=cases(), shape=label_shapes(), seed=st.integers(0, 2**16))
def test_metrics_do_not_depend_on_the_order_of_the_examples(metrics, case, shape, seed):
    order = np.random.default_rng(seed).permutation(len(case.labels))
    y_true, probs = shaped(case.labels[order], shape), case.probs[order]
    k = case.num_classes
    pairs = [
        ("accuracy", metrics.accuracy(case.y_true, case.probs), metrics.accuracy(y_true, probs)),
        (
            "confusion_matrix",
            metrics.confusion_matrix(case.y_true, case.probs, k),
            metrics.confusion_matrix(y_true, probs, k),
        ),
        (
            "top_k_accuracy(k=2)",
            metrics.top_k_accuracy(case.y_true, case.probs, 2),
            metrics.top_k_accuracy(y_true, probs, 2),
        ),
        ("log_loss", metrics.log_loss(case.y_true, case.probs), metrics.log_loss(y_true, probs)),
        (
            "expected_calibration_error",
            metrics.expected_calibration_error(case.y_true, case.probs),
            metrics.expected_calibration_error(y_true, probs),
        ),
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
    expect_close(
        renamed, expected, what=f"confusion_matrix after renaming class c to {rename.tolist()}[c]"
    )
    results = [
        f64(v) for v in metrics.precision_recall_f1(rename[case.labels], rename[case.predicted], k)
    ]
    originals = [f64(v) for v in metrics.precision_recall_f1(case.y_true, case.predicted, k)]
    for name, got, before in zip(("precision", "recall", "f1"), results, originals):
        expect_close(got[rename], before, what=f"{name} after renaming the classes")


@given(case=cases())
def test_bounds_of_every_statistic(metrics, case):
    k = case.num_classes
    for name, value in [
        ("accuracy", metrics.accuracy(case.y_true, case.probs)),
        ("top_k_accuracy(k=1)", metrics.top_k_accuracy(case.y_true, case.probs, 1)),
        ("expected_calibration_error", metrics.expected_calibration_error(case.y_true, case.probs)),
        *zip(
            ("precision", "recall", "f1"), metrics.precision_recall_f1(case.y_true, case.probs, k)
        ),
    ]:
        array = f64(value)
        assert np.all((array >= -1e-12) & (array <= 1 + 1e-12)), (
            f"{name} = {array}, expected values in [0, 1]"
        )
    loss = float(f64(metrics.log_loss(case.y_true, case.probs)))
    assert 0 <= loss <= -math.log(1e-7) + 1e-6, (
        f"log_loss = {loss}, expected a value in [0, -log(eps)] after clipping"
    )
    expect_close(
        metrics.top_k_accuracy(case.y_true, case.probs, k + 2),
        1.0,
        what=f"top_k_accuracy(k={k + 2}) for {k} classes",
    )


@given(case=cases())
def test_one_hot_probabilities_are_perfectly_confident(metrics, case):
    probs = np.eye(case.num_classes)[case.predicted]
    right = float(np.mean(case.predicted == case.labels))
    expect_close(
        metrics.expected_calibration_error(case.y_true, probs),
        1 - right,
        what="expected_calibration_error of one-hot probabilities (every confidence "
        "is exactly 1.0, in the last bin)",
        mistakes=[Mistake(mistakes.ECE_DROPS_ONE, lambda: 0.0)],
    )


# --------------------------------------------------------------------------- errors


def test_confusion_matrix_rejects_predicted_labels_outside_the_classes(metrics):
    metrics.confusion_matrix([0, 1, 2], [0, 1, 2], 3)
    expect_error(
        "ValueError",
        lambda: metrics.confusion_matrix([0, 1, 2], [0, 3, 2], 3),
        what="confusion_matrix(y_pred=[0, 3, 2], num_classes=3)",
        because="predicted labels must lie in [0, K)",
    )
    expect_error(
        "ValueError",
        lambda: metrics.confusion_matrix([0, 1, 2], [0, -1, 2], 3),
        what="confusion_matrix(y_pred=[0, -1, 2], num_classes=3)",
        because="predicted labels must lie in [0, K)",
    )


@pytest.mark.parametrize("name", ["accuracy", "confusion_matrix", "precision_recall_f1"])
def test_label_predictions_of_another_length_are_rejected(metrics, name):
    call = getattr(metrics, name)
    extra = () if name == "accuracy" else (3,)
    call([0, 1, 2], [0, 1, 1], *extra)
    expect_error(
        "ValueError",
        lambda: call([0, 1, 2], [0, 1], *extra),
        what=f"{name} of 3 labels and 2 predicted labels",
        because="broadcasting would silently compare the wrong examples",
    )
    expect_error(
        "ValueError",
        lambda: call([[0, 1], [1, 2]], [0, 1, 1, 2], *extra),
        what=f"{name} with y_true of shape (2, 2)",
        because="labels must be (N,) or (N, 1)",
    )


@pytest.mark.parametrize("name", ["top_k_accuracy", "log_loss", "expected_calibration_error"])
def test_probabilities_of_three_dimensions_are_rejected(metrics, name):
    call = getattr(metrics, name)
    extra = (1,) if name == "top_k_accuracy" else ()
    call([0, 1], np.full((2, 2), 0.5), *extra)
    expect_error(
        "ValueError",
        lambda: call([0, 1], np.full((2, 2, 2), 0.5), *extra),
        what=f"{name} with probabilities of shape (2, 2, 2)",
        because="probabilities must be (N, K)",
    )
    expect_error(
        "ValueError",
        lambda: call([0, -1], np.full((2, 2), 0.5), *extra),
        what=f"{name} with the label -1",
        because="labels must lie in [0, K)",
    )
