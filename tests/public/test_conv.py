"""Public tests for ``conv.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_conv.py`` (or ``grader check conv``). They need no
reference solution: shapes are checked against the handout's numbers and against the
definition of a sliding window (count the positions where the window can start).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.compare import expect_error
from tests.support.conv_strategies import (
    as_pair,
    conv_blocks,
    conv_cases,
    image_shapes,
    layer_kinds,
    output_shapes_of,
    pool_cases,
)

pytestmark = [pytest.mark.public, pytest.mark.task("conv")]


@pytest.fixture(scope="module")
def conv(candidate):
    return candidate.module("conv")


def window_positions(length: int, window: int, stride: int, padding: str) -> int:
    """How many times the window is applied along one axis, by counting.

    'valid': the window starts at 0, s, 2s, ... and must end inside the input.
    'same': the input is padded so that the window starts at every multiple of s that
    lies inside the input.
    """
    if padding == "valid":
        return sum(1 for start in range(0, length, stride) if start + window <= length)
    return sum(1 for _ in range(0, length, stride))


def as_shape(value, what: str) -> tuple:
    assert isinstance(value, (list, tuple)) and len(value) == 3, (
        f"{what} returned {value!r}, expected a tuple (H, W, C) of three ints")
    assert all(isinstance(v, int) for v in value), (
        f"{what} returned {value!r}, expected ints (not floats or arrays)")
    return tuple(value)


# --------------------------------------------------------------------------- conv_output_shape


@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    (((32, 32, 3), 16, 5), {}, (32, 32, 16)),  # the handout's first convolution
    (((32, 32, 3), 16, 5), {"padding": "valid"}, (28, 28, 16)),
    (((7, 7, 1), 4, 3), {"stride": 2, "padding": "same"}, (4, 4, 4)),
    (((7, 7, 1), 4, 3), {"stride": 2, "padding": "valid"}, (3, 3, 4)),
    (((28, 28, 1), 8, (3, 5)), {"stride": (1, 2), "padding": "valid"}, (26, 12, 8)),
])
def test_conv_output_shape_on_worked_examples(conv, args, kwargs, expected):
    what = f"conv_output_shape{args} with {kwargs}"
    assert as_shape(conv.conv_output_shape(*args, **kwargs), what) == expected, (
        f"{what} = {conv.conv_output_shape(*args, **kwargs)}, expected {expected}")


@pytest.mark.value_test
@given(case=conv_cases())
def test_conv_output_shape_counts_the_window_positions(conv, case):
    height, width, _ = case["input_shape"]
    kernel, stride = as_pair(case["kernel_size"]), as_pair(case["stride"])
    expected = (window_positions(height, kernel[0], stride[0], case["padding"]),
                window_positions(width, kernel[1], stride[1], case["padding"]),
                case["filters"])
    what = f"conv_output_shape(**{case})"
    actual = as_shape(conv.conv_output_shape(**case), what)
    assert actual[2] == case["filters"], (
        f"{what} has {actual[2]} channels: the output has `filters` channels, one per filter")
    assert actual == expected, f"{what} = {actual}, expected {expected}"


@given(shape=image_shapes(), filters=st.integers(1, 8), kernel=st.integers(1, 7))
def test_same_padding_with_stride_one_keeps_the_height_and_width(conv, shape, filters,
                                                                  kernel):
    actual = as_shape(conv.conv_output_shape(shape, filters, kernel), "conv_output_shape")
    assert actual == (shape[0], shape[1], filters), (
        f"conv_output_shape({shape}, {filters}, {kernel}) = {actual}, expected "
        f"{(shape[0], shape[1], filters)}: 'same' padding with stride 1 keeps H and W")


def test_conv_output_shape_rejects_invalid_arguments(conv):
    conv.conv_output_shape((8, 8, 3), 4, 3)
    for kwargs, because in [
        ({"kernel_size": 0}, "a kernel must be at least 1"),
        ({"kernel_size": 3, "stride": 0}, "a stride must be at least 1"),
        ({"kernel_size": 3, "padding": "full"}, "padding is 'same' or 'valid'"),
        ({"kernel_size": 9, "padding": "valid"}, "a 9x9 kernel does not fit in 8x8"),
    ]:
        expect_error("ValueError", lambda kw=kwargs: conv.conv_output_shape((8, 8, 3), 4, **kw),
                     what=f"conv_output_shape((8, 8, 3), 4, **{kwargs})", because=because)


# --------------------------------------------------------------------------- pool_output_shape


@pytest.mark.value_test
@given(case=pool_cases())
def test_pool_output_shape_counts_the_window_positions_and_keeps_channels(conv, case):
    height, width, channels = case["input_shape"]
    window = as_pair(case["pool_size"])
    stride = as_pair(case.get("stride") or case["pool_size"])
    padding = case.get("padding", "valid")
    expected = (window_positions(height, window[0], stride[0], padding),
                window_positions(width, window[1], stride[1], padding), channels)
    what = f"pool_output_shape(**{case})"
    actual = as_shape(conv.pool_output_shape(**case), what)
    assert actual == expected, (
        f"{what} = {actual}, expected {expected} (the stride defaults to the pool size, "
        f"the padding to 'valid', and a pool keeps the channels)")


def test_pool_output_shape_on_the_handouts_example(conv):
    actual = as_shape(conv.pool_output_shape((32, 32, 16)), "pool_output_shape((32, 32, 16))")
    assert actual == (16, 16, 16), (
        f"pool_output_shape((32, 32, 16)) = {actual}, expected (16, 16, 16): a max pool with "
        f"field 2 halves the height and the width")


# --------------------------------------------------------------------------- build_conv_stack

HANDOUT_BLOCKS = [{"filters": 16, "kernel_size": 5}, {"filters": 16, "kernel_size": 5}]


def test_build_conv_stack_gives_the_handouts_shapes(conv):
    model = conv.build_conv_stack((32, 32, 3), HANDOUT_BLOCKS, 10)
    kinds = layer_kinds(model, "build_conv_stack")
    expected_kinds = ["conv", "relu", "maxpool"] * 2 + ["flatten", "fc", "softmax"]
    assert kinds == expected_kinds, (
        f"build_conv_stack's layers are {kinds}, expected {expected_kinds}: each block is "
        f"conv -> activation -> max pool, then flatten, dense and softmax")
    expected = [(32, 32, 16), (32, 32, 16), (16, 16, 16), (16, 16, 16), (16, 16, 16),
                (8, 8, 16), (1024,), (10,), (10,)]
    assert output_shapes_of(model) == expected, (
        f"build_conv_stack's output shapes are {output_shapes_of(model)}, expected {expected}")


@settings(max_examples=6)
@given(shape=image_shapes(min_side=4, max_side=10), data=st.data(),
       num_classes=st.integers(1, 5))
def test_build_conv_stack_ends_in_a_softmax_over_the_classes(conv, shape, data, num_classes):
    blocks = data.draw(conv_blocks(shape), label="blocks")
    model = conv.build_conv_stack(shape, blocks, num_classes)
    kinds = layer_kinds(model, "build_conv_stack")
    assert kinds[-3:] == ["flatten", "fc", "softmax"], (
        f"build_conv_stack's last layers are {kinds[-3:]}, expected flatten, dense, softmax")
    assert model["layers"][-1]["output_shape"] == [None, num_classes], (
        f"the model's output shape is {model['layers'][-1]['output_shape']}, expected "
        f"(None, {num_classes})")
    convs = kinds.count("conv")
    assert convs == len(blocks), f"{convs} Conv2D layers for {len(blocks)} blocks"


@pytest.mark.parametrize(("blocks", "because"), [
    ([{"filters": 4, "kernel_size": 3, "colour": "red"}], "'colour' is not a block key"),
    ([{"kernel_size": 3}], "a block needs 'filters'"),
    ([{"filters": 0, "kernel_size": 3}], "filters must be a positive int"),
    ([{"filters": 4, "kernel_size": 3, "activation": "sigmoid"}], "sigmoid is not offered"),
    ([{"filters": 4, "kernel_size": 3, "pool_size": 16}], "a 16x16 pool on an 8x8 map"),
])
def test_build_conv_stack_rejects_invalid_blocks(conv, blocks, because):
    conv.build_conv_stack((8, 8, 1), [{"filters": 2, "kernel_size": 3}], 3)
    expect_error("ValueError", lambda: conv.build_conv_stack((8, 8, 1), blocks, 3),
                 what=f"build_conv_stack((8, 8, 1), {blocks}, 3)", because=because)
