"""Public tests for ``fast_style.py``: the transformation network's shape, range and
structure, and that training lowers the perceptual loss.

The network is built with random weights (``transform_net_outputs``); the loss network is
``"tiny"``, a small CNN with fixed random weights, so training runs on 16x16 images.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.style_strategies import FEW, model_layers, sizes_divisible_by_4

pytestmark = [pytest.mark.public, pytest.mark.task("fast_style")]


@pytest.fixture(scope="module")
def fast(candidate):
    return candidate.module("fast_style")


@pytest.fixture
def layers(fast):
    """A function, so that a missing transform_net fails the test rather than its set-up."""
    return lambda: model_layers(fast.transform_net())


def kinds(layers: list[dict]) -> list[str]:
    return [layer["class_name"] for layer in layers]


@FEW
@given(sizes=st.lists(sizes_divisible_by_4(), min_size=3, max_size=3), seed=st.integers(0, 99))
def test_any_size_divisible_by_4_from_8_keeps_its_size_and_gets_values_in_the_unit_interval(
        fast, sizes, seed):
    rng = np.random.default_rng(seed)
    batches = [rng.uniform(0, 1, (b, h, w, 3)).astype(np.float32) for b, h, w in sizes]
    outputs = fast.transform_net_outputs(batches, seed=seed)
    for batch, output in zip(batches, outputs):
        output = np.asarray(output)
        assert output.shape == batch.shape, (
            f"transform_net maps {batch.shape} to {output.shape}, expected the same shape")
        assert np.all(np.isfinite(output)) and output.min() >= 0.0 and output.max() <= 1.0, (
            f"transform_net's output is in [{output.min():.3g}, {output.max():.3g}], "
            f"expected values in [0, 1]: end with a sigmoid")


def test_the_network_has_five_residual_connections(layers):
    layers = layers()
    adds = kinds(layers).count("Add")
    assert adds >= 5, (
        f"transform_net has {adds} Add layer(s), expected 5: a missing residual connection "
        f"(each residual block returns keras.layers.Add()([x, y]))")


def test_the_network_uses_instance_normalisation(layers):
    layers = layers()
    names = kinds(layers)
    assert "BatchNormalization" not in names, (
        "transform_net uses batch normalisation; use instance normalisation, "
        "GroupNormalization(groups=-1)")
    norms = [layer for layer in layers if layer["class_name"] == "GroupNormalization"]
    assert len(norms) >= 10, (
        f"transform_net has {len(norms)} GroupNormalization layers, expected one after every "
        f"convolution but the last (instance normalisation)")
    for layer in norms:
        groups = layer["config"].get("groups")
        assert groups in (-1, None) or groups == layer["output_shape"][-1], (
            f"{layer['name']} has groups={groups}: instance normalisation needs one group "
            f"per channel (groups=-1)")


def test_the_network_upsamples_by_resizing_not_by_transposed_convolution(layers):
    layers = layers()
    names = kinds(layers)
    assert "Conv2DTranspose" not in names, (
        "transform_net uses a transposed convolution (Conv2DTranspose): resize with "
        "UpSampling2D, then convolve, to avoid checkerboard artifacts")
    assert names.count("UpSampling2D") + names.count("Resizing") >= 2, (
        "transform_net should upsample twice with UpSampling2D(2)")


def test_the_convolutions_use_reflection_padding_not_zero_padding(layers):
    layers = layers()
    for layer in layers:
        config = layer["config"]
        if layer["class_name"] == "ZeroPadding2D":
            raise AssertionError(f"{layer['name']} is zero padding: pad by reflection")
        if layer["class_name"] == "Conv2D" and config.get("padding") == "same" \
                and max(np.ravel(config.get("kernel_size", 1))) > 1:
            raise AssertionError(
                f"{layer['name']} uses padding='same', which is zero padding: pad with "
                f"ReflectionPadding2D(kernel // 2) and convolve with padding='valid'")


def test_a_flat_grey_photo_stays_flat(fast):
    """Reflection padding and resize upsampling keep a constant image constant; zero
    padding darkens the borders and transposed convolutions draw checkerboards."""
    flat = np.full((1, 24, 28, 3), 0.4, np.float32)
    (output,) = fast.transform_net_outputs([flat], seed=3)
    output = np.asarray(output)
    spread = float(output.max(axis=(1, 2)).max() - output.min(axis=(1, 2)).min())
    per_channel = output.max(axis=(0, 1, 2)) - output.min(axis=(0, 1, 2))
    assert per_channel.max() < 1e-3, (
        f"a flat grey image comes out with values varying by {spread:.3g} within a channel, "
        f"expected a flat image: zero padding (padding='same') or a transposed "
        f"convolution (Conv2DTranspose) makes borders or checkerboards")


def test_a_few_training_steps_lower_the_loss_on_tiny_images(fast):
    rng = np.random.default_rng(0)
    photos = rng.uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (16, 16, 3)).astype(np.float32) ** 3
    result = fast.train_transform_net(style, photos, network="tiny", steps=10, batch_size=2,
                                      learning_rate=1e-3, weight=0.5, tv_weight=0.0)
    losses = [float(loss) for loss in result["losses"]]
    assert len(losses) == 10 and np.all(np.isfinite(losses)), losses
    assert np.mean(losses[-2:]) < 0.8 * losses[0], (
        f"10 training steps changed the loss from {losses[0]:.4g} to {losses[-1]:.4g}, "
        f"expected it to fall")
    assert result["tracing_count"] == 1
