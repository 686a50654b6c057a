"""Hidden tests for ``fast_style.py``: the architecture against the reference's, the
invariances that instance normalisation and reflection padding give, and training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.style_strategies import (
    FEW,
    convolutions,
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


def count(layers, kind: str) -> int:
    return sum(layer["class_name"] == kind for layer in layers)


# Three comparisons with the reference's architecture, so that one wrong part (one of the
# planted mistakes) fails one of them and the network still counts as compared.


def test_the_convolutions_and_their_padding_are_the_references(fast, reference_layers):
    layers = model_layers(fast.transform_net())
    assert count(layers, "Conv2DTranspose") == 0, (
        "transposed convolution (Conv2DTranspose) upsampling: resize with UpSampling2D, "
        "then convolve")
    same = [layer["name"] for layer in layers if layer["class_name"] == "Conv2D"
            and layer["config"].get("padding") == "same"
            and max(np.ravel(layer["config"].get("kernel_size", 1))) > 1]
    assert not same and count(layers, "ZeroPadding2D") == 0, (
        f"zero padding in {same or 'ZeroPadding2D'}: pad by reflection, then convolve with "
        f"padding='valid'")
    expected = convolutions(reference_layers)
    actual = convolutions(layers)
    assert actual == expected, (
        f"the convolutions (kernel, filters, strides) differ from Johnson et al.'s:\n"
        f"  received {actual}\n  expected {expected}")


def test_the_residual_connections_are_the_references(fast, reference_layers):
    layers = model_layers(fast.transform_net())
    assert count(layers, "Add") >= count(reference_layers, "Add"), (
        f"{count(layers, 'Add')} Add layers, expected {count(reference_layers, 'Add')}: a "
        f"missing residual connection (x + block(x) in each residual block)")


def test_the_normalisation_is_the_references(fast, reference_layers):
    layers = model_layers(fast.transform_net())
    assert count(layers, "BatchNormalization") == 0, (
        "batch normalisation instead of instance normalisation: use "
        "GroupNormalization(groups=-1)")
    assert count(layers, "GroupNormalization") >= count(reference_layers, "GroupNormalization"), (
        "fewer normalisation layers than the reference: instance-normalise after every "
        "convolution but the last")


@FEW
@given(sizes=st.lists(sizes_divisible_by_4(max_side=32), min_size=2, max_size=2),
       seed=st.integers(0, 999), shift=st.floats(-0.2, 0.2))
def test_the_output_ignores_the_photos_brightness(fast, sizes, seed, shift):
    """With instance normalisation and reflection padding, adding a constant to the photo
    changes nothing: the first convolution adds a constant per channel, which the
    normalisation removes. Batch normalisation (its running statistics) and zero padding
    (the borders) break this."""
    rng = np.random.default_rng(seed)
    batches = [rng.uniform(0.25, 0.75, (b, h, w, 3)).astype(np.float32) for b, h, w in sizes]
    outputs = fast.transform_net_outputs(batches + [b + np.float32(shift) for b in batches],
                                         seed=seed)
    plain, shifted = outputs[:len(batches)], outputs[len(batches):]
    for batch, first, second in zip(batches, plain, shifted):
        first, second = np.asarray(first), np.asarray(second)
        assert first.shape == batch.shape, f"transform_net maps {batch.shape} to {first.shape}"
        assert first.min() >= 0 and first.max() <= 1, (
            f"the output is in [{first.min():.3g}, {first.max():.3g}], expected values in "
            f"[0, 1]: end with a sigmoid")
        difference = float(np.abs(first - second).max())
        if difference > 2e-3:
            border = np.abs(first - second)[:, 2:-2, 2:-2].max() <= 2e-3 \
                if min(batch.shape[1:3]) > 8 else False
            cause = ("zero padding: the borders change (pad by reflection)" if border else
                     "batch normalisation or no normalisation: use instance normalisation, "
                     "GroupNormalization(groups=-1), after each convolution")
            raise AssertionError(
                f"adding {shift:.3g} to every pixel changed the output by up to "
                f"{difference:.3g}, expected no change. Likely cause: {cause}")


def test_a_flat_grey_photo_stays_flat_at_several_sizes(fast):
    batches = [np.full((1, h, w, 3), value, np.float32)
               for h, w, value in [(8, 8, 0.1), (16, 32, 0.5), (28, 20, 0.9)]]
    for batch, output in zip(batches, fast.transform_net_outputs(batches, seed=5)):
        output = np.asarray(output)
        spread = float((output.max(axis=(1, 2)) - output.min(axis=(1, 2))).max())
        if spread > 1e-3:
            rows = np.abs(np.diff(output[0, :, :, 0], axis=0)).max()
            middle = output[0, 2:-2, 2:-2] if min(batch.shape[1:3]) > 8 else output[0]
            inner = float((middle.max(axis=(0, 1)) - middle.min(axis=(0, 1))).max())
            cause = ("zero padding at the borders" if inner <= 1e-3 else
                     "a transposed convolution (Conv2DTranspose) drawing checkerboards, or "
                     "zero padding")
            raise AssertionError(
                f"a flat {batch.shape} image comes out varying by {spread:.3g} "
                f"(neighbouring rows by up to {rows:.3g}), expected flat: {cause}")


def test_training_on_tiny_photos_lowers_the_perceptual_loss(fast):
    rng = np.random.default_rng(3)
    photos = rng.uniform(0, 1, (2, 12, 16, 3)).astype(np.float32)
    style = np.clip(rng.normal(0.5, 0.4, (20, 20, 3)), 0, 1).astype(np.float32)
    result = fast.train_transform_net(style, photos, network="tiny", steps=12, batch_size=2,
                                      learning_rate=1e-3, weight=0.7, tv_weight=0.1, seed=1)
    losses = np.asarray(result["losses"], np.float64)
    assert losses.shape == (12,) and np.all(np.isfinite(losses))
    first, last = losses[:2].mean(), losses[-3:].mean()
    assert last < 0.9 * first, (
        f"12 training steps: the loss averaged {first:.4g} over the first 2 steps and "
        f"{last:.4g} over the last 3, expected the last at least 10% lower "
        f"(below {0.9 * first:.4g}): is the gradient applied to the transform net's weights?")
