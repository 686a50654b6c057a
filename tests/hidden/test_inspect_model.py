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

from tests.support.compare import Mistake, expect_close
from tests.support.metrics_strategies import cases, float32_or_64, prob_dtypes
from tests.support.training_strategies import confidently_wrong_by_definition, example_images

pytestmark = [pytest.mark.hidden, pytest.mark.task("inspect_model")]


@pytest.fixture(scope="module")
def inspect(candidate):
    return candidate.module("inspect_model")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("inspect_model")


def both_mistakes(probs, labels, k: int) -> np.ndarray:
    """What two mistakes give when they agree (they often do on small problems)."""
    ascending = confidently_wrong_by_definition(probs, labels, k, ascending=True)
    true_class = confidently_wrong_by_definition(
        probs, labels, k, confidence=probs[np.arange(len(labels)), labels])
    return ascending if np.array_equal(ascending, true_class) else np.full(len(ascending), -1)


def mistakes(case, k: int) -> list[Mistake]:
    probs, labels = case.probs, case.labels
    last = probs.shape[1] - 1 - np.argmax(probs[:, ::-1], axis=1)
    return [
        Mistake("(N, 1) labels broadcast against (N,) predictions: flatten y_true first",
                lambda: np.nan if case.y_true.ndim == 1 else confidently_wrong_by_definition(
                    probs, labels, k, include_right=True)),
        Mistake("correct predictions are included: keep only the examples whose prediction "
                "differs from the label",
                lambda: confidently_wrong_by_definition(probs, labels, k, include_right=True)),
        Mistake("the confidence must be the PREDICTED class's probability (the row's "
                "maximum), not the true class's; or the order is from the least confident, "
                "and the most confident must come first",
                lambda: both_mistakes(probs, labels, k)),
        Mistake("sorted from the least confident; the most confident come first",
                lambda: confidently_wrong_by_definition(probs, labels, k, ascending=True)),
        Mistake("the confidence must be the PREDICTED class's probability (the row's "
                "maximum), not the true class's",
                lambda: confidently_wrong_by_definition(
                    probs, labels, k, confidence=probs[np.arange(len(labels)), labels])),
        Mistake("ties: equal confidences must keep the order of their index (lowest first); "
                "use a stable sort of -confidence",
                lambda: confidently_wrong_by_definition(probs, labels, k, ties_last=True)),
        Mistake("the prediction is the argmax taking the FIRST index on ties",
                lambda: confidently_wrong_by_definition(probs, labels, k, predicted=last)),
    ]


@given(case=cases(max_examples=30, max_classes=6), data=st.data(), dtype=prob_dtypes)
def test_most_confidently_wrong_matches_the_reference(inspect, ref, case, data, dtype):
    k = data.draw(st.integers(0, len(case.labels) + 1), label="k")
    probs = float32_or_64(case.probs, dtype)
    expected = np.asarray(ref.most_confidently_wrong(probs, case.y_true, k)).reshape(-1)
    actual = inspect.most_confidently_wrong(probs, case.y_true, k)
    what = (f"most_confidently_wrong(probs {probs.shape} {dtype}, y_true {case.y_true.shape}, "
            f"k={k})")
    assert actual is not None, f"{what} returned None"
    actual = np.asarray(actual)
    expect_close(actual.reshape(-1) if actual.size else actual.reshape(0), expected, what=what,
                 rtol=0.0, atol=0.0, mistakes=mistakes(case, k))


@given(seed=st.integers(0, 2**16), k=st.integers(1, 12))
def test_most_confidently_wrong_with_many_equal_confidences(inspect, ref, seed, k):
    rng = np.random.default_rng(seed)
    probs = np.eye(5)[rng.integers(0, 5, size=40)] * 0.6 + 0.1  # every confidence is 0.7
    labels = rng.integers(0, 5, size=(40, 1))
    expected = np.asarray(ref.most_confidently_wrong(probs, labels, k)).reshape(-1)
    actual = np.asarray(inspect.most_confidently_wrong(probs, labels, k)).reshape(-1)
    from tests.support.metrics_strategies import Case

    case = Case(labels.reshape(-1), labels, probs, 5)
    expect_close(actual, expected, what=f"most_confidently_wrong with 40 equal confidences, "
                 f"k={k}", rtol=0.0, atol=0.0, mistakes=mistakes(case, k))


@given(example=example_images())
def test_layer_activations_match_the_reference(inspect, ref, example):
    name, image, seed = example
    expected = ref.example_activations(name, image, seed)
    actual = inspect.example_activations(name, image, seed)
    what = f"layer_activations(example_model({name!r}), image)"
    assert isinstance(actual, list), f"{what} returned {type(actual).__name__}, expected a list"
    shapes = [np.shape(a) for a in expected]
    got = [np.shape(a) for a in actual]
    if got != shapes:
        if got == shapes[:-1]:
            raise AssertionError(f"{what} has {len(got)} arrays, expected {len(shapes)}: the "
                                 f"last layer (the output) is missing")
        if got[1:] == shapes:
            raise AssertionError(f"{what} starts with the input image: return only the "
                                 f"layers' outputs")
        raise AssertionError(f"{what} gives shapes {got}, expected {shapes}")
    layers = ref.example_model(name, seed)["layers"]
    for index, (a, b) in enumerate(zip(actual, expected)):
        expect_close(a, b, what=f"activation {index} ({layers[index]['class_name']}) of {what}",
                     rtol=1e-4, atol=1e-4)
