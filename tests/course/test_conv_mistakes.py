"""The conv and model_builder mistake catalogues name a mistake only where it applies.

``tests/support/mistakes/conv.py`` and ``.../model_builder.py`` are shared by the public
and hidden tests; these tests check the catalogues themselves (no candidate involved).
"""

from __future__ import annotations

import pytest

from tests.public.test_conv import CONV_EXAMPLES, conv_expected, pool_expected
from tests.support.mistakes import conv as catalogue
from tests.support.mistakes import model_builder as builder_catalogue


def message(actual, expected, what, mistakes) -> str:
    with pytest.raises(AssertionError) as failure:
        catalogue.expect_shape(actual, expected, what=what, mistakes=mistakes)
    return str(failure.value)


def test_a_pool_call_that_sets_padding_and_stride_gets_no_note_about_their_defaults():
    case = {"input_shape": (9, 9, 1), "pool_size": 2, "stride": 2, "padding": "same"}
    messages = [mistake.message for mistake in catalogue.pool_mistakes(case)]
    assert catalogue.SAME_FLOOR in messages
    assert catalogue.POOL_SAME_DEFAULT not in messages
    assert catalogue.POOL_STRIDE_ONE not in messages
    text = message(
        (4, 4, 1), pool_expected(case), "pool_output_shape(...)", catalogue.pool_mistakes(case)
    )
    assert "'same' padding rounded down" in text and "default" not in text


def test_a_pool_call_that_leaves_the_defaults_out_can_be_told_about_them():
    case = {"input_shape": (7, 7, 3), "pool_size": 2}
    assert pool_expected(case) == (3, 3, 3)
    assert catalogue.POOL_STRIDE_ONE in message(
        (6, 6, 3), (3, 3, 3), "p", catalogue.pool_mistakes(case)
    )
    assert catalogue.POOL_SAME_DEFAULT in message(
        (4, 4, 3), (3, 3, 3), "p", catalogue.pool_mistakes(case)
    )


def test_a_mistake_is_named_only_when_it_gives_exactly_the_received_shape():
    case = {"input_shape": (10, 10, 2), "filters": 3, "kernel_size": 5, "stride": 3}
    mistakes = catalogue.conv_mistakes(case)
    text = message((3, 3, 3), conv_expected(case), "conv_output_shape(...)", mistakes)
    assert text.splitlines() == [
        "conv_output_shape(...)",
        "  received (3, 3, 3), expected (4, 4, 3)",
        f"Likely mistake: {catalogue.SAME_FLOOR}",
    ]
    assert "Likely mistake" not in message((5, 5, 3), (4, 4, 3), "c", mistakes)
    assert catalogue.CHANNELS_KEPT in message((4, 4, 2), (4, 4, 3), "c", mistakes)


def test_two_mistakes_that_give_the_same_shape_are_both_named():
    case = {"input_shape": (2, 2, 1), "filters": 1, "kernel_size": 2}
    text = message((1, 1, 1), (2, 2, 1), "c", catalogue.conv_mistakes(case))
    assert catalogue.SAME_AS_VALID in text and catalogue.SAME_SYMMETRIC in text
    assert len(text.splitlines()) <= 6


def test_the_worked_examples_have_the_handouts_numbers():
    assert [conv_expected(case) for case in CONV_EXAMPLES[:4]] == [
        (32, 32, 16),
        (28, 28, 16),
        (4, 4, 4),
        (3, 3, 4),
    ]


@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_the_same_rule_is_keras_and_symmetric_padding_differs_only_for_even_kernels(kernel, stride):
    import keras

    layer = keras.layers.Conv2D(1, kernel, strides=stride, padding="same")
    differ = []
    for length in range(1, 12):
        rows = layer.compute_output_shape((None, length, length, 1))[1]
        assert catalogue.RULES["same"](length, kernel, stride) == rows
        if catalogue.RULES["symmetric"](length, kernel, stride) != rows:
            differ.append(length)
    assert bool(differ) == (kernel % 2 == 0)


def test_model_builder_names_conv_mistakes_only_at_or_after_a_conv():
    specs = [
        {"type": "maxpool", "field": 2},
        {"type": "conv", "filters": 3, "kernel": 3},
        {"type": "flatten"},
    ]
    before = {m.message for m in builder_catalogue.shape_mistakes((8, 8, 1), specs, 0)}
    after = {m.message for m in builder_catalogue.shape_mistakes((8, 8, 1), specs, 2)}
    assert builder_catalogue.CONV_VALID not in before and builder_catalogue.FLATTEN_HW not in before
    assert {builder_catalogue.CONV_VALID, builder_catalogue.FLATTEN_HW} <= after
    text = message(
        (16,), (48,), "output_shapes(...)[2]", builder_catalogue.shape_mistakes((8, 8, 1), specs, 2)
    )
    assert builder_catalogue.FLATTEN_HW in text
