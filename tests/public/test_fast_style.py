"""Public tests for ``fast_style.py``: the transformation network's shape, range and
structure, what a residual block computes, that gradients reach every weight, and that
training lowers the perceptual loss.

The network is built with random weights (``transform_net_outputs``); the loss network is
``"tiny"``, a small CNN with fixed random weights, so training runs on 16x16 images. Known
mistakes are named from ``tests/support/mistakes/fast_style.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import expect_close
from tests.support.mistakes import fast_style as mistakes
from tests.support.style_strategies import FEW, float_dtypes, model_layers, sizes_divisible_by_4

pytestmark = [pytest.mark.public, pytest.mark.task("fast_style")]


@pytest.fixture(scope="module")
def fast(candidate):
    return candidate.module("fast_style")


@pytest.fixture
def layers(fast):
    """A function, so that a missing transform_net fails the test rather than its set-up."""
    return lambda: model_layers(mistakes.name_numpy_error(fast.transform_net, "transform_net()"))


def kinds(layers: list[dict]) -> list[str]:
    return [layer["class_name"] for layer in layers]


def outputs(fast, batches, seed, what="transform_net_outputs"):
    return mistakes.name_numpy_error(lambda: fast.transform_net_outputs(batches, seed=seed), what)


@pytest.mark.value_test
@FEW
@given(
    sizes=st.lists(sizes_divisible_by_4(), min_size=3, max_size=3),
    seed=st.integers(0, 99),
    dtype=float_dtypes(),
)
def test_any_size_divisible_by_4_from_8_keeps_its_size_and_gets_values_in_the_unit_interval(
    fast, sizes, seed, dtype
):
    rng = np.random.default_rng(seed)
    batches = [rng.uniform(0, 1, (b, h, w, 3)).astype(dtype) for b, h, w in sizes]
    for batch, output in zip(batches, outputs(fast, batches, seed)):
        output = np.asarray(output)
        assert output.shape == batch.shape, (
            f"transform_net maps {batch.shape} to {output.shape}, expected the same shape"
        )
        assert np.all(np.isfinite(output)) and output.min() >= 0.0 and output.max() <= 1.0, (
            f"transform_net()(images of shape {batch.shape}) has values in "
            f"[{output.min():.3g}, {output.max():.3g}], expected [0, 1]\n"
            f"Likely mistake: {mistakes.NOT_IN_UNIT_INTERVAL}"
        )


@pytest.mark.value_test
@FEW
@given(
    shape=st.tuples(
        st.integers(1, 2), st.integers(2, 6), st.integers(2, 6), st.sampled_from([4, 8])
    ),
    seed=st.integers(0, 999),
    dtype=float_dtypes(),
    offset=st.sampled_from([-0.5, 0.25, 1.5]),
)
def test_a_residual_block_with_zero_convolutions_returns_its_input_plus_the_norm_offset(
    fast, shape, seed, dtype, offset
):
    """x + norm(conv(relu(norm(conv(x))))) with every kernel and bias zero and every instance
    norm's offset b is x + (0 normalised, then shifted by b) = x + b, for negative inputs too
    (the block's input is any feature map)."""
    inputs = np.random.default_rng(seed).normal(0, 1, shape).astype(dtype)
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
        st.integers(1, 2), st.integers(3, 6), st.integers(3, 6), st.sampled_from([4, 8])
    ),
    seed=st.integers(0, 999),
)
def test_a_residual_block_adds_a_zero_mean_change_to_each_channel(fast, shape, seed):
    """At initialisation the block's branch ends with an instance normalisation (scale 1,
    offset 0), so block(x) - x has mean 0 over the positions of each image and channel."""
    inputs = np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)
    what = f"residual_block on features of shape {shape} (random weights)"
    actual = np.asarray(
        mistakes.name_numpy_error(lambda: fast.residual_block_outputs(inputs, seed=seed), what),
        np.float64,
    )
    assert actual.shape == inputs.shape, f"{what} has shape {actual.shape}, expected {shape}"
    means = (actual - inputs).mean(axis=(1, 2))
    if np.abs(means).max() > 1e-4:
        cause = (
            mistakes.RELU_AFTER_ADD
            if actual.min() >= 0
            else mistakes.NO_RESIDUAL
            if np.abs(actual.mean(axis=(1, 2))).max() < 1e-4
            else "the branch does not end with instance normalisation (conv_block's norm)"
        )
        raise AssertionError(
            f"{what}: block(x) - x has a per-channel mean up to "
            f"{np.abs(means).max():.3g}, expected 0\nLikely mistake: {cause}"
        )


def test_gradients_reach_the_input_and_every_weight(fast):
    images = np.random.default_rng(0).uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)
    what = "the gradient of mean(transform_net()(images) ** 2), images of shape (1, 16, 16, 3)"
    result = mistakes.expect_every_weight_gets_a_gradient(fast, images, what)
    gradient = result["input"]
    assert gradient is not None and np.all(np.isfinite(gradient)) and np.any(gradient), (
        f"{what} with respect to the images is None, zero or not finite\nLikely mistake: "
        + mistakes.NUMPY_IN_NETWORK.format(detail="no gradient flows back to the images")
    )


