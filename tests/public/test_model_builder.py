"""Public tests for ``model_builder.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_model_builder.py`` (or ``grader check
model_builder``). They need no reference solution: they check the handout's shapes, that
``output_shapes`` agrees with the Keras model that ``build_model`` builds, and that invalid
models are refused as Model Builder refuses them.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.support.compare import expect_error
from tests.support.conv_strategies import layer_kinds, layer_specs, output_shapes_of

pytestmark = [pytest.mark.public, pytest.mark.task("model_builder")]

PRESET_NAMES = ("one_layer", "two_layer_fc", "three_layer_fc", "wide_narrow_wide",
                "convolutional")
FC10 = {"type": "fc", "units": 10}


@pytest.fixture(scope="module")
def builder(candidate):
    return candidate.module("model_builder")


def shapes(value) -> list[tuple]:
    return [tuple(shape) for shape in value]


def test_the_convolutional_preset_has_the_handouts_shapes(builder):
    specs = builder.preset("convolutional")
    expected = [(32, 32, 16), (16, 16, 16), (16, 16, 16), (16, 16, 16), (8, 8, 16),
                (8, 8, 16), (1024,), (10,), (10,)]
    actual = shapes(builder.output_shapes((32, 32, 3), specs))
    assert actual[:2] == [(32, 32, 16), (16, 16, 16)], (
        f"output_shapes((32, 32, 3), convolutional) starts {actual[:2]}: the handout says the "
        f"first conv gives [32, 32, 16] and the first max pool [16, 16, 16]")
    assert actual == expected, f"output_shapes((32, 32, 3), convolutional) = {actual}"
    model = builder.build_model((32, 32, 3), specs)
    assert output_shapes_of(model) == expected, (
        f"build_model((32, 32, 3), convolutional) has the output shapes "
        f"{output_shapes_of(model)}, expected {expected}")


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("input_shape", [(28, 28, 1), (32, 32, 3)])
def test_every_preset_builds_a_ten_class_model(builder, name, input_shape):
    model = builder.build_model(input_shape, builder.preset(name))
    assert model["layers"][-1]["output_shape"] == [None, 10], (
        f"build_model({input_shape}, preset({name!r})) outputs "
        f"{model['layers'][-1]['output_shape']}, expected (None, 10)")
    assert layer_kinds(model, "build_model")[-1] == "softmax", (
        f"preset({name!r}) does not end with a softmax layer")


@settings(max_examples=8)
@given(model=layer_specs())
def test_output_shapes_agree_with_the_keras_model(builder, model):
    input_shape, specs = model
    predicted = shapes(builder.output_shapes(input_shape, specs))
    built = builder.build_model(input_shape, specs)
    assert len(built["layers"]) == len(specs), (
        f"build_model({input_shape}, {specs}) has {len(built['layers'])} layers, expected "
        f"one per spec ({len(specs)})")
    assert predicted == output_shapes_of(built), (
        f"for {specs} on {input_shape}, output_shapes gives {predicted} but the Keras model "
        f"has {output_shapes_of(built)}")


@pytest.mark.parametrize(("spec", "kind"), [
    ({"type": "relu"}, "relu"), ({"type": "relu6"}, "relu6"),
    ({"type": "leaky_relu"}, "leaky_relu"), ({"type": "tanh"}, "tanh"),
    ({"type": "softmax"}, "softmax"), (FC10, "fc"), ({"type": "flatten"}, "flatten"),
])
def test_each_layer_type_becomes_its_keras_layer(builder, spec, kind):
    model = builder.build_model((12,), [spec])
    kinds = layer_kinds(model, "build_model")
    assert kinds == [kind], f"build_model((12,), [{spec}]) gives a {kinds[0]} layer"


def test_a_fully_connected_layer_on_an_image_needs_a_flatten_first(builder):
    builder.output_shapes((28, 28, 1), [{"type": "flatten"}, FC10])
    for call in ("output_shapes", "build_model"):
        expect_error("ModelSpecError",
                     lambda c=call: getattr(builder, c)((28, 28, 1), [FC10, {"type": "softmax"}]),
                     what=f"{call}((28, 28, 1), [fc, softmax])",
                     because="a fully connected layer needs a flat vector: add a flatten layer "
                             "before it")


@pytest.mark.parametrize(("specs", "because"), [
    ([{"type": "flatten"}, {"type": "conv", "filters": 4, "kernel": 3}],
     "a conv layer needs an image, not the flat vector after a flatten"),
    ([{"type": "maxpool", "field": 32}], "a 32x32 pool does not fit in 28x28"),
    ([{"type": "dropout"}], "dropout is not a layer type here"),
    ([{"type": "fc"}], "fc needs 'units'"),
    ([{"type": "conv", "filters": 0, "kernel": 3}], "filters must be positive"),
])
def test_invalid_models_are_refused(builder, specs, because):
    builder.output_shapes((28, 28, 1), [{"type": "conv", "filters": 4, "kernel": 3}])
    expect_error("ValueError", lambda: builder.output_shapes((28, 28, 1), specs),
                 what=f"output_shapes((28, 28, 1), {specs})", because=because)
