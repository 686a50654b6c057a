"""Hidden tests for ``conv.py``: the candidate against the reference solutions.

Shapes, kernels, strides and paddings are drawn by hypothesis; the reference gives the
expected shape, and a wrong shape is matched against what the usual mistakes give. The
models from ``build_conv_stack`` are checked layer by layer against the reference's
arithmetic (``conv_output_shape`` and ``pool_output_shape``).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close, expect_error
from tests.support.conv_strategies import (
    ACTIVATIONS,
    as_pair,
    conv_blocks,
    conv_cases,
    image_shapes,
    layer_kinds,
    output_shapes_of,
    parameter_count,
    pool_cases,
)

pytestmark = [pytest.mark.hidden, pytest.mark.task("conv")]


@pytest.fixture(scope="module")
def conv(candidate):
    return candidate.module("conv")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("conv")


# --------------------------------------------------------------------------- known mistakes


def _length(n: int, k: int, s: int, rule: str) -> int:
    return {"floor": (n - k) // s + 1, "ceil": math.ceil((n - k) / s) + 1,
            "same": math.ceil(n / s), "same_floor": n // s}[rule]


def _shape(shape, kernel, stride, rule, channels):
    kernel, stride = as_pair(kernel), as_pair(stride)
    return (_length(shape[0], kernel[0], stride[0], rule),
            _length(shape[1], kernel[1], stride[1], rule), channels)


def window_mistakes(shape, kernel, stride, padding, channels, expected) -> list[Mistake]:
    """Mistakes shared by convolutions and pools (``channels``: the right channels)."""
    rule = "floor" if padding == "valid" else "same"
    mistakes = []
    if padding == "valid":
        mistakes += [
            Mistake("ceil instead of floor: with 'valid' padding the window must end inside "
                    "the input, floor((H - k) / s) + 1",
                    lambda: _shape(shape, kernel, stride, "ceil", channels)),
            Mistake("'valid' padding computed as 'same': without padding the output is "
                    "floor((H - k) / s) + 1", lambda: _shape(shape, kernel, stride, "same",
                                                             channels)),
        ]
    else:
        mistakes += [
            Mistake("'same' padding computed as 'valid': with 'same' padding the output is "
                    "ceil(H / s), whatever the kernel",
                    lambda: _shape(shape, kernel, stride, "floor", channels)),
            Mistake("floor instead of ceil: with 'same' padding the output is ceil(H / s)",
                    lambda: _shape(shape, kernel, stride, "same_floor", channels)),
        ]
    pair = as_pair(kernel)
    mistakes += [
        Mistake("stride ignored: divide by the stride", lambda: _shape(shape, kernel, 1, rule,
                                                                       channels)),
        Mistake("height and width swapped: kernel_size and stride pairs are (height, width)",
                lambda: _shape(shape, (pair[1], pair[0]), tuple(reversed(as_pair(stride))),
                               rule, channels)),
    ]
    return mistakes


def conv_mistakes(case: dict, expected) -> list[Mistake]:
    shape = case["input_shape"]
    mistakes = window_mistakes(shape, case["kernel_size"], case["stride"], case["padding"],
                               case["filters"], expected)
    mistakes.append(Mistake("channels wrong: the output has `filters` channels, one per filter "
                            "(not the input's channels)",
                            lambda: (*expected[:2], shape[2])))
    mistakes.append(Mistake("channels wrong: the output has `filters` channels, not "
                            "C * filters", lambda: (*expected[:2], shape[2] * case["filters"])))
    return mistakes


def pool_mistakes(case: dict, expected) -> list[Mistake]:
    shape = case["input_shape"]
    padding = case.get("padding", "valid")
    stride = case.get("stride") or case["pool_size"]
    mistakes = []
    if case.get("stride") is None:
        rule = "floor" if padding == "valid" else "same"
        mistakes.append(Mistake("the pool stride default should be pool_size, not 1: a max "
                                "pool with field 2 halves the map",
                                lambda: _shape(shape, case["pool_size"], 1, rule, shape[2])))
    if "padding" not in case:
        mistakes.append(Mistake("a max pool's padding defaults to 'valid', not 'same'",
                                lambda: _shape(shape, case["pool_size"], stride, "same",
                                               shape[2])))
    mistakes += window_mistakes(shape, case["pool_size"], stride, padding, shape[2], expected)
    return mistakes


# --------------------------------------------------------------------------- shapes


@given(case=conv_cases())
def test_conv_output_shape_matches_the_reference(conv, ref, case):
    expected = ref.conv_output_shape(**case)
    actual = conv.conv_output_shape(**case)
    expect_close(actual, expected, what=f"conv_output_shape(**{case})",
                 mistakes=conv_mistakes(case, expected), rtol=0, atol=0)


@given(case=conv_cases(padding="same"))
def test_conv_output_shape_with_same_padding_matches_the_reference(conv, ref, case):
    expected = ref.conv_output_shape(**case)
    expect_close(conv.conv_output_shape(**case), expected, what=f"conv_output_shape(**{case})",
                 mistakes=conv_mistakes(case, expected), rtol=0, atol=0)


@given(case=conv_cases(padding="valid"))
def test_conv_output_shape_with_valid_padding_matches_the_reference(conv, ref, case):
    expected = ref.conv_output_shape(**case)
    expect_close(conv.conv_output_shape(**case), expected, what=f"conv_output_shape(**{case})",
                 mistakes=conv_mistakes(case, expected), rtol=0, atol=0)


@given(case=pool_cases())
def test_pool_output_shape_matches_the_reference(conv, ref, case):
    expected = ref.pool_output_shape(**case)
    expect_close(conv.pool_output_shape(**case), expected, what=f"pool_output_shape(**{case})",
                 mistakes=pool_mistakes(case, expected), rtol=0, atol=0)


@given(shape=image_shapes(), pool=st.integers(1, 4))
def test_pool_output_shape_defaults_match_the_reference(conv, ref, shape, pool):
    pool = min(pool, shape[0], shape[1])
    case = {"input_shape": shape, "pool_size": pool}
    expected = ref.pool_output_shape(shape, pool)
    expect_close(conv.pool_output_shape(shape, pool), expected,
                 what=f"pool_output_shape({shape}, {pool})",
                 mistakes=pool_mistakes(case, expected), rtol=0, atol=0)


@given(case=conv_cases())
def test_conv_output_shape_rejects_what_the_reference_rejects(conv, ref, case):
    conv.conv_output_shape(**case)
    height, width, _ = case["input_shape"]
    too_big = {**case, "kernel_size": (height + 1, 1), "padding": "valid"}
    expect_error("ValueError", lambda: ref.conv_output_shape(**too_big), what="reference",
                 because="(sanity check)")
    expect_error("ValueError", lambda: conv.conv_output_shape(**too_big),
                 what=f"conv_output_shape(**{too_big})",
                 because="with 'valid' padding the kernel must fit in the input")
    for bad in ({"filters": 0}, {"stride": -1}, {"padding": "causal"}):
        expect_error("ValueError", lambda b=bad: conv.conv_output_shape(**{**case, **b}),
                     what=f"conv_output_shape with {bad}", because="the argument is invalid")


# --------------------------------------------------------------------------- build_conv_stack


def expected_kinds(blocks: list[dict]) -> list[str]:
    kinds = []
    for block in blocks:
        kinds += ["conv", block.get("activation", "relu")]
        if block.get("pool_size", 2):
            kinds.append("maxpool")
    return [*kinds, "flatten", "fc", "softmax"]


def kinds_feedback(kinds: list[str], wanted: list[str], blocks: list[dict]) -> str:
    if len(kinds) == len(wanted):
        swapped = [i for i in range(len(kinds) - 1)
                   if (wanted[i], wanted[i + 1]) == (kinds[i + 1], kinds[i])
                   and kinds[i] == "maxpool"]
        if swapped:
            return ("the max pool comes before the activation: each block is conv -> "
                    "activation -> max pool")
        wrong = [(w, k) for w, k in zip(wanted, kinds) if w != k]
        if wrong and all(w in ACTIVATIONS for w, _ in wrong):
            w, k = wrong[0]
            return (f"wrong activation mapping: activation {w!r} gives a layer that computes "
                    f"{k} (relu6 is ReLU(max_value=6), leaky_relu is LeakyReLU(), tanh is "
                    f"Activation('tanh'))")
    if "maxpool" not in kinds and "maxpool" in wanted:
        return "no max pool layers: each block ends with MaxPooling2D(pool_size)"
    return "each block is conv -> activation -> max pool, then flatten, dense and softmax"


def check_stack(conv, ref, shape, blocks, num_classes) -> None:
    model = conv.build_conv_stack(shape, blocks, num_classes)
    what = f"build_conv_stack({shape}, {blocks}, {num_classes})"
    kinds, wanted = layer_kinds(model, what), expected_kinds(blocks)
    assert kinds == wanted, (
        f"{what} has the layers {kinds}, expected {wanted}. Likely mistake: "
        f"{kinds_feedback(kinds, wanted, blocks)}")
    shapes = output_shapes_of(model)
    current, index = tuple(shape), 0
    for number, block in enumerate(blocks):
        stride = block.get("stride", 1)
        expected = tuple(ref.conv_output_shape(current, block["filters"], block["kernel_size"],
                                               stride, "same"))
        mistakes = [Mistake("the convolutions must use padding='same'",
                            lambda b=block, c=current, s=stride: _shape(
                                c, b["kernel_size"], s, "floor", b["filters"])),
                    Mistake("the conv stride is ignored: pass strides=stride to Conv2D",
                            lambda b=block, c=current: _shape(c, 1, 1, "same", b["filters"]))]
        expect_close(shapes[index], expected, what=f"{what}: the output of block {number}'s "
                     f"Conv2D", mistakes=mistakes, rtol=0, atol=0)
        expect_close(shapes[index + 1], expected, what=f"{what}: the output of block "
                     f"{number}'s activation", rtol=0, atol=0)
        current, index = expected, index + 2
        pool = block.get("pool_size", 2)
        if pool:
            expected = tuple(ref.pool_output_shape(current, pool))
            mistakes = [Mistake("the pool's stride must be the pool size (the default of "
                                "MaxPooling2D): strides=1 hardly shrinks the map",
                                lambda c=current, p=pool: _shape(c, p, 1, "floor", c[2]))]
            expect_close(shapes[index], expected, what=f"{what}: the output of block "
                         f"{number}'s MaxPooling2D", mistakes=mistakes, rtol=0, atol=0)
            current, index = expected, index + 1
    flat = math.prod(current)
    expect_close(shapes[index:], [(flat,), (num_classes,), (num_classes,)],
                 what=f"{what}: the outputs of Flatten, Dense and Softmax", rtol=0, atol=0)
    expected_params = parameter_count(ref.build_conv_stack(shape, blocks, num_classes),
                                      "reference")
    assert parameter_count(model, what) == expected_params, (
        f"{what} has {parameter_count(model, what)} parameters, expected {expected_params}")


@settings(max_examples=8)
@given(shape=image_shapes(min_side=3, max_side=10), data=st.data(),
       num_classes=st.integers(1, 6))
def test_build_conv_stack_matches_the_reference_layer_by_layer(conv, ref, shape, data,
                                                                num_classes):
    blocks = data.draw(conv_blocks(shape), label="blocks")
    check_stack(conv, ref, shape, blocks, num_classes)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_build_conv_stack_maps_each_activation_to_its_layer(conv, ref, activation):
    blocks = [{"filters": 2, "kernel_size": 3, "activation": activation, "pool_size": 2},
              {"filters": 3, "kernel_size": (3, 1), "stride": 2, "pool_size": None}]
    check_stack(conv, ref, (9, 8, 2), blocks, 4)


def test_build_conv_stack_with_the_handouts_blocks(conv, ref):
    blocks = [{"filters": 16, "kernel_size": 5, "stride": 1, "pool_size": 2}] * 2
    check_stack(conv, ref, (32, 32, 3), blocks, 10)


def test_build_conv_stack_with_no_blocks_is_a_linear_classifier(conv, ref):
    check_stack(conv, ref, (4, 5, 2), [], 3)


@pytest.mark.parametrize(("blocks", "because"), [
    ([{"filters": 4, "kernel_size": 3, "padding": "valid"}], "'padding' is not a block key"),
    ([{"kernel_size": 3, "stride": 1}], "a block needs 'filters'"),
    ([{"filters": 2, "kernel_size": 3}, {"filters": -1, "kernel_size": 3}],
     "filters must be a positive int"),
    ([{"filters": 2, "kernel_size": 0}], "kernel_size must be positive"),
    ([{"filters": 2, "kernel_size": 3, "stride": 0}], "a stride must be positive"),
    ([{"filters": 2, "kernel_size": 3, "activation": "softmax"}], "softmax is not offered"),
    ([{"filters": 2, "kernel_size": 3, "pool_size": 2}] * 3,
     "the third pool would shrink the 1x1 map below 1x1"),
    ([{"filters": 2, "kernel_size": 3, "stride": 4, "pool_size": 3}],
     "a 3x3 pool on the 2x2 map left by stride 4"),
])
def test_build_conv_stack_rejects_invalid_blocks(conv, ref, blocks, because):
    conv.build_conv_stack((6, 6, 1), [{"filters": 2, "kernel_size": 3}], 3)
    expect_error("ValueError", lambda: ref.build_conv_stack((6, 6, 1), blocks, 3),
                 what="reference", because="(sanity check)")
    expect_error("ValueError", lambda: conv.build_conv_stack((6, 6, 1), blocks, 3),
                 what=f"build_conv_stack((6, 6, 1), {blocks}, 3)", because=because)


def test_build_conv_stack_rejects_an_invalid_number_of_classes(conv):
    conv.build_conv_stack((6, 6, 1), [], 3)
    expect_error("ValueError", lambda: conv.build_conv_stack((6, 6, 1), [], 0),
                 what="build_conv_stack((6, 6, 1), [], 0)",
                 because="num_classes must be a positive int")
