"""Public tests for ``style_transfer.py``: what any correct answer must satisfy.

The loss network is ``"tiny"``, a small CNN with fixed random weights, so the tests run in
seconds; the expected values come from the definitions, computed here (numpy, and TensorFlow
for gradients) on the same network's features. Each call's arrays share one dtype, float32
or float64 (the provided helpers convert to float32). Known mistakes are named from
``tests/support/mistakes/style_transfer.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.compare import expect_close, expect_error
from tests.support.mistakes import style_transfer as mistakes
from tests.support.style_strategies import (
    TINY,
    float_dtypes,
    gram,
    loss_terms,
    rgb_images,
    sgd_descent,
    squares,
    term_gradients,
    tiny_features,
)

pytestmark = [pytest.mark.public, pytest.mark.task("style_transfer")]

# large enough for some pixels to leave [0, 1] in the first step (clipping matters)
LEARNING_RATE = 0.8


@pytest.fixture(scope="module")
def transfer(candidate):
    return candidate.module("style_transfer")


@pytest.mark.value_test
@given(image=rgb_images(), dtype=float_dtypes())
def test_content_targets_are_the_content_layers_features(transfer, image, dtype):
    expected = tiny_features(image)["content"]
    actual = transfer.content_targets(TINY, image.astype(dtype))
    assert isinstance(actual, list) and len(actual) == len(expected), (
        f"content_targets returned {type(actual).__name__} of length "
        f"{len(actual) if isinstance(actual, list) else '?'}, expected a list of "
        f"{len(expected)} (one per content layer)"
    )
    for index, (got, want) in enumerate(zip(actual, expected)):
        expect_close(got, want, what=f"content_targets(...)[{index}]", scale=squares(want))


@pytest.mark.value_test
@given(image=rgb_images(), dtype=float_dtypes())
def test_style_targets_are_normalised_gram_matrices_of_the_style_layers(transfer, image, dtype):
    features = tiny_features(image)["style"]
    expected = [gram(f) for f in features]
    actual = transfer.style_targets(TINY, image.astype(dtype))
    assert isinstance(actual, list) and len(actual) == len(expected), (
        f"style_targets returned {len(actual) if isinstance(actual, list) else actual!r:.40}"
        f" entries, expected a list of {len(expected)} (one per style layer)"
    )
    for index, (got, want) in enumerate(zip(actual, expected)):
        expect_close(
            got,
            want,
            what=f"style_targets(image of shape {image.shape})[{index}]",
            scale=squares(want),
            mistakes=mistakes.style_target_mistakes(want, features[index]),
        )


@pytest.mark.value_test
@given(
    content=rgb_images(min_side=4, max_side=16),
    data=st.data(),
    weight=st.floats(0.0, 1.0),
    tv_weight=st.sampled_from([0.0, 0.5, 3.0]),
    dtype=float_dtypes(),
)
def test_transfer_loss_is_the_handouts_weighted_total(
    transfer, content, data, weight, tv_weight, dtype
):
    height, width, _ = content.shape
    style = data.draw(rgb_images(min_side=4, max_side=16), label="style")
    image = data.draw(rgb_images(min_side=height, max_side=height), label="image")[:, :width]
    if image.shape != content.shape:
        image = np.resize(image, content.shape).astype(np.float32)
    targets_c = [f.astype(dtype) for f in tiny_features(content)["content"]]
    targets_s = [gram(f).astype(dtype) for f in tiny_features(style)["style"]]
    terms = loss_terms(image, targets_c, targets_s)
    expected = weight * terms["style"] + (1 - weight) * terms["content"] + tv_weight * terms["tv"]
    actual = transfer.transfer_loss(
        TINY, image.astype(dtype), targets_c, targets_s, weight, tv_weight
    )
    # rtol 1e-3: the features are float32, and the loss sums thousands of their squares
    expect_close(
        actual,
        expected,
        what=f"transfer_loss(weight={weight:.3g}, tv_weight={tv_weight})",
        scale=abs(expected) + 1,
        rtol=1e-3,
        mistakes=mistakes.transfer_loss_mistakes(terms, weight, tv_weight),
    )


@pytest.mark.value_test
@given(image=rgb_images(min_side=4, max_side=16), data=st.data(), dtype=float_dtypes())
def test_transfer_loss_with_weight_one_is_the_style_loss_with_the_layer_weights(
    transfer, image, data, dtype
):
    style = data.draw(rgb_images(min_side=4, max_side=16), label="style")
    targets_c = [f.astype(dtype) for f in tiny_features(image)["content"]]
    targets_s = [gram(f).astype(dtype) for f in tiny_features(style)["style"]]
    terms = loss_terms(image, targets_c, targets_s)
    actual = transfer.transfer_loss(TINY, image.astype(dtype), targets_c, targets_s, 1.0, 0.0)
    expect_close(
        actual,
        terms["style"],
        what="transfer_loss(weight=1.0, tv_weight=0.0)",
        scale=abs(terms["style"]) + 1e-6,
        rtol=1e-3,
        mistakes=mistakes.transfer_loss_mistakes(terms, 1.0, 0.0),
    )


@given(image=rgb_images(min_side=4, max_side=16), weight=st.floats(0.0, 1.0))
def test_transfer_loss_is_zero_when_the_image_is_both_content_and_style(transfer, image, weight):
    targets_c = transfer.content_targets(TINY, image)
    targets_s = transfer.style_targets(TINY, image)
    loss = float(np.asarray(transfer.transfer_loss(TINY, image, targets_c, targets_s, weight)))
    scale = squares(tiny_features(image)["content"][0]) + 1
    assert abs(loss) <= 1e-4 * scale, (
        f"transfer_loss = {loss:.6g} for an image that is its own content and style "
        f"image, expected 0"
    )


@settings(max_examples=4)
@given(image=rgb_images(min_side=8, max_side=12), dtype=float_dtypes())
def test_transfer_loss_has_the_definitions_gradient_with_respect_to_the_image(
    transfer, image, dtype
):
    style = np.ascontiguousarray(image[::-1, ::-1])
    targets_c = [f.astype(dtype) for f in tiny_features(np.clip(image + 0.1, 0, 1))["content"]]
    targets_s = [gram(f).astype(dtype) for f in tiny_features(style)["style"]]
    weight, tv_weight = 0.5, 1.0
    terms = loss_terms(image, targets_c, targets_s)
    value, (gradient,) = transfer.value_and_grad(
        "transfer_loss",
        TINY,
        image.astype(dtype),
        targets_c,
        targets_s,
        weight,
        tv_weight,
        wrt=(1,),
    )
    expected = weight * terms["style"] + (1 - weight) * terms["content"] + terms["tv"]
    what = f"transfer_loss(image of shape {image.shape}, weight=0.5, tv_weight=1.0)"
    expect_close(
        value,
        expected,
        what=what,
        scale=abs(expected) + 1,
        rtol=1e-3,
        mistakes=mistakes.transfer_loss_mistakes(terms, weight, tv_weight),
    )
    assert gradient is not None, (
        f"the gradient of {what} with respect to the image is None\n"
        f"Likely mistake: {mistakes.NUMPY_IN_LOSS.format(terms='the loss has')}"
    )
    parts = term_gradients(image, targets_c, targets_s, weight, tv_weight)
    wanted = sum(parts.values())
    # rtol 1e-3, atol 1e-4 of the largest entry: float32 gradients through the network
    expect_close(
        np.reshape(gradient, wanted.shape),
        wanted,
        what=f"the gradient of {what}",
        rtol=1e-3,
        atol=1e-4 * float(np.abs(wanted).max(initial=1.0)),
        mistakes=mistakes.gradient_mistakes(parts),
    )


def test_style_transfer_lowers_the_total_loss_and_keeps_pixels_in_range(transfer):
    rng = np.random.default_rng(0)
    content = rng.uniform(0, 1, (16, 20, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (12, 12, 3)).astype(np.float32) ** 2
    what = "run_style_transfer(content (16, 20, 3), style (12, 12, 3), steps=12)"
    result = mistakes.name_numpy_error(
        lambda: transfer.run_style_transfer(
            content, style, network=TINY, steps=12, weight=0.5, tv_weight=0.1, learning_rate=0.05
        ),
        what,
    )
    losses = result["losses"]
    assert len(losses) == 12, f"{what} returned {len(losses)} losses, expected 12"
    assert losses[-1] < 0.8 * losses[0], (
        f"{what}: the loss went from {losses[0]:.4g} (step 1) to {losses[-1]:.4g} (step 12), "
        f"expected at least 20% lower (below {0.8 * losses[0]:.4g})"
    )
    image = np.asarray(result["image"])
    assert image.shape == content.shape, f"{what} returned an image of shape {image.shape}"
    assert image.min() >= 0.0 and image.max() <= 1.0, (
        f"{what}: the image has values in [{image.min():.3g}, {image.max():.3g}], expected "
        f"[0, 1]\nLikely mistake: {mistakes.NO_CLIP}"
    )
    assert result["tracing_count"] == 1, (
        f"transfer_step was traced {result['tracing_count']} times inside tf.function, "
        f"expected once"
    )


def test_transfer_step_clips_the_image_to_the_unit_interval(transfer):
    rng = np.random.default_rng(1)
    content = rng.uniform(0, 1, (12, 12, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (12, 12, 3)).astype(np.float32)
    what = "run_style_transfer(..., steps=2, optimizer='sgd', learning_rate=10.0)"
    result = mistakes.name_numpy_error(
        lambda: transfer.run_style_transfer(
            content,
            style,
            network=TINY,
            steps=2,
            weight=0.9,
            tv_weight=0.0,
            learning_rate=10.0,
            optimizer="sgd",
            init="noise",
        ),
        what,
    )
    image = np.asarray(result["image"])
    assert image.min() >= 0.0 and image.max() <= 1.0, (
        f"{what}: the image has values in [{image.min():.3g}, {image.max():.3g}], expected "
        f"[0, 1]\nLikely mistake: {mistakes.NO_CLIP}"
    )


@pytest.mark.value_test
def test_sgd_steps_are_gradient_descent_on_the_pixels_with_the_loss_before_each_step(transfer):
    rng = np.random.default_rng(5)
    content = rng.uniform(0, 1, (12, 16, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (16, 12, 3)).astype(np.float32) ** 2
    settings_ = dict(steps=3, learning_rate=LEARNING_RATE, weight=0.6, tv_weight=0.2, seed=3)
    what = (
        f"run_style_transfer(content (12, 16, 3), style (16, 12, 3), steps=3, "
        f"optimizer='sgd', learning_rate={LEARNING_RATE}, init='noise')"
    )
    result = mistakes.name_numpy_error(
        lambda: transfer.run_style_transfer(
            content, style, network=TINY, optimizer="sgd", init="noise", **settings_
        ),
        what,
    )
    descent = sgd_descent(content, style, **settings_)
    unclipped = sgd_descent(content, style, clip=False, **settings_)
    # rtol 1e-3: three float32 steps through the network
    expect_close(
        result["losses"],
        descent["before"],
        what=f"{what}['losses']",
        rtol=1e-3,
        scale=descent["before"][0],
        mistakes=mistakes.step_mistakes(descent["after"], unclipped["before"]),
    )
    expect_close(
        result["image"],
        descent["image"],
        what=f"{what}['image']",
        rtol=1e-3,
        atol=2e-3,
        mistakes=mistakes.image_mistakes(unclipped["image"]),
    )


def test_targets_reject_an_image_that_is_not_rgb(transfer):
    transfer.style_targets(TINY, np.zeros((8, 8, 3), np.float32))
    transfer.content_targets(TINY, np.zeros((8, 8, 3), np.float32))
    expect_error(
        "ValueError",
        lambda: transfer.style_targets(TINY, np.zeros((8, 8))),
        what="style_targets(image of shape (8, 8))",
        because="images are (H, W, 3)",
    )


def test_transfer_loss_rejects_a_missing_target(transfer):
    image = np.full((8, 8, 3), 0.5, np.float32)
    targets_c = transfer.content_targets(TINY, image)
    targets_s = transfer.style_targets(TINY, image)
    transfer.transfer_loss(TINY, image, targets_c, targets_s, 0.5)
    expect_error(
        "ValueError",
        lambda: transfer.transfer_loss(TINY, image, targets_c, targets_s[:-1], 0.5),
        what="transfer_loss with one style target too few",
        because="there is one target per style layer",
    )
