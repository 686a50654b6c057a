"""A model reply is checked against limits before Keras rebuilds it in the grader's process.

The attacks are the replies a ``build_model`` can send through the sandbox: plain dicts
shaped like a Keras model reply (``{"keras_model": json, "layers": ...}``) whose JSON would
take Keras tens of seconds or gigabytes to rebuild.
"""

from __future__ import annotations

import copy
import json
import time

import pytest

from tests.support.conv_strategies import parameter_count, rebuild
from tests.support.model_limits import MAX_LAYERS, MAX_PARAMETERS, ModelTooLarge


@pytest.fixture(scope="module")
def honest() -> dict:
    """The reply for the reference's convolutional preset on CIFAR shapes."""
    import keras

    from solutions import model_builder

    model = model_builder.build_model((32, 32, 3), model_builder.preset("convolutional"))
    assert isinstance(model, keras.Sequential)
    return {"keras_model": model.to_json(), "layers": [], "input_shape": [None, 32, 32, 3]}


def reply(config: dict) -> dict:
    return {"keras_model": json.dumps(config), "layers": [], "input_shape": None}


def with_layers(honest: dict, layers: list) -> dict:
    config = json.loads(honest["keras_model"])
    config["config"]["layers"] = layers
    return reply(config)


def assert_refused_fast(model: dict, match: str) -> None:
    started = time.monotonic()
    with pytest.raises(ModelTooLarge, match=match):
        rebuild(model, "build_model")
    assert time.monotonic() - started < 3


def test_an_honest_model_is_rebuilt_with_its_parameters(honest):
    assert parameter_count(honest, "build_model") == 17882


def test_a_model_of_400_layers_fails_fast(honest):
    layers = json.loads(honest["keras_model"])["config"]["layers"]
    relu = next(layer for layer in layers if layer["class_name"] == "ReLU")
    attack = with_layers(honest, layers[:1] + [copy.deepcopy(relu) for _ in range(400)])
    assert_refused_fast(attack, rf"Received: a model of 401 layers .* at most {MAX_LAYERS}")


def test_a_dense_layer_of_40_million_units_fails_fast(honest):
    layers = json.loads(honest["keras_model"])["config"]["layers"]
    dense = next(layer for layer in layers if layer["class_name"] == "Dense")
    dense["config"]["units"] = 40_000_000
    attack = with_layers(honest, layers)
    assert_refused_fast(attack, r"layer \d+ \(Dense\) .* 40000000 in its config")


def test_many_parameters_from_modest_numbers_fail_fast(honest):
    """Dense(4096) after a flattened 32x32x3 image: 12.6 M parameters, every number small."""
    layers = json.loads(honest["keras_model"])["config"]["layers"]
    first = layers[0]
    flatten = next(layer for layer in layers if layer["class_name"] == "Flatten")
    dense = next(layer for layer in layers if layer["class_name"] == "Dense")
    dense["config"]["units"] = 4096
    attack = with_layers(honest, [first, flatten, dense])
    assert_refused_fast(attack, rf"Received: a model of 12587008 parameters .* {MAX_PARAMETERS}")


@pytest.mark.parametrize(
    "attack, match",
    [
        ({"class_name": "Functional", "config": {"layers": []}}, "expected a keras.Sequential"),
        ("[" * 5000 + "]" * 5000, "nested 5000 levels"),
        ("x" * 300_000, "characters"),
    ],
)
def test_other_shapes_of_reply_fail_with_a_reason(attack, match):
    model = {"keras_model": attack if isinstance(attack, str) else json.dumps(attack)}
    assert_refused_fast(model, match)


def test_a_layer_the_check_does_not_know_is_refused(honest):
    layers = json.loads(honest["keras_model"])["config"]["layers"]
    embedding = {
        "module": "keras.layers",
        "class_name": "Embedding",
        "config": {"input_dim": 900_000, "output_dim": 900},
    }
    assert_refused_fast(
        with_layers(honest, [layers[0], embedding]), r"layer 1 \(Embedding\).*cannot be checked"
    )