def test_the_network_has_five_residual_connections(layers):
    layers = layers()
    adds = kinds(layers).count("Add")
    assert adds >= 5, (
        f"transform_net() has {adds} Add layer(s), expected 5 (one per residual block)\n"
        f"Likely mistake: {mistakes.NO_RESIDUAL}"
    )


def test_the_network_uses_instance_normalisation(layers):
    layers = layers()
    assert "BatchNormalization" not in kinds(layers), (
        f"transform_net() has BatchNormalization layers\nLikely mistake: {mistakes.BATCH_NORM}"
    )
    norms = [layer for layer in layers if layer["class_name"] == "GroupNormalization"]
    assert len(norms) >= 10, (
        f"transform_net() has {len(norms)} GroupNormalization layers, expected one after "
        f"every convolution but the last (instance normalisation)"
    )
    for layer in norms:
        groups = layer["config"].get("groups")
        assert groups in (-1, None) or groups == layer["output_shape"][-1], (
            f"{layer['name']} has groups={groups}: instance normalisation needs one group "
            f"per channel (groups=-1)"
        )


def test_the_network_upsamples_by_resizing_not_by_transposed_convolution(layers):
    layers = layers()
    names = kinds(layers)
    assert "Conv2DTranspose" not in names, (
        f"transform_net() has {names.count('Conv2DTranspose')} Conv2DTranspose layers\n"
        f"Likely mistake: {mistakes.TRANSPOSED}"
    )
    assert names.count("UpSampling2D") + names.count("Resizing") >= 2, (
        "transform_net should upsample twice with UpSampling2D(2)"
    )


def test_the_convolutions_use_reflection_padding_not_zero_padding(layers):
    layers = layers()
    zero = [
        layer["name"]
        for layer in layers
        if layer["class_name"] == "ZeroPadding2D"
        or (
            layer["class_name"] == "Conv2D"
            and layer["config"].get("padding") == "same"
            and max(np.ravel(layer["config"].get("kernel_size", 1))) > 1
        )
    ]
    assert not zero, (
        f"transform_net() pads with zeros in {', '.join(zero[:3])}\n"
        f"Likely mistake: {mistakes.ZERO_PADDING}"
    )


def test_a_brighter_photo_gives_the_same_picture(fast, layers):
    """Instance normalisation removes a constant added to every pixel (the first convolution
    turns it into a constant per channel), and reflection padding keeps the borders alike;
    zero padding makes the borders depend on the brightness. (A flat photo would say the same
    in exact arithmetic, but instance-normalising a constant map amplifies float32 rounding.)"""
    photo = np.random.default_rng(7).uniform(0.2, 0.7, (1, 24, 28, 3)).astype(np.float32)
    first, second = (np.asarray(image) for image in outputs(fast, [photo, photo + 0.2], 3))
    change = np.abs(first - second)
    if change.max() > 2e-3:
        rows = layers()
        found = [
            message
            for message in mistakes.architecture_mistakes(kinds(rows), rows)
            if message != mistakes.TRANSPOSED
        ]  # shift invariant too
        inside = change[:, 4:-4, 4:-4].max() <= 2e-3
        cause = (
            "; or ".join(found)
            if found
            else (
                mistakes.ZERO_PADDING
                if inside
                else "no instance normalisation after a convolution (conv_block's norm)"
            )
        )
        raise AssertionError(
            f"transform_net_outputs([a (1, 24, 28, 3) photo, the same photo + 0.2]) differ by "
            f"up to {change.max():.3g}, expected the same picture\nLikely mistake: {cause}"
        )


def test_a_few_training_steps_lower_the_loss_on_tiny_images(fast):
    rng = np.random.default_rng(0)
    photos = rng.uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (16, 16, 3)).astype(np.float32) ** 3
    what = "train_transform_net(style, photos (2, 16, 16, 3), network='tiny', steps=10)"
    mistakes.expect_every_weight_gets_a_gradient(
        fast, photos[:1], "before training: the gradient of mean(transform_net()(photo) ** 2)"
    )
    result = mistakes.name_numpy_error(
        lambda: fast.train_transform_net(
            style,
            photos,
            network="tiny",
            steps=10,
            batch_size=2,
            learning_rate=1e-3,
            weight=0.5,
            tv_weight=0.0,
        ),
        what,
    )
    losses = [float(loss) for loss in result["losses"]]
    assert len(losses) == 10 and np.all(np.isfinite(losses)), (
        f"{what} returned the losses {losses}, expected 10 finite numbers"
    )
    first, last = losses[0], float(np.mean(losses[-2:]))
    assert last < 0.8 * first, (
        f"{what}: the loss was {first:.4g} at step 1 and averaged {last:.4g} over the last 2 "
        f"steps, expected at least 20% lower (below {0.8 * first:.4g})"
    )
    assert result["tracing_count"] == 1
