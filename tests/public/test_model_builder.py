"""Public tests for ``model_builder.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_model_builder.py`` (or ``grader check
model_builder``). They need no reference solution: they check the handout's shapes, that
``output_shapes`` agrees with the Keras model that ``build_model`` builds, and that invalid
models are refused as Model Builder refuses them.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from tests.support.compare import expect_error
from tests.support.conv_strategies import expect_float32, layer_kinds, layer_specs, output_shapes_of
from tests.support.mistakes.conv import expect_shape
from tests.support.mistakes.model_builder import NEEDS_FLATTEN, expect_kinds, shape_mistakes

pytestmark = [pytest.mark.public, pytest.mark.task("model_builder")]

PRESET_NAMES = ("one_layer", "two_layer_fc", "three_layer_fc", "wide_narrow_wide", "convolutional")
FC10 = {"type": "fc", "units": 10}


@pytest.fixture(scope="module")
def builder(candidate):
    return candidate.module("model_builder")


def positions(length: int, window: int, stride: int) -> int:
    """Where a window can start along one axis: 0, s, 2s, ... while it ends inside."""
    return sum(1 for start in range(0, length, stride) if start + window <= length)


def rule_shapes(input_shape, specs) -> list[tuple]:
    """Each layer's output shape by the module docstring's rules (a 'same' convolution
    starts a window at every multiple of the stride)."""
    shape, shapes = tuple(input_shape), []
    for spec in specs:
        kind = spec["type"]
        if kind == "conv":
            s = spec.get("stride", 1)
            shape = (len(range(0, shape[0], s)), len(range(0, shape[1], s)), spec["filters"])
        elif kind == "maxpool":
            f = spec["field"]
            s = spec.get("stride", f)
            shape = (positions(shape[0], f, s), positions(shape[1], f, s), shape[2])
        elif kind == "flatten":
            shape = (math.prod(shape),)
        elif kind == "fc":
            shape = (spec["units"],)
        shapes.append(shape)
    return shapes


def check_shapes(builder, input_shape, specs, what: str | None = None) -> None:
    """``output_shapes`` layer by layer, then ``build_model``'s layers and their shapes."""
    what = what or f"{input_shape}, {specs}"
    expected = rule_shapes(input_shape, specs)
    actual = builder.output_shapes(input_shape, specs)
    assert isinstance(actual, list) and len(actual) == len(specs), (
        f"output_shapes({what}) returned {actual!r:.200}, expected a list of {len(specs)} "
        f"shapes, one per layer"
    )
    for index, (got, want) in enumerate(zip(actual, expected)):
        expect_shape(
            got,
            want,
            what=f"output_shapes({what})[{index}], after the {specs[index]['type']}",
            mistakes=shape_mistakes(input_shape, specs, index),
        )
    model = builder.build_model(input_shape, specs)
    expect_kinds(
        layer_kinds(model, "build_model"), [spec["type"] for spec in specs], f"build_model({what})"
    )
    expect_float32(model, f"build_model({what})")
    for index, (got, want) in enumerate(zip(output_shapes_of(model), expected)):
        expect_shape(
            got,
            want,
            what=f"build_model({what}): the Keras output of layer {index} ({specs[index]['type']})",
            mistakes=shape_mistakes(input_shape, specs, index),
        )


CONV = {"type": "conv", "filters": 3, "kernel": 5, "stride": 3}
# Small models where each classic mistake gives its own shape.
EXAMPLES = [
    ((10, 10, 2), [CONV, {"type": "relu"}, {"type": "flatten"}]),  # (4, 4, 3), (48,)
    ((6, 6, 2), [{"type": "conv", "filters": 2, "kernel": 4}]),  # (6, 6, 2)
    ((8, 8, 1), [{"type": "maxpool", "field": 3}]),  # (2, 2, 1)
    ((9, 9, 1), [{"type": "maxpool", "field": 4, "stride": 2}]),  # (3, 3, 1)
    ((8, 8, 3), [{"type": "maxpool", "field": 2, "stride": 1}, {"type": "flatten"}]),
]


