"""Public tests for ``inspect_model.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_inspect_model.py`` (or ``grader check inspect_model``).
``most_confidently_wrong`` is checked against its definition written out in Python;
``layer_activations`` on the small models of ``inspect_model.example_model``: one output per
layer, of the layer's shape, the last one being the model's prediction, and for the fully
connected model every layer recomputed in numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close, expect_error
from tests.support.metrics_strategies import cases
from tests.support.training_strategies import (
    confidently_wrong_by_definition,
    example_images,
    softmax,
)

pytestmark = [pytest.mark.public, pytest.mark.task("inspect_model")]


@pytest.fixture(scope="module")
def inspect(candidate):
    return candidate.module("inspect_model")


# --------------------------------------------------------------------------- confidently wrong


def both_mistakes(probs, labels, k: int) -> np.ndarray:
    """What two mistakes give when they agree (they often do on small problems)."""
    ascending = confidently_wrong_by_definition(probs, labels, k, ascending=True)
    true_class = confidently_wrong_by_definition(
        probs, labels, k, confidence=probs[np.arange(len(labels)), labels])
    return ascending if np.array_equal(ascending, true_class) else np.full(len(ascending), -1)


def wrong_mistakes(case, k: int) -> list[Mistake]:
    probs, labels = case.probs, case.labels
    last = probs.shape[1] - 1 - np.argmax(probs[:, ::-1], axis=1)
    return [
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
        Mistake("equal confidences must keep the order of their index (lowest first): use a "
                "stable sort of -confidence",
                lambda: confidently_wrong_by_definition(probs, labels, k, ties_last=True)),
        Mistake("the prediction is the argmax taking the FIRST index on ties",
                lambda: confidently_wrong_by_definition(probs, labels, k, predicted=last)),
    ]


@pytest.mark.value_test
@given(case=cases(max_examples=14), data=st.data())
def test_most_confidently_wrong_follows_its_definition(inspect, case, data):
    k = data.draw(st.integers(0, len(case.labels) + 2), label="k")
    expected = confidently_wrong_by_definition(case.probs, case.labels, k)
    actual = inspect.most_confidently_wrong(case.probs, case.y_true, k)
    what = f"most_confidently_wrong(probs {case.probs.shape}, y_true {case.y_true.shape}, k={k})"
    assert actual is not None, f"{what} returned None: did you forget to `return`?"
    actual = np.asarray(actual)
    if actual.size:
        assert actual.dtype.kind in "iu", f"{what} has dtype {actual.dtype}, expected indices"
    expect_close(actual.reshape(-1) if actual.size else actual.reshape(0), expected, what=what,
                 rtol=0.0, atol=0.0, mistakes=wrong_mistakes(case, k))


def test_most_confidently_wrong_example_from_the_docstring(inspect):
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    result = np.asarray(inspect.most_confidently_wrong(probs, np.array([1, 1, 1, 0]), 2))
    assert result.tolist() == [0, 3], f"most_confidently_wrong(...) = {result.tolist()}"
    everything = np.asarray(inspect.most_confidently_wrong(probs, np.array([1, 1, 1, 0]), 9))
    assert everything.tolist() == [0, 3, 2], (
        f"with k larger than the number of wrong examples the result is "
        f"{everything.tolist()}, expected all three wrong examples [0, 3, 2]")


def test_most_confidently_wrong_rejects_labels_of_another_length(inspect):
    inspect.most_confidently_wrong(np.eye(3), np.array([0, 1, 1]), 1)
    expect_error("ValueError",
                 lambda: inspect.most_confidently_wrong(np.eye(3), np.array([0, 1]), 1),
                 what="most_confidently_wrong(probs of 3 rows, 2 labels)",
                 because="there must be one label per row")


# --------------------------------------------------------------------------- activations


def output_shapes(description: dict) -> list[tuple]:
    return [tuple(layer["output_shape"][1:]) for layer in description["layers"]]


def check_activations(activations, description: dict, name: str) -> list[np.ndarray]:
    """The count and shapes, with the usual mistakes named."""
    what = f"layer_activations(example_model({name!r}), image)"
    assert isinstance(activations, list), (
        f"{what} returned {type(activations).__name__}, expected a list of arrays")
    shapes = output_shapes(description)
    got = [tuple(np.shape(a)) for a in activations]
    if got == shapes:
        return [np.asarray(a, dtype=np.float64) for a in activations]
    if got == shapes[:-1]:
        raise AssertionError(f"{what} has {len(got)} arrays, expected {len(shapes)}: the last "
                             f"layer (the output) is missing")
    if got[1:] == shapes and len(got) == len(shapes) + 1:
        raise AssertionError(f"{what} starts with the input image: return only the layers' "
                             f"outputs ({len(shapes)} arrays)")
    if got == [(1, *shape) for shape in shapes]:
        raise AssertionError(f"{what} keeps the batch axis: shapes {got[:3]}..., expected "
                             f"{shapes[:3]}...; remove it with [0]")
    raise AssertionError(f"{what} gives shapes {got}, expected {shapes} (one per layer of "
                         f"model.layers, without the batch axis)")


@given(example=example_images())
def test_layer_activations_has_one_output_of_the_right_shape_per_layer(inspect, example):
    name, image, seed = example
    description = inspect.example_model(name, seed)
    activations = inspect.example_activations(name, image, seed)
    check_activations(activations, description, name)


@given(example=example_images())
def test_the_last_activation_is_the_prediction_in_inference_mode(inspect, example):
    name, image, seed = example
    activations = check_activations(inspect.example_activations(name, image, seed),
                                    inspect.example_model(name, seed), name)
    prediction = inspect.example_predict(name, image, seed)
    what = f"the last of layer_activations(example_model({name!r}), image)"
    if not np.allclose(activations[-1], prediction, rtol=1e-4, atol=1e-5):
        raise AssertionError(
            f"{what} is {np.round(activations[-1], 4)}, expected the model's prediction "
            f"{np.round(prediction, 4)}. Is the model run in inference mode "
            f"(training=False)? Dropout and batch normalisation behave differently in "
            f"training mode")


@pytest.mark.value_test
@given(example=example_images(names=("mlp", "functional")))
def test_layer_activations_of_fully_connected_models_recomputed_in_numpy(inspect, example):
    name, image, seed = example
    description = inspect.example_model(name, seed)
    activations = check_activations(inspect.example_activations(name, image, seed),
                                    description, name)
    weights = [np.asarray(w, dtype=np.float64) for w in inspect.example_weights(name, seed)]
    x = image.astype(np.float64).reshape(-1)
    if name == "mlp":  # flatten, dense 16, relu, dense 10, softmax
        expected = [x]
        expected.append(x @ weights[0] + weights[1])
        expected.append(np.maximum(expected[-1], 0))
        expected.append(expected[-1] @ weights[2] + weights[3])
    else:  # input, dense 6, tanh, dense 4, softmax
        expected = [x, x @ weights[0] + weights[1]]
        expected.append(np.tanh(expected[-1]))
        expected.append(expected[-1] @ weights[2] + weights[3])
    expected.append(softmax(expected[-1][None])[0])
    for index, (actual, wanted) in enumerate(zip(activations, expected)):
        expect_close(actual, wanted, what=f"activation {index} "
                     f"({description['layers'][index]['class_name']}) of {name!r}",
                     rtol=1e-4, atol=1e-4)


def test_layer_activations_rejects_an_image_with_a_batch_axis(inspect):
    inspect.example_activations("mlp", np.zeros((28, 28, 1)))
    expect_error("ValueError",
                 lambda: inspect.example_activations("mlp", np.zeros((1, 28, 28, 1))),
                 what="layer_activations(model, image of shape (1, 28, 28, 1))",
                 because="the image has no batch axis: (28, 28, 1)")

