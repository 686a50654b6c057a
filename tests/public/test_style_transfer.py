"""Public tests for ``style_transfer.py``: what any correct answer must satisfy.

The loss network is ``"tiny"``, a small CNN with fixed random weights, so the tests run in
seconds; the expected values come from the definitions, computed here with numpy on the same
network's features.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.compare import expect_close, expect_error
from tests.support.style_strategies import (
    TINY,
    gram,
    rgb_images,
    tiny_features,
    tiny_style_weights,
    total_variation,
)

pytestmark = [pytest.mark.public, pytest.mark.task("style_transfer")]


@pytest.fixture(scope="module")
def transfer(candidate):
    return candidate.module("style_transfer")


def squares(array) -> float:
    return float(np.sum(np.square(np.asarray(array, np.float64))))


@pytest.mark.value_test
@given(image=rgb_images())
def test_content_targets_are_the_content_layers_features(transfer, image):
    expected = tiny_features(image)["content"]
    actual = transfer.content_targets(TINY, image)
    assert isinstance(actual, list) and len(actual) == len(expected), (
        f"content_targets returned {type(actual).__name__} of length "
        f"{len(actual) if isinstance(actual, list) else '?'}, expected a list of "
        f"{len(expected)} (one per content layer)")
    for index, (got, want) in enumerate(zip(actual, expected)):
        expect_close(got, want, what=f"content_targets(...)[{index}]", scale=squares(want))


@pytest.mark.value_test
@given(image=rgb_images())
def test_style_targets_are_normalised_gram_matrices_of_the_style_layers(transfer, image):
    expected = [gram(f) for f in tiny_features(image)["style"]]
    actual = transfer.style_targets(TINY, image)
    assert isinstance(actual, list) and len(actual) == len(expected), (
        f"style_targets returned {len(actual) if isinstance(actual, list) else actual!r:.40}"
        f" entries, expected a list of {len(expected)} (one per style layer)")
    for index, (got, want) in enumerate(zip(actual, expected)):
        expect_close(got, want, what=f"style_targets(...)[{index}]", scale=squares(want))


@pytest.mark.value_test
@given(content=rgb_images(min_side=4, max_side=16), data=st.data(),
       weight=st.floats(0.0, 1.0), tv_weight=st.sampled_from([0.0, 0.5, 3.0]))
def test_transfer_loss_is_the_handouts_weighted_total(transfer, content, data, weight,
                                                      tv_weight):
    height, width, _ = content.shape
    style = data.draw(rgb_images(min_side=4, max_side=16), label="style")
    image = data.draw(rgb_images(min_side=height, max_side=height), label="image")[:, :width]
    if image.shape != content.shape:
        image = np.resize(image, content.shape).astype(np.float32)
    targets_c = [f.astype(np.float32) for f in tiny_features(content)["content"]]
    targets_s = [gram(f).astype(np.float32) for f in tiny_features(style)["style"]]
    features = tiny_features(image)
    content_term = sum(squares(f - t) for f, t in zip(features["content"], targets_c))
    style_term = sum(w * squares(gram(f) - t) for w, f, t
                     in zip(tiny_style_weights(), features["style"], targets_s))
    expected = (weight * style_term + (1 - weight) * content_term
                + tv_weight * total_variation(image))
    actual = transfer.transfer_loss(TINY, image, targets_c, targets_s, weight, tv_weight)
    expect_close(actual, expected, what=f"transfer_loss(weight={weight:.3g}, "
                 f"tv_weight={tv_weight})", scale=abs(expected) + 1, rtol=1e-3)


@given(image=rgb_images(min_side=4, max_side=16), weight=st.floats(0.0, 1.0))
def test_transfer_loss_is_zero_when_the_image_is_both_content_and_style(transfer, image,
                                                                        weight):
    targets_c = transfer.content_targets(TINY, image)
    targets_s = transfer.style_targets(TINY, image)
    loss = float(np.asarray(transfer.transfer_loss(TINY, image, targets_c, targets_s, weight)))
    scale = squares(tiny_features(image)["content"][0]) + 1
    assert abs(loss) <= 1e-4 * scale, (
        f"transfer_loss = {loss:.6g} for an image that is its own content and style "
        f"image, expected 0")


@settings(max_examples=4)
@given(image=rgb_images(min_side=8, max_side=12))
def test_transfer_loss_has_a_gradient_with_respect_to_the_image(transfer, image):
    style = np.ascontiguousarray(image[::-1, ::-1])
    targets_c = transfer.content_targets(TINY, np.clip(image + 0.1, 0, 1))
    targets_s = transfer.style_targets(TINY, style)
    _, (gradient,) = transfer.value_and_grad("transfer_loss", TINY, image, targets_c,
                                             targets_s, 0.5, 1.0, wrt=(1,))
    assert gradient is not None, (
        "transfer_loss has no gradient with respect to the image: use TensorFlow operations "
        "only (no .numpy(), no np.*)")
    gradient = np.asarray(gradient)
    assert gradient.shape[-3:] == image.shape and np.all(np.isfinite(gradient)) \
        and np.any(gradient != 0), "the gradient of transfer_loss is zero, NaN or misshapen"


def test_style_transfer_lowers_the_total_loss_and_keeps_pixels_in_range(transfer):
    rng = np.random.default_rng(0)
    content = rng.uniform(0, 1, (16, 20, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (12, 12, 3)).astype(np.float32) ** 2
    result = transfer.run_style_transfer(content, style, network=TINY, steps=12,
                                         weight=0.5, tv_weight=0.1, learning_rate=0.05)
    losses = result["losses"]
    assert len(losses) == 12, f"{len(losses)} losses for 12 steps"
    assert losses[-1] < 0.8 * losses[0], (
        f"12 steps of style transfer changed the loss from {losses[0]:.4g} to "
        f"{losses[-1]:.4g}, expected it to fall")
    image = np.asarray(result["image"])
    assert image.shape == content.shape
    assert image.min() >= 0.0 and image.max() <= 1.0, (
        f"the image has values in [{image.min():.3g}, {image.max():.3g}], expected [0, 1]: "
        f"clip the image after each step")
    assert result["tracing_count"] == 1, (
        f"transfer_step was traced {result['tracing_count']} times inside tf.function, "
        f"expected once")


def test_transfer_step_clips_the_image_to_the_unit_interval(transfer):
    rng = np.random.default_rng(1)
    content = rng.uniform(0, 1, (12, 12, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (12, 12, 3)).astype(np.float32)
    result = transfer.run_style_transfer(content, style, network=TINY, steps=2, weight=0.9,
                                         tv_weight=0.0, learning_rate=10.0, optimizer="sgd",
                                         init="noise")
    image = np.asarray(result["image"])
    assert image.min() >= 0.0 and image.max() <= 1.0, (
        f"after large steps the image has values in [{image.min():.3g}, {image.max():.3g}], "
        f"expected [0, 1]: clip the image after each step (a pixel outside is not a colour)")


def test_targets_reject_an_image_that_is_not_rgb(transfer):
    transfer.style_targets(TINY, np.zeros((8, 8, 3), np.float32))
    transfer.content_targets(TINY, np.zeros((8, 8, 3), np.float32))
    expect_error("ValueError", lambda: transfer.style_targets(TINY, np.zeros((8, 8))),
                 what="style_targets(image of shape (8, 8))", because="images are (H, W, 3)")


def test_transfer_loss_rejects_a_missing_target(transfer):
    image = np.full((8, 8, 3), 0.5, np.float32)
    targets_c = transfer.content_targets(TINY, image)
    targets_s = transfer.style_targets(TINY, image)
    transfer.transfer_loss(TINY, image, targets_c, targets_s, 0.5)
    expect_error("ValueError",
                 lambda: transfer.transfer_loss(TINY, image, targets_c, targets_s[:-1], 0.5),
                 what="transfer_loss with one style target too few",
                 because="there is one target per style layer")
