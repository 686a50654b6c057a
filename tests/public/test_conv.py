"""Public tests for ``conv.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_conv.py`` (or ``grader check conv``). They need no
reference solution: shapes are checked against the handout's numbers and against the
definition of a sliding window (count the positions where the window can start). A wrong
shape is named from the catalogue ``tests/support/mistakes/conv.py`` when it is exactly what
a classic mistake gives for that call.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.compare import expect_error
from tests.support.conv_strategies import (
    ACTIVATIONS,
    as_pair,
    conv_blocks,
    conv_cases,
    expect_float32,
    image_shapes,
    layer_kinds,
    output_shapes_of,
    pool_cases,
)
from tests.support.mistakes.conv import (
    call_text,
    check_stack_shapes,
    conv_mistakes,
    expect_shape,
    expect_stack_kinds,
    pool_mistakes,
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


def counted_shape(shape, window, stride, padding: str, channels: int) -> tuple[int, int, int]:
    (kh, kw), (sh, sw) = as_pair(window), as_pair(stride)
    return (
        window_positions(shape[0], kh, sh, padding),
        window_positions(shape[1], kw, sw, padding),
        channels,
    )


def conv_expected(case: dict) -> tuple[int, int, int]:
    return counted_shape(
        case["input_shape"],
        case["kernel_size"],
        case.get("stride", 1),
        case.get("padding", "same"),
        case["filters"],
    )


def pool_expected(case: dict) -> tuple[int, int, int]:
    window = case.get("pool_size", 2)
    return counted_shape(
        case["input_shape"],
        window,
        case.get("stride") or window,
        case.get("padding", "valid"),
        case["input_shape"][2],
    )


def check_conv(conv, case: dict) -> None:
    expect_shape(
        conv.conv_output_shape(**case),
        conv_expected(case),
        what=call_text("conv_output_shape", case),
        mistakes=conv_mistakes(case),
    )


def check_pool(conv, case: dict) -> None:
    expect_shape(
        conv.pool_output_shape(**case),
        pool_expected(case),
        what=call_text("pool_output_shape", case),
        mistakes=pool_mistakes(case),
    )


# --------------------------------------------------------------------------- conv_output_shape

# The handout's numbers, and calls where each classic mistake gives its own shape.
CONV_EXAMPLES = [
    {"input_shape": (32, 32, 3), "filters": 16, "kernel_size": 5},  # (32, 32, 16)
    {"input_shape": (32, 32, 3), "filters": 16, "kernel_size": 5, "padding": "valid"},
    {"input_shape": (7, 7, 1), "filters": 4, "kernel_size": 3, "stride": 2, "padding": "same"},
    {"input_shape": (7, 7, 1), "filters": 4, "kernel_size": 3, "stride": 2, "padding": "valid"},
    {
        "input_shape": (28, 28, 1),
        "filters": 8,
        "kernel_size": (3, 5),
        "stride": (1, 2),
        "padding": "valid",
    },
    {"input_shape": (10, 10, 2), "filters": 3, "kernel_size": 5, "stride": 3},
    {"input_shape": (6, 6, 1), "filters": 2, "kernel_size": 4},
]


@pytest.mark.value_test
@pytest.mark.parametrize("case", CONV_EXAMPLES, ids=lambda case: call_text("", case)[1:-1])
def test_conv_output_shape_on_worked_examples(conv, case):
    check_conv(conv, case)


@pytest.mark.value_test
@given(case=conv_cases())
def test_conv_output_shape_counts_the_window_positions(conv, case):
    check_conv(conv, case)


@given(shape=image_shapes(), filters=st.integers(1, 8), kernel=st.integers(1, 7))
def test_same_padding_with_stride_one_keeps_the_height_and_width(conv, shape, filters, kernel):
    check_conv(conv, {"input_shape": shape, "filters": filters, "kernel_size": kernel})


def test_conv_output_shape_rejects_invalid_arguments(conv):
    conv.conv_output_shape((8, 8, 3), 4, 3)
    for kwargs, because in [
        ({"kernel_size": 0}, "a kernel must be at least 1"),
        ({"kernel_size": 3, "stride": 0}, "a stride must be at least 1"),
        ({"kernel_size": 3, "padding": "full"}, "padding is 'same' or 'valid'"),
        ({"kernel_size": 9, "padding": "valid"}, "a 9x9 kernel does not fit in 8x8"),
    ]:
        expect_error(
            "ValueError",
            lambda kw=kwargs: conv.conv_output_shape((8, 8, 3), 4, **kw),
            what=f"conv_output_shape((8, 8, 3), 4, **{kwargs})",
            because=because,
        )


# --------------------------------------------------------------------------- pool_output_shape

POOL_EXAMPLES = [
    {"input_shape": (32, 32, 16)},  # the handout's: (16, 16, 16)
    {"input_shape": (32, 32, 16), "pool_size": 2},
    {"input_shape": (7, 7, 3), "pool_size": 2},
    {"input_shape": (5, 5, 1), "pool_size": 3, "stride": 1},
    {"input_shape": (10, 10, 1), "pool_size": 5, "stride": 3, "padding": "same"},
    {"input_shape": (9, 6, 2), "pool_size": (3, 2), "stride": (2, 1), "padding": "valid"},
]


@pytest.mark.value_test
@pytest.mark.parametrize("case", POOL_EXAMPLES, ids=lambda case: call_text("", case)[1:-1])
def test_pool_output_shape_on_worked_examples(conv, case):
    check_pool(conv, case)


@pytest.mark.value_test
@given(case=pool_cases())
def test_pool_output_shape_counts_the_window_positions_and_keeps_channels(conv, case):
    check_pool(conv, case)


# --------------------------------------------------------------------------- build_conv_stack

HANDOUT_BLOCKS = [{"filters": 16, "kernel_size": 5}, {"filters": 16, "kernel_size": 5}]


def check_stack(conv, shape, blocks, num_classes) -> None:
    """The layers in order, then each layer's output shape, counted as above."""
    what = f"build_conv_stack({shape}, {blocks}, {num_classes})"
    model = conv.build_conv_stack(shape, blocks, num_classes)
    expect_stack_kinds(layer_kinds(model, what), blocks, what)
    expect_float32(model, what)
    check_stack_shapes(
        output_shapes_of(model),
        shape,
        blocks,
        num_classes,
        what,
        conv_shape=lambda current, block: counted_shape(
            current, block["kernel_size"], block.get("stride", 1), "same", block["filters"]
        ),
        pool_shape=lambda current, block: counted_shape(
            current, block.get("pool_size", 2), block.get("pool_size", 2), "valid", current[2]
        ),
    )