@pytest.mark.value_test
def model_id(value) -> str:
    """``10x10x2`` for a shape, ``conv(filters=3, kernel=5, stride=3)-relu`` for specs."""
    if not isinstance(value, list):
        return "x".join(map(str, value))
    names = []
    for spec in value:
        params = ", ".join(f"{key}={number}" for key, number in spec.items() if key != "type")
        names.append(f"{spec['type']}({params})" if params else spec["type"])
    return "-".join(names)


@pytest.mark.parametrize(("input_shape", "specs"), EXAMPLES, ids=model_id)
def test_output_shapes_on_worked_examples(builder, input_shape, specs):
    check_shapes(builder, input_shape, specs)


@pytest.mark.value_test
def test_the_convolutional_preset_has_the_handouts_shapes(builder):
    specs = builder.preset("convolutional")
    assert rule_shapes((32, 32, 3), specs)[:2] == [(32, 32, 16), (16, 16, 16)]  # the handout
    check_shapes(builder, (32, 32, 3), specs, "(32, 32, 3), preset('convolutional')")


@pytest.mark.value_test
@settings(max_examples=8)
@given(model=layer_specs())
def test_output_shapes_and_the_keras_model_follow_the_shape_rules(builder, model):
    check_shapes(builder, *model)


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("input_shape", [(28, 28, 1), (32, 32, 3)])
def test_every_preset_builds_a_ten_class_model(builder, name, input_shape):
    model = builder.build_model(input_shape, builder.preset(name))
    assert model["layers"][-1]["output_shape"] == [None, 10], (
        f"build_model({input_shape}, preset({name!r})) outputs "
        f"{model['layers'][-1]['output_shape']}, expected (None, 10)"
    )
    assert layer_kinds(model, "build_model")[-1] == "softmax", (
        f"preset({name!r}) does not end with a softmax layer"
    )


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ({"type": "relu"}, "relu"),
        ({"type": "relu6"}, "relu6"),
        ({"type": "leaky_relu"}, "leaky_relu"),
        ({"type": "tanh"}, "tanh"),
        ({"type": "softmax"}, "softmax"),
        (FC10, "fc"),
        ({"type": "flatten"}, "flatten"),
    ],
)
def test_each_layer_type_becomes_its_keras_layer(builder, spec, kind):
    model = builder.build_model((12,), [spec])
    expect_kinds(layer_kinds(model, "build_model"), [kind], f"build_model((12,), [{spec}])")


def test_a_fully_connected_layer_on_an_image_needs_a_flatten_first(builder):
    builder.output_shapes((28, 28, 1), [{"type": "flatten"}, FC10])
    for call in ("output_shapes", "build_model"):
        expect_error(
            "ModelSpecError",
            lambda c=call: getattr(builder, c)((28, 28, 1), [FC10, {"type": "softmax"}]),
            what=f"{call}((28, 28, 1), [fc, softmax])",
            because=NEEDS_FLATTEN,
        )


@pytest.mark.parametrize(
    ("specs", "because"),
    [
        (
            [{"type": "flatten"}, {"type": "conv", "filters": 4, "kernel": 3}],
            "a conv layer needs an image, not the flat vector after a flatten",
        ),
        ([{"type": "maxpool", "field": 32}], "a 32x32 pool does not fit in 28x28"),
        ([{"type": "dropout"}], "dropout is not a layer type here"),
        ([{"type": "fc"}], "fc needs 'units'"),
        ([{"type": "conv", "filters": 0, "kernel": 3}], "filters must be positive"),
    ],
)
def test_invalid_models_are_refused(builder, specs, because):
    builder.output_shapes((28, 28, 1), [{"type": "conv", "filters": 4, "kernel": 3}])
    expect_error(
        "ValueError",
        lambda: builder.output_shapes((28, 28, 1), specs),
        what=f"output_shapes((28, 28, 1), {specs})",
        because=because,
    )
