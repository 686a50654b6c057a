"""Hidden tests for ``style_transfer.py``: the candidate against the reference, with the
likely mistakes named. The loss network is the tiny stand-in (``"tiny"``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close
from tests.support.style_strategies import (
    FEW,
    TINY,
    gram,
    rgb_images,
    tiny_features,
    tiny_style_weights,
    total_variation,
)

pytestmark = [pytest.mark.hidden, pytest.mark.task("style_transfer")]


@pytest.fixture(scope="module")
def transfer(candidate):
    return candidate.module("style_transfer")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("style_transfer")


def squares(array) -> float:
    return float(np.sum(np.square(np.asarray(array, np.float64))))


@given(image=rgb_images(max_side=16))
def test_style_targets_match_the_reference(transfer, ref, image):
    expected = [np.asarray(t, np.float64) for t in ref.style_targets(TINY, image)]
    actual = transfer.style_targets(TINY, image)
    assert isinstance(actual, list) and len(actual) == len(expected), \
        f"style_targets should return a list of {len(expected)} Gram matrices"
    features = tiny_features(image)["style"]
    for index, (got, want) in enumerate(zip(actual, expected)):
        positions = features[index].shape[1] * features[index].shape[2]
        expect_close(got, want, what=f"style_targets(...)[{index}]", scale=squares(want), mistakes=[
            Mistake("the Gram matrices are not normalised: use gram_matrix's default "
                    "normalize=True", lambda w=want, n=positions: w * n),
            Mistake("these are the style layers' features, not their Gram matrices",
                    lambda i=index: features[i]),
        ])


@given(content=rgb_images(min_side=4, max_side=14), data=st.data(),
       weight=st.floats(0.0, 1.0), tv_weight=st.sampled_from([0.0, 0.7, 5.0]))
def test_transfer_loss_matches_the_reference(transfer, ref, content, data, weight, tv_weight):
    style = data.draw(rgb_images(min_side=4, max_side=14), label="style")
    image = np.clip(content + data.draw(st.floats(-0.3, 0.3), label="shift"), 0, 1)
    image = image[:, ::-1].astype(np.float32)
    targets_c = [np.asarray(t, np.float32) for t in ref.content_targets(TINY, content)]
    targets_s = [np.asarray(t, np.float32) for t in ref.style_targets(TINY, style)]
    expected = float(np.asarray(ref.transfer_loss(TINY, image, targets_c, targets_s, weight,
                                                  tv_weight)))
    features = tiny_features(image)
    content_term = sum(squares(f - t) for f, t in zip(features["content"], targets_c))
    per_layer = [squares(gram(f) - t) for f, t in zip(features["style"], targets_s)]
    style_term = sum(w * p for w, p in zip(tiny_style_weights(), per_layer))
    tv = total_variation(image)
    actual = transfer.transfer_loss(TINY, image, targets_c, targets_s, weight, tv_weight)
    expect_close(actual, expected, what=f"transfer_loss(weight={weight:.3g}, tv_weight="
                 f"{tv_weight})", scale=abs(expected) + 1, rtol=1e-3, mistakes=[
                     Mistake("the extractor's style_weights are ignored: pass them to style_loss",
                             lambda: weight * sum(per_layer) + (1 - weight) * content_term
                             + tv_weight * tv),
                     Mistake("the total variation term is missing: add tv_weight * "
                             "total_variation_loss(image)",
                             lambda: weight * style_term + (1 - weight) * content_term),
                     Mistake("W is on the wrong term: W multiplies the style loss",
                             lambda: weight * content_term + (1 - weight) * style_term
                             + tv_weight * tv),
                 ])


@FEW
@given(image=rgb_images(min_side=8, max_side=12), weight=st.floats(0.1, 0.9))
def test_transfer_loss_gradient_matches_the_reference(transfer, ref, image, weight):
    style = np.ascontiguousarray(image[::-1])
    targets_c = ref.content_targets(TINY, np.clip(image * 0.8 + 0.1, 0, 1))
    targets_s = ref.style_targets(TINY, style)
    _, (expected,) = ref.value_and_grad("transfer_loss", TINY, image, targets_c, targets_s,
                                        weight, 0.3, wrt=(1,))
    _, (actual,) = transfer.value_and_grad("transfer_loss", TINY, image, targets_c, targets_s,
                                           weight, 0.3, wrt=(1,))
    assert actual is not None, "transfer_loss has no gradient with respect to the image"
    expected = np.asarray(expected, np.float64)
    expect_close(np.asarray(actual).reshape(expected.shape), expected,
                 what="the gradient of transfer_loss", rtol=1e-3,
                 scale=float(np.abs(expected).max(initial=1.0)))


@pytest.mark.parametrize("optimizer, learning_rate", [("sgd", 0.02), ("adam", 0.05),
                                                      ("sgd", 50.0)])
def test_style_transfer_steps_match_the_reference(transfer, ref, optimizer, learning_rate):
    rng = np.random.default_rng(7)
    content = rng.uniform(0, 1, (12, 16, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (16, 12, 3)).astype(np.float32) ** 2
    arguments = dict(network=TINY, steps=3, weight=0.6, tv_weight=0.2,
                     learning_rate=learning_rate, optimizer=optimizer, init="noise", seed=3)
    expected = ref.run_style_transfer(content, style, **arguments)
    actual = transfer.run_style_transfer(content, style, **arguments)
    what = f"the image after 3 {optimizer} steps (learning rate {learning_rate})"
    assert actual["tracing_count"] == 1, (
        f"transfer_step was traced {actual['tracing_count']} times, expected once")
    expect_close(actual["losses"], expected["losses"], what=f"the losses of 3 {optimizer} steps",
                 rtol=1e-3, scale=abs(expected["losses"][0]) + 1)
    image = np.asarray(actual["image"])
    if image.min() < 0 or image.max() > 1:
        raise AssertionError(f"{what} has values in [{image.min():.3g}, {image.max():.3g}]: "
                             f"clip the image to [0, 1] after each step")
    expect_close(image, expected["image"], what=what, atol=2e-3, rtol=1e-3)


def test_style_transfer_on_real_sizes_lowers_the_loss(transfer):
    rng = np.random.default_rng(11)
    content = rng.uniform(0, 1, (32, 28, 3)).astype(np.float32)
    style = np.clip(rng.normal(0.5, 0.3, (20, 20, 3)), 0, 1).astype(np.float32)
    result = transfer.run_style_transfer(content, style, network=TINY, steps=25,
                                         learning_rate=0.03, weight=0.8, tv_weight=0.5)
    losses = result["losses"]
    assert losses[-1] < 0.7 * losses[0] and min(losses) >= 0, (
        f"25 steps took the loss from {losses[0]:.4g} to {losses[-1]:.4g}, expected it to fall")