@pytest.mark.value_test
def test_build_conv_stack_gives_the_handouts_shapes(conv):
    check_stack(conv, (32, 32, 3), HANDOUT_BLOCKS, 10)


@pytest.mark.value_test
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_build_conv_stack_maps_each_activation_to_its_layer(conv, activation):
    blocks = [
        {"filters": 2, "kernel_size": 3, "activation": activation},
        {"filters": 3, "kernel_size": (3, 1), "stride": 2, "pool_size": None},
    ]
    check_stack(conv, (9, 8, 2), blocks, 4)


@pytest.mark.value_test
@settings(max_examples=6)
@given(shape=image_shapes(min_side=4, max_side=10), data=st.data(), num_classes=st.integers(1, 5))
def test_build_conv_stack_follows_its_blocks_layer_by_layer(conv, shape, data, num_classes):
    check_stack(conv, shape, data.draw(conv_blocks(shape), label="blocks"), num_classes)


@pytest.mark.parametrize(
    ("blocks", "because"),
    [
        ([{"filters": 4, "kernel_size": 3, "colour": "red"}], "'colour' is not a block key"),
        ([{"kernel_size": 3}], "a block needs 'filters'"),
        ([{"filters": 0, "kernel_size": 3}], "filters must be a positive int"),
        ([{"filters": 4, "kernel_size": 3, "activation": "sigmoid"}], "sigmoid is not offered"),
        ([{"filters": 4, "kernel_size": 3, "pool_size": 16}], "a 16x16 pool on an 8x8 map"),
    ],
)
def test_build_conv_stack_rejects_invalid_blocks(conv, blocks, because):
    conv.build_conv_stack((8, 8, 1), [{"filters": 2, "kernel_size": 3}], 3)
    expect_error(
        "ValueError",
        lambda: conv.build_conv_stack((8, 8, 1), blocks, 3),
        what=f"build_conv_stack((8, 8, 1), {blocks}, 3)",
        because=because,
    )
