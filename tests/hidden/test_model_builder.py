"""Hidden tests for ``model_builder.py``: the candidate against the reference solutions.

Valid models are drawn by hypothesis for MNIST's ``(28, 28, 1)`` and CIFAR's
``(32, 32, 3)``; the candidate's shapes, layers and parameter counts are compared with the
reference's, and a wrong shape is named from the catalogue
``tests/support/mistakes/model_builder.py`` when it is exactly what a classic mistake gives.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.support.compare import expect_error
from tests.support.conv_strategies import (
    expect_float32,
    layer_kinds,
    layer_specs,
    output_shapes_of,
    parameter_count,
)
from tests.support.mistakes.conv import expect_shape
from tests.support.mistakes.model_builder import NEEDS_FLATTEN, expect_kinds, shape_mistakes

pytestmark = [pytest.mark.hidden, pytest.mark.task("model_builder")]

PRESET_NAMES = ("one_layer", "two_layer_fc", "three_layer_fc", "wide_narrow_wide", "convolutional")


@pytest.fixture(scope="module")
def builder(candidate):
    return candidate.module("model_builder")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("model_builder")


def check_shapes(builder, ref, input_shape, specs) -> None:
    expected = [tuple(shape) for shape in ref.output_shapes(input_shape, specs)]
    actual = builder.output_shapes(input_shape, specs)
    what = f"output_shapes({input_shape}, {specs})"
    assert isinstance(actual, list) and len(actual) == len(specs), (
        f"{what} returned {actual!r:.200}, expected a list of {len(specs)} shapes, one per layer"
    )
    for index, (got, want) in enumerate(zip(actual, expected)):
        expect_shape(
            got,
            want,
            what=f"{what}[{index}], after the {specs[index]['type']}",
            mistakes=shape_mistakes(input_shape, specs, index),
        )


def check_model(builder, ref, input_shape, specs) -> None:
    what = f"build_model({input_shape}, {specs})"
    model = builder.build_model(input_shape, specs)
    expected_model = ref.build_model(input_shape, specs)
    expect_kinds(layer_kinds(model, what), layer_kinds(expected_model, "reference"), what)
    expect_float32(model, what)
    expected = [tuple(shape) for shape in ref.output_shapes(input_shape, specs)]
    assert output_shapes_of(expected_model) == expected, "reference (sanity check)"
    for index, (got, want) in enumerate(zip(output_shapes_of(model), expected)):
        expect_shape(
            got,
            want,
            what=f"{what}: the Keras output of layer {index} ({specs[index]['type']})",
            mistakes=shape_mistakes(input_shape, specs, index),
        )
    count, expected_count = (
        parameter_count(model, what),
        parameter_count(expected_model, "reference"),
    )
    assert count == expected_count, f"{what} has {count} parameters, expected {expected_count}"


# --------------------------------------------------------------------------- valid models


@settings(max_examples=10)
@given(model=layer_specs())
def test_output_shapes_matches_the_reference(builder, ref, model):
    check_shapes(builder, ref, *model)


@settings(max_examples=6)
@given(model=layer_specs())
def test_build_model_matches_the_reference_layer_by_layer(builder, ref, model):
    check_model(builder, ref, *model)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_each_preset_builds_as_the_reference_does(builder, ref, name):
    check_shapes(builder, ref, (28, 28, 1), ref.preset(name))
    check_model(builder, ref, (32, 32, 3), ref.preset(name))


def test_the_convolutional_preset_matches_the_handout(builder):
    shapes = [tuple(s) for s in builder.output_shapes((32, 32, 3), builder.preset("convolutional"))]
    assert shapes[0] == (32, 32, 16) and shapes[1] == (16, 16, 16), (
        f"the convolutional preset on CIFAR gives {shapes[:2]} after its first conv and max "
        f"pool; the handout says [32, 32, 16] and [16, 16, 16]"
    )


@pytest.mark.parametrize("kind", ["relu", "leaky_relu", "relu6", "tanh", "softmax"])
def test_each_activation_maps_to_its_keras_layer(builder, ref, kind):
    specs = [
        {"type": "conv", "filters": 2, "kernel": 3},
        {"type": kind},
        {"type": "maxpool", "field": 2},
        {"type": "flatten"},
        {"type": kind},
        {"type": "fc", "units": 3},
        {"type": "softmax"},
    ]
    check_model(builder, ref, (6, 6, 1), specs)


def test_strides_and_fields_are_used(builder, ref):
    specs = [
        {"type": "conv", "filters": 3, "kernel": 3, "stride": 2},
        {"type": "maxpool", "field": 3},
        {"type": "relu"},
        {"type": "conv", "filters": 2, "kernel": 2},
        {"type": "maxpool", "field": 2, "stride": 1},
        {"type": "flatten"},
        {"type": "fc", "units": 4},
        {"type": "softmax"},
    ]
    check_shapes(builder, ref, (28, 28, 1), specs)
    check_model(builder, ref, (28, 28, 1), specs)


def test_flat_inputs_are_accepted(builder, ref):
    specs = [
        {"type": "fc", "units": 5},
        {"type": "tanh"},
        {"type": "fc", "units": 2},
        {"type": "softmax"},
    ]
    check_shapes(builder, ref, (7,), specs)
    check_model(builder, ref, (7,), specs)


# --------------------------------------------------------------------------- invalid models

CONV = {"type": "conv", "filters": 2, "kernel": 3}
INVALID = [
    ([{"type": "fc", "units": 10}], NEEDS_FLATTEN),
    (
        [CONV, {"type": "relu"}, {"type": "fc", "units": 10}, {"type": "softmax"}],
        "a fully connected layer on the conv's (H, W, C) output needs a flatten layer before it",
    ),
    ([{"type": "flatten"}, CONV], "conv cannot follow a flatten layer"),
    (
        [{"type": "flatten"}, {"type": "maxpool", "field": 2}],
        "maxpool cannot follow a flatten layer",
    ),
    ([{"type": "maxpool", "field": 29}], "a 29x29 pool does not fit in 28x28"),
    ([{"type": "maxpool", "field": 4}] * 3, "the third 4x4 pool meets a 1x1 map"),
    ([{"type": "Conv"}], "'Conv' is not a layer type"),
    ([{"units": 10}], "a spec needs a 'type'"),
    ([{"type": "conv", "filters": 2}], "conv needs a 'kernel'"),
    (
        [{"type": "conv", "filters": 2, "kernel": 3, "padding": "valid"}],
        "'padding' is not a conv parameter",
    ),
    ([{"type": "conv", "filters": 2, "kernel": 0}], "the kernel must be positive"),
    ([{"type": "maxpool", "field": 2, "stride": 0}], "the stride must be positive"),
    ([{"type": "flatten"}, {"type": "fc", "units": -3}], "units must be positive"),
    ([{"type": "flatten"}, {"type": "fc", "units": 2.5}], "units must be an int"),
]


@pytest.mark.parametrize(("specs", "because"), INVALID)
def test_invalid_models_raise_model_spec_error(builder, ref, specs, because):
    builder.output_shapes((28, 28, 1), [CONV])
    for call in ("output_shapes", "build_model"):
        expect_error(
            "ModelSpecError",
            lambda c=call: getattr(ref, c)((28, 28, 1), specs),
            what="reference",
            because="(sanity check)",
        )
        expect_error(
            "ModelSpecError",
            lambda c=call: getattr(builder, c)((28, 28, 1), specs),
            what=f"{call}((28, 28, 1), {specs})",
            because=because,
        )


def test_model_spec_error_is_a_value_error(builder):
    builder.output_shapes((28, 28, 1), [CONV])
    expect_error(
        "ValueError",
        lambda: builder.build_model((28, 28, 1), [{"type": "fc", "units": 10}]),
        what="build_model((28, 28, 1), [fc])",
        because="ModelSpecError derives from ValueError",
    )


def test_the_missing_flatten_message_names_the_layer_and_the_shape(builder):
    builder.output_shapes((28, 28, 1), [CONV])
    try:
        builder.build_model((28, 28, 1), [{"type": "fc", "units": 10}])
    except Exception as error:  # noqa: BLE001 - CandidateError, checked below
        message = getattr(error, "message", str(error))
        assert "flatten" in message.lower() and "28" in message, (
            f"build_model((28, 28, 1), [fc]) raised {message!r}: name the shape (28, 28, 1) "
            f"and say to add a flatten layer before the fully connected layer"
        )
        return
    raise AssertionError(
        "build_model((28, 28, 1), [fc]) returned normally, expected a "
        "ModelSpecError because a fully connected layer on an image needs "
        "a flatten layer before it"
    )
