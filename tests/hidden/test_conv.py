"""Hidden tests for ``conv.py``: the candidate against the reference solutions.

Shapes, kernels, strides and paddings are drawn by hypothesis; the reference gives the
expected shape, and a wrong shape is named from the catalogue ``tests/support/mistakes/conv.py``
when it is exactly what a classic mistake gives for that call. The
models from ``build_conv_stack`` are checked layer by layer against the reference's
arithmetic (``conv_output_shape`` and ``pool_output_shape``).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.compare import expect_error
from tests.support.conv_strategies import (
    ACTIVATIONS,
    conv_blocks,
    conv_cases,
    expect_float32,
    image_shapes,
    layer_kinds,
    output_shapes_of,
    parameter_count,
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

pytestmark = [pytest.mark.hidden, pytest.mark.task("conv")]


@pytest.fixture(scope="module")
def conv(candidate):
    return candidate.module("conv")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("conv")


def check_conv(conv, ref, case: dict) -> None:
    expect_shape(
        conv.conv_output_shape(**case),
        ref.conv_output_shape(**case),
        what=call_text("conv_output_shape", case),
        mistakes=conv_mistakes(case),
    )


def check_pool(conv, ref, case: dict) -> None:
    expect_shape(
        conv.pool_output_shape(**case),
        ref.pool_output_shape(**case),
        what=call_text("pool_output_shape", case),
        mistakes=pool_mistakes(case),
    )


# --------------------------------------------------------------------------- shapes


@given(case=conv_cases())
def test_conv_output_shape_matches_the_reference(conv, ref, case):
    check_conv(conv, ref, case)


@given(case=conv_cases(padding="same"))
def test_conv_output_shape_with_same_padding_matches_the_reference(conv, ref, case):
    check_conv(conv, ref, case)


@given(case=conv_cases(padding="valid"))
def test_conv_output_shape_with_valid_padding_matches_the_reference(conv, ref, case):
    check_conv(conv, ref, case)


@given(case=pool_cases())
def test_pool_output_shape_matches_the_reference(conv, ref, case):
    check_pool(conv, ref, case)


@given(shape=image_shapes(), pool=st.integers(1, 4))
def test_pool_output_shape_defaults_match_the_reference(conv, ref, shape, pool):
    check_pool(conv, ref, {"input_shape": shape, "pool_size": min(pool, shape[0], shape[1])})


@given(case=conv_cases())
def test_conv_output_shape_rejects_what_the_reference_rejects(conv, ref, case):
    conv.conv_output_shape(**case)
    height, width, _ = case["input_shape"]
    too_big = {**case, "kernel_size": (height + 1, 1), "padding": "valid"}
    expect_error(
        "ValueError",
        lambda: ref.conv_output_shape(**too_big),
        what="reference",
        because="(sanity check)",
    )
    expect_error(
        "ValueError",
        lambda: conv.conv_output_shape(**too_big),
        what=f"conv_output_shape(**{too_big})",
        because="with 'valid' padding the kernel must fit in the input",
    )
    for bad in ({"filters": 0}, {"stride": -1}, {"padding": "causal"}):
        expect_error(
            "ValueError",
            lambda b=bad: conv.conv_output_shape(**{**case, **b}),
            what=f"conv_output_shape with {bad}",
            because="the argument is invalid",
        )


# --------------------------------------------------------------------------- build_conv_stack


def check_stack(conv, ref, shape, blocks, num_classes) -> None:
    """The layers in order, each layer's output shape (the reference's arithmetic), and
    the number of parameters."""
    model = conv.build_conv_stack(shape, blocks, num_classes)
    what = f"build_conv_stack({shape}, {blocks}, {num_classes})"
    expect_stack_kinds(layer_kinds(model, what), blocks, what)
    expect_float32(model, what)
    check_stack_shapes(
        output_shapes_of(model),
        shape,
        blocks,
        num_classes,
        what,
        conv_shape=lambda current, block: ref.conv_output_shape(
            current, block["filters"], block["kernel_size"], block.get("stride", 1), "same"
        ),
        pool_shape=lambda current, block: ref.pool_output_shape(current, block.get("pool_size", 2)),
    )
    expected_params = parameter_count(ref.build_conv_stack(shape, blocks, num_classes), "reference")
    assert parameter_count(model, what) == expected_params, (
        f"{what} has {parameter_count(model, what)} parameters, expected {expected_params}"
    )


@settings(max_examples=8)
@given(shape=image_shapes(min_side=3, max_side=10), data=st.data(), num_classes=st.integers(1, 6))
def test_build_conv_stack_matches_the_reference_layer_by_layer(conv, ref, shape, data, num_classes):
    blocks = data.draw(conv_blocks(shape), label="blocks")
    check_stack(conv, ref, shape, blocks, num_classes)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_build_conv_stack_maps_each_activation_to_its_layer(conv, ref, activation):
    blocks = [
        {"filters": 2, "kernel_size": 3, "activation": activation, "pool_size": 2},
        {"filters": 3, "kernel_size": (3, 1), "stride": 2, "pool_size": None},
    ]
    check_stack(conv, ref, (9, 8, 2), blocks, 4)


def test_build_conv_stack_with_the_handouts_blocks(conv, ref):
    blocks = [{"filters": 16, "kernel_size": 5, "stride": 1, "pool_size": 2}] * 2
    check_stack(conv, ref, (32, 32, 3), blocks, 10)


def test_build_conv_stack_with_no_blocks_is_a_linear_classifier(conv, ref):
    check_stack(conv, ref, (4, 5, 2), [], 3)


@pytest.mark.parametrize(
    ("blocks", "because"),
    [
        ([{"filters": 4, "kernel_size": 3, "padding": "valid"}], "'padding' is not a block key"),
        ([{"kernel_size": 3, "stride": 1}], "a block needs 'filters'"),
        (
            [{"filters": 2, "kernel_size": 3}, {"filters": -1, "kernel_size": 3}],
            "filters must be a positive int",
        ),
        ([{"filters": 2, "kernel_size": 0}], "kernel_size must be positive"),
        ([{"filters": 2, "kernel_size": 3, "stride": 0}], "a stride must be positive"),
        ([{"filters": 2, "kernel_size": 3, "activation": "softmax"}], "softmax is not offered"),
        (
            [{"filters": 2, "kernel_size": 3, "pool_size": 2}] * 3,
            "the third pool would shrink the 1x1 map below 1x1",
        ),
        (
            [{"filters": 2, "kernel_size": 3, "stride": 4, "pool_size": 3}],
            "a 3x3 pool on the 2x2 map left by stride 4",
        ),
    ],
)
def test_build_conv_stack_rejects_invalid_blocks(conv, ref, blocks, because):
    conv.build_conv_stack((6, 6, 1), [{"filters": 2, "kernel_size": 3}], 3)
    expect_error(
        "ValueError",
        lambda: ref.build_conv_stack((6, 6, 1), blocks, 3),
        what="reference",
        because="(sanity check)",
    )
    expect_error(
        "ValueError",
        lambda: conv.build_conv_stack((6, 6, 1), blocks, 3),
        what=f"build_conv_stack((6, 6, 1), {blocks}, 3)",
        because=because,
    )


def test_build_conv_stack_rejects_an_invalid_number_of_classes(conv):
    conv.build_conv_stack((6, 6, 1), [], 3)
    expect_error(
        "ValueError",
        lambda: conv.build_conv_stack((6, 6, 1), [], 0),
        what="build_conv_stack((6, 6, 1), [], 0)",
        because="num_classes must be a positive int",
    )
