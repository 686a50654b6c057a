"""Hidden tests for ``inspect_model.py``: the candidate against the reference solutions.

``most_confidently_wrong`` on more and larger problems (argmax ties, one-hot rows, equal
confidences, ``(N, 1)`` labels, float32 probabilities); ``layer_activations`` on every
example model, every layer compared with the reference's, in inference mode.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import expect_close
from tests.support.metrics_strategies import cases, float32_or_64, prob_dtypes
from tests.support.mistakes import inspect_model as mistakes
from tests.support.training_strategies import example_images

pytestmark = [pytest.mark.hidden, pytest.mark.task("inspect_model")]


@pytest.fixture(scope="module")
def inspect(candidate):
    return candidate.module("inspect_model")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("inspect_model")


@given(case=cases(max_examples=30, max_classes=6), data=st.data(), dtype=prob_dtypes)
def test_most_confidently_wrong_matches_the_reference(inspect, ref, case, data, dtype):
    k = data.draw(st.integers(0, len(case.labels) + 1), label="k")
    probs = float32_or_64(case.probs, dtype)
    expected = np.asarray(ref.most_confidently_wrong(probs, case.y_true, k)).reshape(-1)
    actual = inspect.most_confidently_wrong(probs, case.y_true, k)
    what = f"most_confidently_wrong(probs {probs.shape} {dtype}, y_true {case.y_true.shape}, k={k})"
    assert actual is not None, f"{what} returned None"
    actual = np.asarray(actual)
    expect_close(
        actual.reshape(-1) if actual.size else actual.reshape(0),
        expected,
        what=what,
        rtol=0.0,
        atol=0.0,
        mistakes=mistakes.confidently_wrong(probs, case.y_true, k),
    )


@pytest.mark.parametrize("shape", ["flat", "column"])
def test_most_confidently_wrong_of_a_telling_example_matches_the_reference(inspect, ref, shape):
    probs = mistakes.TELLING_PROBS
    labels = mistakes.TELLING_LABELS
    labels = labels.reshape(-1, 1) if shape == "column" else labels
    expected = np.asarray(ref.most_confidently_wrong(probs, labels, 5)).reshape(-1)
    actual = np.asarray(inspect.most_confidently_wrong(probs, labels, 5)).reshape(-1)
    if shape == "column":
        flat = inspect.most_confidently_wrong(probs, labels.reshape(-1), 5)
        mistakes.expect_same_for_both_label_shapes(
            flat, actual, "most_confidently_wrong(probs, y_true, k=5)"
        )
    expect_close(
        actual,
        expected,
        rtol=0.0,
        atol=0.0,
        what=f"most_confidently_wrong(6 rows with equal confidences and a tie, "
        f"y_true of shape {labels.shape}, k=5)",
        mistakes=mistakes.confidently_wrong(probs, labels, 5),
    )


@given(seed=st.integers(0, 2**16), k=st.integers(1, 12))
def test_most_confidently_wrong_with_many_equal_confidences(inspect, ref, seed, k):
    rng = np.random.default_rng(seed)
    probs = np.eye(5)[rng.integers(0, 5, size=40)] * 0.6 + 0.1  # every confidence is 0.7
    labels = rng.integers(0, 5, size=(40, 1))
    expected = np.asarray(ref.most_confidently_wrong(probs, labels, k)).reshape(-1)
    actual = np.asarray(inspect.most_confidently_wrong(probs, labels, k)).reshape(-1)
    expect_close(
        actual,
        expected,
        what=f"most_confidently_wrong with 40 equal confidences, k={k}",
        rtol=0.0,
        atol=0.0,
        mistakes=mistakes.confidently_wrong(probs, labels, k),
    )


@given(example=example_images())
def test_layer_activations_match_the_reference(inspect, ref, example):
    name, image, seed = example
    expected = ref.example_activations(name, image, seed)
    actual = inspect.example_activations(name, image, seed)
    what = f"layer_activations(example_model({name!r}), image)"
    assert isinstance(actual, list), f"{what} returned {type(actual).__name__}, expected a list"
    mistakes.activation_shapes(
        [tuple(np.shape(a)) for a in actual], [tuple(np.shape(a)) for a in expected], what
    )
    layers = ref.example_model(name, seed)["layers"]
    for index, (a, b) in enumerate(zip(actual, expected)):
        kind = layers[index]["class_name"]
        what_index = f"activation {index} ({kind}) of {what}"
        if kind in mistakes.MODE_LAYERS and not np.allclose(
            np.asarray(a, dtype=np.float64), b, rtol=1e-4, atol=1e-4
        ):
            raise AssertionError(
                f"{what_index} is wrong (the activations before it are "
                f"right)\n  Likely mistake: {mistakes.TRAINING_MODE}"
            )
        expect_close(a, b, what=what_index, rtol=1e-4, atol=1e-4)
