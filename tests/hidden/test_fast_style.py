"""Hidden tests for ``fast_style.py``: the architecture against the reference's, the
invariances that instance normalisation and reflection padding give, the residual block,
gradients, and training. Mistakes are named from ``tests/support/mistakes/fast_style.py``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import expect_close
from tests.support.mistakes import fast_style as mistakes
from tests.support.style_strategies import (
    FEW,
    convolutions,
    float_dtypes,
    model_layers,
    sizes_divisible_by_4,
)

pytestmark = [pytest.mark.hidden, pytest.mark.task("fast_style")]


@pytest.fixture(scope="module")
def fast(candidate):
    return candidate.module("fast_style")


@pytest.fixture(scope="module")
def reference_layers(reference):
    return model_layers(reference.module("fast_style").transform_net())


def network_layers(fast) -> list[dict]:
    return model_layers(mistakes.name_numpy_error(fast.transform_net, "transform_net()"))


def count(layers, kind: str) -> int:
    return sum(layer["class_name"] == kind for layer in layers)


# Three comparisons with the reference's architecture, so that one wrong part (one of the
# planted mistakes) fails one of them and the network still counts as compared.


def test_the_convolutions_and_their_padding_are_the_references(fast, reference_layers):
    layers = network_layers(fast)
    found = [
        message
        for message in mistakes.architecture_mistakes(
            [layer["class_name"] for layer in layers], layers
        )
        if message != mistakes.BATCH_NORM
    ]
    assert not found, (
        "transform_net() differs from Johnson et al.'s\nLikely mistake: " + "; or ".join(found)
    )
    expected = convolutions(reference_layers)
    actual = convolutions(layers)
    assert actual == expected, (
        f"the convolutions (kernel, filters, strides) differ from Johnson et al.'s:\n"
        f"  received {actual}\n  expected {expected}"
    )


def test_the_residual_connections_are_the_references(fast, reference_layers):
    layers = network_layers(fast)
    assert count(layers, "Add") >= count(reference_layers, "Add"), (
        f"transform_net() has {count(layers, 'Add')} Add layers, expected "
        f"{count(reference_layers, 'Add')}\nLikely mistake: {mistakes.NO_RESIDUAL}"
    )


def test_the_normalisation_is_the_references(fast, reference_layers):
    layers = network_layers(fast)
    assert count(layers, "BatchNormalization") == 0, (
        f"transform_net() has BatchNormalization layers\nLikely mistake: {mistakes.BATCH_NORM}"
    )
    assert count(layers, "GroupNormalization") >= count(reference_layers, "GroupNormalization"), (
        "fewer normalisation layers than the reference: instance-normalise after every "
        "convolution but the last"
    )


@FEW
@given(
    sizes=st.lists(sizes_divisible_by_4(max_side=32), min_size=2, max_size=2),
    seed=st.integers(0, 999),
    shift=st.floats(-0.2, 0.2),
)
def test_the_output_ignores_the_photos_brightness(fast, sizes, seed, shift):
    """With instance normalisation and reflection padding, adding a constant to the photo
    changes nothing: the first convolution adds a constant per channel, which the
    normalisation removes. Batch normalisation (its running statistics) and zero padding
    (the borders) break this."""
    rng = np.random.default_rng(seed)
    batches = [rng.uniform(0.25, 0.75, (b, h, w, 3)).astype(np.float32) for b, h, w in sizes]
    outputs = mistakes.name_numpy_error(
        lambda: fast.transform_net_outputs(
            batches + [b + np.float32(shift) for b in batches], seed=seed
        ),
        "transform_net_outputs",
    )
    plain, shifted = outputs[: len(batches)], outputs[len(batches) :]
    for batch, first, second in zip(batches, plain, shifted):
        first, second = np.asarray(first), np.asarray(second)
        assert first.shape == batch.shape, f"transform_net maps {batch.shape} to {first.shape}"
        assert first.min() >= 0 and first.max() <= 1, (
            f"transform_net()(images of shape {batch.shape}) has values in "
            f"[{first.min():.3g}, {first.max():.3g}], expected [0, 1]\n"
            f"Likely mistake: {mistakes.NOT_IN_UNIT_INTERVAL}"
        )
        difference = float(np.abs(first - second).max())
        if difference > 2e-3:
            border = (
                np.abs(first - second)[:, 2:-2, 2:-2].max() <= 2e-3
                if min(batch.shape[1:3]) > 8
                else False
            )
            cause = (
                mistakes.ZERO_PADDING if border else f"{mistakes.BATCH_NORM} (or no normalisation)"
            )
            raise AssertionError(
                f"adding {shift:.3g} to every pixel of images of shape {batch.shape} changed "
                f"the output by up to {difference:.3g}, expected no change\n"
                f"Likely mistake: {cause}"
            )


@pytest.mark.value_test
@FEW
@given(
    shape=st.tuples(
        st.integers(1, 3), st.integers(2, 7), st.integers(2, 7), st.sampled_from([3, 8, 16])
    ),
    seed=st.integers(0, 9999),
    dtype=float_dtypes(),
    scale=st.sampled_from([0.1, 1.0, 10.0]),
    offset=st.sampled_from([-2.0, -0.1, 0.3, 3.0]),
)
def test_a_zeroed_residual_block_returns_its_input_plus_the_offset(
    fast, shape, seed, dtype, scale, offset
):
    inputs = (np.random.default_rng(seed).normal(0, scale, shape)).astype(dtype)
    what = (
        f"residual_block on features of shape {shape} with zero convolutions and "
        f"instance-norm offset {offset}"
    )
    actual = mistakes.name_numpy_error(
        lambda: fast.residual_block_outputs(
            inputs, zero_convolutions=True, seed=seed, norm_offset=offset
        ),
        what,
    )
    expect_close(
        actual,
        inputs.astype(np.float64) + offset,
        what=what,
        mistakes=mistakes.residual_block_mistakes(inputs.astype(np.float64), offset),
    )


@FEW
@given(
    shape=st.tuples(
        st.integers(1, 2), st.integers(3, 7), st.integers(3, 7), st.sampled_from([3, 16])
    ),
    seed=st.integers(0, 9999),
)
def test_a_residual_block_changes_each_channel_by_zero_mean(fast, shape, seed):
    inputs = np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)
    what = f"residual_block on features of shape {shape} (random weights)"
    actual = np.asarray(
        mistakes.name_numpy_error(lambda: fast.residual_block_outputs(inputs, seed=seed), what),
        np.float64,
    )
    assert actual.shape == inputs.shape, f"{what} has shape {actual.shape}, expected {shape}"
    worst = float(np.abs((actual - inputs).mean(axis=(1, 2))).max())
    if worst > 1e-4:
        cause = (
            mistakes.RELU_AFTER_ADD
            if actual.min() >= 0
            else mistakes.NO_RESIDUAL
            if np.abs(actual.mean(axis=(1, 2))).max() < 1e-4
            else "the branch does not end with instance normalisation (conv_block's norm)"
        )
        raise AssertionError(
            f"{what}: block(x) - x has a per-channel mean up to "
            f"{worst:.3g}, expected 0\nLikely mistake: {cause}"
        )


@pytest.mark.parametrize("shape", [(1, 8, 12, 3), (2, 16, 8, 3)])
def test_every_weight_and_the_input_get_a_gradient(fast, shape):
    images = np.random.default_rng(sum(shape)).uniform(0, 1, shape).astype(np.float32)
    what = f"the gradient of mean(transform_net()(images) ** 2), images of shape {shape}"
    result = mistakes.expect_every_weight_gets_a_gradient(fast, images, what, seed=2)
    gradient = result["input"]
    assert gradient is not None and np.all(np.isfinite(gradient)) and np.any(gradient), (
        f"{what} with respect to the images is None, zero or not finite\nLikely mistake: "
        + mistakes.NUMPY_IN_NETWORK.format(detail="no gradient flows back to the images")
    )


def test_training_on_tiny_photos_lowers_the_perceptual_loss(fast):
    rng = np.random.default_rng(3)
    photos = rng.uniform(0, 1, (2, 12, 16, 3)).astype(np.float32)
    style = np.clip(rng.normal(0.5, 0.4, (20, 20, 3)), 0, 1).astype(np.float32)
    mistakes.expect_every_weight_gets_a_gradient(
        fast, photos[:1], "before training: the gradient of mean(transform_net()(photo) ** 2)"
    )
    result = mistakes.name_numpy_error(
        lambda: fast.train_transform_net(
            style,
            photos,
            network="tiny",
            steps=12,
            batch_size=2,
            learning_rate=1e-3,
            weight=0.7,
            tv_weight=0.1,
            seed=1,
        ),
        "train_transform_net(style, photos (2, 12, 16, 3), steps=12)",
    )
    losses = np.asarray(result["losses"], np.float64)
    assert losses.shape == (12,) and np.all(np.isfinite(losses))
    first, last = losses[:2].mean(), losses[-3:].mean()
    assert last < 0.9 * first, (
        f"12 training steps: the loss averaged {first:.4g} over the first 2 steps and "
        f"{last:.4g} over the last 3, expected the last at least 10% lower "
        f"(below {0.9 * first:.4g}): is the gradient applied to the transform net's weights?"
    )
