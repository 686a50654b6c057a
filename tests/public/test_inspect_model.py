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

from tests.support.compare import expect_close, expect_error
from tests.support.metrics_strategies import cases
from tests.support.mistakes import inspect_model as mistakes
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
    expect_close(
        actual.reshape(-1) if actual.size else actual.reshape(0),
        expected,
        what=what,
        rtol=0.0,
        atol=0.0,
        mistakes=mistakes.confidently_wrong(case.probs, case.y_true, k),
    )


def test_most_confidently_wrong_of_a_telling_example(inspect):
    probs, labels = mistakes.TELLING_PROBS, mistakes.TELLING_LABELS
    actual = np.asarray(inspect.most_confidently_wrong(probs, labels, 5)).reshape(-1)
    expect_close(
        actual,
        mistakes.TELLING_ANSWER,
        rtol=0.0,
        atol=0.0,
        what="most_confidently_wrong(6 rows of 3 probabilities with equal "
        "confidences and a tie, k=5)",
        mistakes=mistakes.confidently_wrong(probs, labels, 5),
    )


def test_most_confidently_wrong_of_n_by_1_labels(inspect):
    probs, labels = mistakes.TELLING_PROBS, mistakes.TELLING_LABELS.reshape(-1, 1)
    actual = np.asarray(inspect.most_confidently_wrong(probs, labels, 5)).reshape(-1)
    flat = inspect.most_confidently_wrong(probs, labels.reshape(-1), 5)
    mistakes.expect_same_for_both_label_shapes(
        flat, actual, "most_confidently_wrong(probs, y_true, k=5)"
    )
    expect_close(
        actual,
        mistakes.TELLING_ANSWER,
        rtol=0.0,
        atol=0.0,
        what="most_confidently_wrong(probs, y_true of shape (6, 1), k=5)",
        mistakes=mistakes.confidently_wrong(probs, labels, 5),
    )


def test_most_confidently_wrong_example_from_the_docstring(inspect):
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    result = np.asarray(inspect.most_confidently_wrong(probs, np.array([1, 1, 1, 0]), 2))
    assert result.tolist() == [0, 3], f"most_confidently_wrong(...) = {result.tolist()}"
    everything = np.asarray(inspect.most_confidently_wrong(probs, np.array([1, 1, 1, 0]), 9))
    assert everything.tolist() == [0, 3, 2], (
        f"with k larger than the number of wrong examples the result is "
        f"{everything.tolist()}, expected all three wrong examples [0, 3, 2]"
    )


def test_most_confidently_wrong_rejects_labels_of_another_length(inspect):
    inspect.most_confidently_wrong(np.eye(3), np.array([0, 1, 1]), 1)
    expect_error(
        "ValueError",
        lambda: inspect.most_confidently_wrong(np.eye(3), np.array([0, 1]), 1),
        what="most_confidently_wrong(probs of 3 rows, 2 labels)",
        because="there must be one label per row",
    )


# --------------------------------------------------------------------------- activations


def output_shapes(description: dict) -> list[tuple]:
    return [tuple(layer["output_shape"][1:]) for layer in description["layers"]]


def check_activations(activations, description: dict, name: str) -> list[np.ndarray]:
    """The count and shapes, with the usual mistakes named."""
    what = f"layer_activations(example_model({name!r}), image)"
    assert isinstance(activations, list), (
        f"{what} returned {type(activations).__name__}, expected a list of arrays"
    )
    mistakes.activation_shapes(
        [tuple(np.shape(a)) for a in activations], output_shapes(description), what
    )
    return [np.asarray(a, dtype=np.float64) for a in activations]


@given(example=example_images())
def test_layer_activations_has_one_output_of_the_right_shape_per_layer(inspect, example):
    name, image, seed = example
    description = inspect.example_model(name, seed)
    activations = inspect.example_activations(name, image, seed)
    check_activations(activations, description, name)


@given(example=example_images())
def test_the_last_activation_is_the_prediction_in_inference_mode(inspect, example):
    name, image, seed = example
    activations = check_activations(
        inspect.example_activations(name, image, seed), inspect.example_model(name, seed), name
    )
    prediction = inspect.example_predict(name, image, seed)
    what = f"the last of layer_activations(example_model({name!r}), image)"
    if not np.allclose(activations[-1], prediction, rtol=1e-4, atol=1e-5):
        modal = any(
            layer["class_name"] in mistakes.MODE_LAYERS
            for layer in inspect.example_model(name, seed)["layers"]
        )
        raise AssertionError(
            f"{what} is not the model's prediction\n  received {np.round(activations[-1], 4)}"
            f"\n  expected {np.round(prediction, 4)}"
            + (f"\n  Likely mistake: {mistakes.TRAINING_MODE}" if modal else "")
        )


@pytest.mark.value_test
@given(example=example_images(names=("mlp", "functional")))
def test_layer_activations_of_fully_connected_models_recomputed_in_numpy(inspect, example):
    name, image, seed = example
    description = inspect.example_model(name, seed)
    activations = check_activations(
        inspect.example_activations(name, image, seed), description, name
    )
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
        expect_close(
            actual,
            wanted,
            what=f"activation {index} ({description['layers'][index]['class_name']}) of {name!r}",
            rtol=1e-4,
            atol=1e-4,
        )


def test_layer_activations_rejects_an_image_with_a_batch_axis(inspect):
    inspect.example_activations("mlp", np.zeros((28, 28, 1)))
    expect_error(
        "ValueError",
        lambda: inspect.example_activations("mlp", np.zeros((1, 28, 28, 1))),
        what="layer_activations(model, image of shape (1, 28, 28, 1))",
        because="the image has no batch axis: (28, 28, 1)",
    )
