"""Public tests for ``metrics.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_metrics.py`` (or ``grader check metrics``).
They need no reference solution: each checks a definition from the module's docstrings,
computed here the slow, obvious way, or a property that follows from it. A wrong value is
compared with what the classic mistakes give (``tests/support/mistakes/metrics.py``), so
the failure names the mistake when its symptom is there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close, expect_error
from tests.support.metrics_strategies import cases, first_argmax, label_shapes, shaped
from tests.support.mistakes import metrics as mistakes

pytestmark = [pytest.mark.public, pytest.mark.task("metrics")]


@pytest.fixture(scope="module")
def metrics(candidate):
    return candidate.module("metrics")


def number(value, what: str) -> float:
    array = np.asarray(value, dtype=np.float64)
    assert array.size == 1, f"{what} has shape {array.shape}, expected a single number"
    return float(array.reshape(()))


def triple(value, what: str) -> list[np.ndarray]:
    assert isinstance(value, list) and len(value) == 3, (
        f"{what} returned {type(value).__name__}, expected a tuple (precision, recall, f1)"
    )
    return [np.asarray(item, dtype=np.float64) for item in value]


# The handout's worked example.
EXAMPLE_LABELS = np.array([0, 1, 2, 2])
EXAMPLE_PROBS = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])


# --------------------------------------------------------------------------- accuracy


def test_accuracy_of_the_worked_example(metrics):
    value = number(metrics.accuracy(EXAMPLE_LABELS, EXAMPLE_PROBS), "accuracy")
    expect_close(
        value,
        0.5,
        what="accuracy of the worked example (row 2 is a tie: the "
        "first index, class 0, is predicted)",
        mistakes=mistakes.accuracy(EXAMPLE_LABELS, EXAMPLE_LABELS, EXAMPLE_PROBS, 0.5),
    )


@pytest.mark.value_test
@given(case=cases())
def test_accuracy_is_the_fraction_of_right_labels(metrics, case):
    predicted = first_argmax(case.probs)
    right = sum(int(p == t) for p, t in zip(predicted, case.labels))
    value = metrics.accuracy(case.y_true, predicted)
    assert isinstance(value, float), (
        f"accuracy returned {type(value).__name__}, expected a Python float"
    )
    expect_close(
        value,
        right / len(case.labels),
        what=f"accuracy(y_true of shape {case.y_true.shape}, {len(predicted)} "
        f"predicted labels) with {right} right",
        mistakes=mistakes.accuracy(case.y_true, case.labels, predicted, right / len(case.labels)),
    )


def test_accuracy_of_n_by_1_labels_compares_example_by_example(metrics):
    y_true = np.array([[0], [1], [1]])
    expect_close(
        metrics.accuracy(y_true, np.array([0, 1, 0])),
        2 / 3,
        what="accuracy([[0], [1], [1]], [0, 1, 0])",
        mistakes=mistakes.accuracy(y_true, y_true.reshape(-1), np.array([0, 1, 0]), 2 / 3),
    )


@given(case=cases())
def test_accuracy_of_probabilities_uses_the_first_argmax(metrics, case):
    expected = float(np.mean(first_argmax(case.probs) == case.labels))
    expect_close(
        metrics.accuracy(case.y_true, case.probs),
        expected,
        what=f"accuracy(y_true of shape {case.y_true.shape}, probs of shape {case.probs.shape})",
        mistakes=mistakes.accuracy(case.y_true, case.labels, case.probs, expected),
    )


@given(case=cases(), shape=label_shapes())
def test_accuracy_does_not_depend_on_the_labels_shape(metrics, case, shape):
    flat = number(metrics.accuracy(case.labels, case.probs), "accuracy")
    y_true, y_pred = shaped(case.labels, shape), shaped(case.predicted, shape)
    value = number(metrics.accuracy(y_true, y_pred), "accuracy")
    expect_close(
        value,
        flat,
        what=f"accuracy(y_true of shape {y_true.shape}, labels of "
        f"shape {y_pred.shape}) against accuracy(y_true of shape (N,), probs)",
        mistakes=mistakes.accuracy(y_true, case.labels, case.predicted, flat),
    )
    assert 0.0 <= flat <= 1.0, f"accuracy = {flat}, expected a fraction in [0, 1]"


# --------------------------------------------------------------------------- confusion matrix


def test_confusion_matrix_of_the_worked_example(metrics):
    matrix = metrics.confusion_matrix(EXAMPLE_LABELS, EXAMPLE_PROBS, 3)
    expected = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1]])
    expect_close(
        matrix,
        expected,
        what="confusion_matrix of the worked example, num_classes=3",
        mistakes=mistakes.confusion_matrix(EXAMPLE_LABELS, EXAMPLE_PROBS, 3, expected),
    )


@pytest.mark.value_test
@given(case=cases())
def test_confusion_matrix_counts_true_class_by_predicted_class(metrics, case):
    k = case.num_classes
    expected = np.zeros((k, k))
    for true, predicted in zip(case.labels, case.predicted):
        expected[true, predicted] += 1
    matrix = np.asarray(metrics.confusion_matrix(case.y_true, case.probs, k))
    assert np.issubdtype(matrix.dtype, np.integer), (
        f"confusion_matrix has dtype {matrix.dtype}, expected integer counts"
    )
    expect_close(
        matrix,
        expected,
        what=f"confusion_matrix(y_true of shape "
        f"{case.y_true.shape}, probs of shape {case.probs.shape}, num_classes={k})",
        mistakes=mistakes.confusion_matrix(case.labels, case.probs, k, expected),
    )


@given(case=cases())
def test_confusion_matrix_rows_and_columns_add_up(metrics, case):
    k = case.num_classes
    matrix = np.asarray(metrics.confusion_matrix(case.y_true, case.predicted, k))
    expect_close(
        matrix.sum(axis=1),
        np.bincount(case.labels, minlength=k),
        what="the row sums of confusion_matrix (the examples of each true class)",
        mistakes=[Mistake(mistakes.TRANSPOSED, lambda: np.bincount(case.predicted, minlength=k))],
    )
    expect_close(
        matrix.sum(axis=0),
        np.bincount(case.predicted, minlength=k),
        what="the column sums of confusion_matrix (the predictions of each class)",
    )
    expect_close(
        np.trace(matrix) / len(case.labels),
        number(metrics.accuracy(case.y_true, case.predicted), "accuracy"),
        what="trace(confusion_matrix) / N against accuracy",
    )


# --------------------------------------------------------------------------- precision, recall, F1


def test_precision_recall_f1_of_the_worked_example(metrics):
    actual = triple(
        metrics.precision_recall_f1(EXAMPLE_LABELS, EXAMPLE_PROBS, 3), "precision_recall_f1"
    )
    expected = [np.array([1 / 2, 0, 1]), np.array([1, 0, 1 / 2]), np.array([2 / 3, 0, 2 / 3])]
    for name, got, want in zip(("precision", "recall", "f1"), actual, expected):
        expect_close(
            got,
            want,
            what=f"{name} of the worked example",
            mistakes=mistakes.precision_recall_f1(EXAMPLE_LABELS, EXAMPLE_PROBS, 3, expected, name),
        )


def test_a_class_never_predicted_nor_true_scores_zero(metrics):
    predicted = np.array([0, 0, 2, 1])  # the worked example's predictions
    actual = triple(
        metrics.precision_recall_f1(EXAMPLE_LABELS, predicted, 4), "precision_recall_f1"
    )
    expected = [
        np.array([1 / 2, 0, 1, 0]),
        np.array([1, 0, 1 / 2, 0]),
        np.array([2 / 3, 0, 2 / 3, 0]),
    ]
    for name, got, want in zip(("precision", "recall", "f1"), actual, expected):
        what = f"{name} of precision_recall_f1([0, 1, 2, 2], [0, 0, 2, 1], num_classes=4)"
        mistakes.expect_finite(got, what=what, mistake=mistakes.UNDEFINED)
        expect_close(
            got,
            want,
            what=what,
            mistakes=mistakes.precision_recall_f1(EXAMPLE_LABELS, predicted, 4, expected, name),
        )


@pytest.mark.value_test
@given(case=cases(max_classes=6))
def test_precision_recall_f1_follow_their_definitions(metrics, case):
    k = case.num_classes
    precision, recall, f1 = triple(
        metrics.precision_recall_f1(case.y_true, case.probs, k), "precision_recall_f1"
    )
    expected = [np.zeros(k), np.zeros(k), np.zeros(k)]
    for c in range(k):
        hits = sum(int(t == c and p == c) for t, p in zip(case.labels, case.predicted))
        predicted = int(np.sum(case.predicted == c))
        actual = int(np.sum(case.labels == c))
        p = hits / predicted if predicted else 0.0
        r = hits / actual if actual else 0.0
        expected[0][c], expected[1][c] = p, r
        expected[2][c] = 2 * p * r / (p + r) if p + r else 0.0
    for name, value, want in zip(("precision", "recall", "f1"), (precision, recall, f1), expected):
        what = f"{name} from precision_recall_f1(y_true, probs, num_classes={k})"
        assert value.shape == (k,), f"{what} has shape {value.shape}, expected ({k},)"
        mistakes.expect_finite(value, what=what, mistake=mistakes.UNDEFINED)
        expect_close(
            value,
            want,
            what=what,
            mistakes=mistakes.precision_recall_f1(case.labels, case.probs, k, expected, name),
        )


@given(labels=st.lists(st.integers(0, 3), min_size=1, max_size=12), shape=label_shapes())
def test_perfect_predictions_score_one_for_present_classes(metrics, labels, shape):
    labels = np.array(labels)
    present = np.isin(np.arange(5), labels).astype(np.float64)
    results = triple(
        metrics.precision_recall_f1(shaped(labels, shape), labels, 5), "precision_recall_f1"
    )
    for name, value in zip(("precision", "recall", "f1"), results):
        what = f"{name} of perfect predictions, num_classes=5 (1 for the classes present)"
        mistakes.expect_finite(value, what=what, mistake=mistakes.UNDEFINED)
        expect_close(value, present, what=what)


# --------------------------------------------------------------------------- top-k accuracy


def test_top_k_accuracy_of_the_worked_example(metrics):
    for k, expected in ((1, 0.5), (2, 1.0)):
        expect_close(
            metrics.top_k_accuracy(EXAMPLE_LABELS, EXAMPLE_PROBS, k),
            expected,
            what=f"top_k_accuracy(k={k}) of the worked example",
            mistakes=mistakes.top_k_accuracy(EXAMPLE_LABELS, EXAMPLE_PROBS, k, expected),
        )


# Which true classes are in the top 2: ties go to the lower index.
TIED_PROBS = np.array(
    [
        [0.25, 0.25, 0.25, 0.25],  # class 1: only class 0 outranks it: in
        [0.1, 0.2, 0.3, 0.4],  # class 3: the best: in
        [0.25, 0.25, 0.25, 0.25],  # class 2: classes 0 and 1 outrank it: out
        [0.1, 0.3, 0.3, 0.3],  # class 2: class 1 outranks it: in
        [0.1, 0.2, 0.3, 0.4],  # class 1: classes 2 and 3 outrank it: out
        [0.3, 0.3, 0.3, 0.1],
    ]
)  # class 0: none outranks it: in
TIED_LABELS = np.array([1, 3, 2, 2, 1, 0])


def test_top_k_accuracy_breaks_ties_towards_the_lower_class(metrics):
    expect_close(
        metrics.top_k_accuracy(TIED_LABELS, TIED_PROBS, 2),
        4 / 6,
        what="top_k_accuracy(k=2) of 6 examples with tied scores (4 are in the top 2)",
        mistakes=mistakes.top_k_accuracy(TIED_LABELS, TIED_PROBS, 2, 4 / 6),
    )


def test_top_k_accuracy_gives_ties_to_the_lower_index(metrics):
    probs = np.array([[0.25, 0.25, 0.25, 0.25]] * 4)
    for k in (1, 2, 3, 4):
        expect_close(
            metrics.top_k_accuracy([0, 1, 2, 3], probs, k),
            k / 4,
            what=f"top_k_accuracy(k={k}) with four tied classes (class t is "
            f"outranked by the t lower classes)",
            mistakes=mistakes.top_k_accuracy(np.arange(4), probs, k, k / 4),
        )


@pytest.mark.value_test
@given(case=cases(), data=st.data())
def test_top_k_accuracy_counts_the_classes_that_outrank_the_true_one(metrics, case, data):
    k = data.draw(st.integers(1, case.num_classes + 1), label="k")
    right = 0
    for row, t in zip(case.probs, case.labels):
        above = sum(
            1 for j in range(case.num_classes) if row[j] > row[t] or (row[j] == row[t] and j < t)
        )
        right += above < k
    expect_close(
        metrics.top_k_accuracy(case.y_true, case.probs, k),
        right / len(case.labels),
        what=f"top_k_accuracy(y_true, probs of shape {case.probs.shape}, k={k})",
        mistakes=mistakes.top_k_accuracy(case.labels, case.probs, k, right / len(case.labels)),
    )


@given(case=cases())
def test_top_1_accuracy_is_accuracy_and_top_k_grows_with_k(metrics, case):
    expected = float(np.mean(case.predicted == case.labels))
    expect_close(
        metrics.top_k_accuracy(case.y_true, case.probs, 1),
        expected,
        what=f"top_k_accuracy(y_true, probs of shape {case.probs.shape}, k=1) against the accuracy",
        mistakes=mistakes.top_k_accuracy(case.labels, case.probs, 1, expected),
    )
    values = [
        number(metrics.top_k_accuracy(case.y_true, case.probs, k), "top_k_accuracy")
        for k in range(1, case.num_classes + 1)
    ]
    assert all(a <= b for a, b in zip(values, values[1:])), (
        f"top_k_accuracy for k = 1..K is {values}: it can only grow with k"
    )
    expect_close(values[-1], 1.0, what=f"top_k_accuracy(k=K={case.num_classes})")


# --------------------------------------------------------------------------- log loss


@pytest.mark.value_test
@given(case=cases(), eps=st.sampled_from([None, 1e-3, 0.05]))
def test_log_loss_is_the_mean_negative_log_probability_of_the_true_class(metrics, case, eps):
    options = {} if eps is None else {"eps": eps}
    eps = 1e-7 if eps is None else eps
    terms = [-math.log(min(max(row[t], eps), 1 - eps)) for row, t in zip(case.probs, case.labels)]
    expected = sum(terms) / len(terms)
    what = (
        f"log_loss(y_true of shape {case.y_true.shape}, probs of shape "
        f"{case.probs.shape}{''.join(f', eps={v}' for v in options.values())})"
    )
    value = number(metrics.log_loss(case.y_true, case.probs, **options), "log_loss")
    mistakes.expect_finite(value, what=what, mistake=mistakes.UNCLIPPED)
    expect_close(
        value,
        expected,
        what=what,
        mistakes=mistakes.log_loss(case.y_true, case.labels, case.probs, eps, expected),
    )


def test_log_loss_clips_the_true_class_only_and_does_not_renormalise(metrics):
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    expected = -(math.log(0.95) + math.log(0.5)) / 2  # 1.0 -> 0.95; 0.5 stays
    expect_close(
        metrics.log_loss([0, 1], probs, eps=0.05),
        expected,
        what="log_loss([0, 1], [[1, 0, 0], [0.5, 0.5, 0]], eps=0.05)",
        mistakes=mistakes.log_loss(np.array([0, 1]), np.array([0, 1]), probs, 0.05, expected),
    )


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_log_loss_of_uniform_probabilities_is_log_k(metrics, classes):
    probs = np.full((4, classes), 1 / classes)
    expect_close(
        metrics.log_loss([0, 1, 1, 0], probs),
        math.log(classes),
        what=f"log_loss of uniform probabilities over {classes} classes",
    )


def test_log_loss_clips_probabilities_of_zero_and_one(metrics):
    probs = np.array([[1.0, 0.0], [1.0, 0.0]])
    right, wrong = -math.log(1 - 1e-3), -math.log(1e-3)
    labels = np.array([0, 0])
    value = metrics.log_loss(labels, probs, eps=1e-3)
    expect_close(
        value,
        right,
        what="log_loss([0, 0], [[1, 0], [1, 0]], eps=1e-3)",
        rtol=1e-6,
        atol=1e-9,
        mistakes=mistakes.log_loss(labels, labels, probs, 1e-3, right),
    )
    value = metrics.log_loss(1 - labels, probs, eps=1e-3)
    mistakes.expect_finite(
        value, what="log_loss([1, 1], [[1, 0], [1, 0]], eps=1e-3)", mistake=mistakes.UNCLIPPED
    )
    expect_close(
        value,
        wrong,
        what="log_loss([1, 1], [[1, 0], [1, 0]], eps=1e-3)",
        mistakes=mistakes.log_loss(1 - labels, 1 - labels, probs, 1e-3, wrong),
    )


# --------------------------------------------------------------------------- calibration


def test_expected_calibration_error_counts_a_confidence_of_one(metrics):
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    expect_close(
        metrics.expected_calibration_error([1, 0], probs),
        1.0,
        what="expected_calibration_error([1, 0], [[1, 0], [0, 1]]) (certain and "
        "wrong: confidence 1.0 goes to the last bin)",
        mistakes=mistakes.expected_calibration_error(np.array([1, 0]), probs, 15),
    )
    expect_close(
        metrics.expected_calibration_error([0, 1], probs),
        0.0,
        what="expected_calibration_error([0, 1], [[1, 0], [0, 1]]) (certain, right)",
    )


def test_a_confidence_of_one_shares_the_last_bin(metrics):
    # bin 1 of 2 holds 1.0 (wrong) and 0.6 (right): accuracy 0.5, confidence 0.8
    probs, labels = np.array([[1.0, 0.0], [0.6, 0.4]]), np.array([1, 0])
    expect_close(
        metrics.expected_calibration_error(labels, probs, n_bins=2),
        0.3,
        what="expected_calibration_error([1, 0], [[1, 0], [0.6, 0.4]], n_bins=2)",
        mistakes=mistakes.expected_calibration_error(labels, probs, 2),
    )


def test_a_confidence_on_a_bin_edge_goes_to_the_bin_above(metrics):
    # 0.5 (right) and 0.75 (wrong) both go to bin 1 = [0.5, 1]: accuracy 0.5, confidence 0.625
    probs, labels = np.array([[0.5, 0.25, 0.25], [0.75, 0.25, 0.0]]), np.array([0, 1])
    expect_close(
        metrics.expected_calibration_error(labels, probs, n_bins=2),
        0.125,
        what="expected_calibration_error([0, 1], [[0.5, 0.25, 0.25], [0.75, 0.25, 0]], n_bins=2)",
        mistakes=mistakes.expected_calibration_error(labels, probs, 2),
    )


def test_a_confidence_on_an_edge_in_float_rounding_may_go_either_way(metrics):
    # 0.3 * 10 rounds to 3.0 (bin 3), but 0.3 < np.linspace(0, 1, 11)[3] (bin 2): both pass
    probs = np.array([[0.3, 0.25, 0.25, 0.2], [0.25, 0.25, 0.25, 0.25]])
    labels = np.array([0, 1])  # 0.3 right, 0.25 wrong (bin 2)
    value = metrics.expected_calibration_error(labels, probs, n_bins=10)
    what = "expected_calibration_error([0, 1], [[0.3, 0.25, 0.25, 0.2], [0.25] * 4], n_bins=10)"
    if not np.isclose(number(value, what), (0.7 - 0.25) / 2):  # 0.3 in bin 2
        expect_close(
            value,
            (0.7 + 0.25) / 2,
            what=what,  # 0.3 in bin 3
            mistakes=mistakes.expected_calibration_error(labels, probs, 10),
        )


def test_each_bin_is_weighted_by_its_share_of_the_examples(metrics):
    # bin 9 of 10: 0.9 and 0.9, both right (gap 0.1); bin 6: 0.6, wrong (gap 0.6)
    probs, labels = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4]]), np.array([0, 0, 1])
    expect_close(
        metrics.expected_calibration_error(labels, probs, n_bins=10),
        2 / 3 * 0.1 + 1 / 3 * 0.6,
        what="expected_calibration_error([0, 0, 1], [[0.9, 0.1], [0.9, 0.1], "
        "[0.6, 0.4]], n_bins=10)",
        mistakes=mistakes.expected_calibration_error(labels, probs, 10),
    )


def test_expected_calibration_error_of_a_small_example(metrics):
    # confidences 0.9, 0.9 (bin 9 of 10, one right) and 0.6 (bin 6, right)
    probs = np.array([[0.9, 0.1], [0.1, 0.9], [0.6, 0.4]])
    expect_close(
        metrics.expected_calibration_error([0, 0, 0], probs, n_bins=10),
        2 / 3 * abs(0.5 - 0.9) + 1 / 3 * abs(1 - 0.6),
        what="expected_calibration_error(n_bins=10) of confidences 0.9, 0.9, 0.6",
        mistakes=mistakes.expected_calibration_error(np.zeros(3, int), probs, 10),
    )


@pytest.mark.value_test
@given(case=cases(), n_bins=st.integers(1, 20))
def test_expected_calibration_error_follows_its_definition(metrics, case, n_bins):
    confidence = case.probs.max(axis=1)
    correct = case.predicted == case.labels
    total = 0.0
    for b in range(n_bins):
        members = [
            i
            for i in range(len(confidence))
            if min(math.floor(confidence[i] * n_bins), n_bins - 1) == b
        ]
        if members:
            gap = np.mean(correct[members]) - np.mean(confidence[members])
            total += len(members) / len(confidence) * abs(gap)
    value = number(
        metrics.expected_calibration_error(case.y_true, case.probs, n_bins),
        "expected_calibration_error",
    )
    what = f"expected_calibration_error(y_true, probs of shape {case.probs.shape}, n_bins={n_bins})"
    mistakes.expect_finite(value, what=what, mistake=mistakes.ECE_EMPTY_BIN)
    if not mistakes.ece_accepted(value, case.labels, case.probs, n_bins):  # float rounding
        expect_close(
            value,
            total,
            what=what,
            mistakes=mistakes.expected_calibration_error(case.labels, case.probs, n_bins),
        )
    assert 0.0 <= value <= 1.0 + 1e-9, f"{what} = {value}, outside [0, 1]"


@given(case=cases())
def test_one_bin_compares_overall_accuracy_with_mean_confidence(metrics, case):
    expected = abs(np.mean(case.predicted == case.labels) - np.mean(case.probs.max(axis=1)))
    expect_close(
        metrics.expected_calibration_error(case.y_true, case.probs, n_bins=1),
        expected,
        what="expected_calibration_error(n_bins=1)",
        mistakes=mistakes.expected_calibration_error(case.labels, case.probs, 1),
    )


# --------------------------------------------------------------------------- input checks


def calls(metrics, y_true, probs):
    """Every metric on (y_true, probs), by name."""
    k = np.shape(probs)[-1] if np.ndim(probs) == 2 else 3
    return {
        "accuracy": lambda: metrics.accuracy(y_true, probs),
        "confusion_matrix": lambda: metrics.confusion_matrix(y_true, probs, k),
        "precision_recall_f1": lambda: metrics.precision_recall_f1(y_true, probs, k),
        "top_k_accuracy": lambda: metrics.top_k_accuracy(y_true, probs, 1),
        "log_loss": lambda: metrics.log_loss(y_true, probs),
        "expected_calibration_error": lambda: metrics.expected_calibration_error(y_true, probs),
    }


NAMES = list(calls(None, [0], np.ones((1, 3)) / 3))


@pytest.mark.parametrize("name", NAMES)
def test_every_metric_accepts_labels_of_shape_n_and_n_by_1(metrics, name):
    probs = EXAMPLE_PROBS
    flat = calls(metrics, EXAMPLE_LABELS, probs)[name]()
    column = calls(metrics, EXAMPLE_LABELS.reshape(-1, 1).astype(np.uint8), probs)[name]()
    for index, (a, b) in enumerate(
        zip(
            flat if name == "precision_recall_f1" else [flat],
            column if name == "precision_recall_f1" else [column],
        )
    ):
        expect_close(
            b,
            a,
            what=f"{name} with (N, 1) uint8 labels against (N,) labels "
            f"(flatten (N, 1) labels before comparing them)"
            + (f" (output {index})" if name == "precision_recall_f1" else ""),
        )


@pytest.mark.parametrize("name", NAMES)
def test_every_metric_rejects_empty_inputs(metrics, name):
    calls(metrics, EXAMPLE_LABELS, EXAMPLE_PROBS)[name]()
    expect_error(
        "ValueError",
        calls(metrics, np.zeros(0, int), np.zeros((0, 3)))[name],
        what=f"{name} of 0 examples",
        because="no statistic is defined for N = 0",
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_metric_rejects_labels_and_probabilities_of_different_lengths(metrics, name):
    calls(metrics, EXAMPLE_LABELS, EXAMPLE_PROBS)[name]()
    expect_error(
        "ValueError",
        calls(metrics, EXAMPLE_LABELS[:3], EXAMPLE_PROBS)[name],
        what=f"{name} of 3 labels and 4 rows of probabilities",
        because="there must be one prediction per label",
    )


@pytest.mark.parametrize("name", ["top_k_accuracy", "log_loss", "expected_calibration_error"])
def test_probability_metrics_reject_probabilities_that_are_not_n_by_k(metrics, name):
    calls(metrics, EXAMPLE_LABELS, EXAMPLE_PROBS)[name]()
    expect_error(
        "ValueError",
        calls(metrics, EXAMPLE_LABELS, EXAMPLE_PROBS[:, 0])[name],
        what=f"{name} with probabilities of shape (4,)",
        because="probabilities must be (N, K)",
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_metric_rejects_labels_outside_the_classes(metrics, name):
    calls(metrics, EXAMPLE_LABELS, EXAMPLE_PROBS)[name]()
    expect_error(
        "ValueError",
        calls(metrics, np.array([0, 1, 3, 2]), EXAMPLE_PROBS)[name],
        what=f"{name} with the label 3 for 3 classes",
        because="labels must lie in [0, K)",
    )
